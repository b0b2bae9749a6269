#!/bin/bash
# t40-keyslot: `evault keyslot list|add|remove`.
. "$(dirname "$0")/lib.sh"

CODE_RE='[A-Z2-7]{4}(-[A-Z2-7]{4}){7}'
passfile p1 "first keyslot passphrase"
passfile p2 "second keyslot passphrase"
passfile p3 "third keyslot passphrase"
mkvault v p1
id=$(cat out)

# slots_where FILE SQL-CONDITION: how many keyslots in FILE match.
slots_where() {
    sqlite3 :memory: "select count(*) from json_each(readfile('$1'), '\$.keyslots') where $2"
}
# slot_is FILE INDEX COND: slot INDEX is listed and matches COND.
slot_is() {
    local n
    n=$(slots_where "$1" "json_extract(value, '\$.index') = $2 and ($3)")
    if [ "$n" != 1 ]; then
        echo "#   no keyslot $2 with $3 in '$1'"
        diag "$1"
        return 1
    fi
}
slot_absent() {
    local n
    n=$(slots_where "$1" "json_extract(value, '\$.index') = $2")
    [ "$n" = 0 ] || { echo "#   keyslot $2 is listed in '$1'"; return 1; }
}

# --- list -----------------------------------------------------------------------
expect_exit 0 "keyslot list (human)" -- evault -f v keyslot list --passphrase-file p1
check "... heading 'keyslots (8):'" -- contains out "keyslots (8):"
check "... 8 slot lines" -- test "$(grep -cE '^  [0-7]  ' out)" = 8
check "... slot 0 is a passphrase" -- grep -qE '^  0  passphrase ' out
check "... slot 1 is empty" -- grep -qx '  1  empty' out
expect_exit 0 "keyslot list --json" -- \
    evault -f v keyslot list --json --passphrase-file p1
check "... valid JSON" -- json_valid out
check "... with the vault id" -- json_is out '$.vault_id' "$id"
check "... one slot listed" -- slot_count out 1

# --- add a passphrase ---------------------------------------------------------------
expect_exit 0 "keyslot add (passphrase) with a label" -- \
    evault -f v keyslot add --label "second officer" --kdf test \
    --passphrase-file p1 --new-passphrase-file p2
check "... prints the new slot's index alone (1)" -- matches out 1
expect_exit 0 "the new passphrase opens the vault" -- \
    evault -f v keyslot list --json --passphrase-file p2
check "... through slot 1" -- \
    slot_is out 1 "json_extract(value, '\$.unlocked_this_session') = 1"
check "... labelled 'second officer'" -- \
    slot_is out 1 "json_extract(value, '\$.label') = 'second officer'"
check "... of type passphrase with the test profile" -- \
    slot_is out 1 "json_extract(value, '\$.type') = 'passphrase' and json_extract(value, '\$.kdf.profile') = 'test'"
check "... and slot 0 is not the one unlocked" -- \
    slot_is out 0 "json_extract(value, '\$.unlocked_this_session') = 0"
expect_exit 0 "the first passphrase still opens it" -- \
    evault -f v info --passphrase-file p1

expect_exit 2 "keyslot add without a new passphrase source, no terminal: exit 2" -- \
    evault -f v keyslot add --kdf test --passphrase-file p1
check "... nothing printed on stdout" -- empty out

label112=$(printf 'L%.0s' $(seq 112))
expect_exit 2 "a 113-byte --label is a usage error" -- \
    evault -f v keyslot add --label "${label112}x" --kdf test \
    --passphrase-file p1 --new-passphrase-file p3
expect_exit 0 "keyslot count unchanged by the refused adds" -- \
    evault -f v keyslot list --json --passphrase-file p1
check "... (2)" -- slot_count out 2

# --- add a recovery code -------------------------------------------------------------
expect_exit 0 "keyslot add --recovery" -- \
    evault -f v keyslot add --recovery --passphrase-file p1
cp out code
check "... prints the code alone on stdout" -- matches code "$CODE_RE"
check "... stderr says it is shown only once" -- contains err "only this once"
check "... stderr names the slot (2)" -- contains err "keyslot 2"
check "... and does not repeat the code" -- lacks err "$(cut -c1-9 code)"
expect_exit 0 "keyslot list shows the recovery slot" -- \
    evault -f v keyslot list --json --passphrase-file p1
check "... slot 2 is a recovery code labelled 'recovery code'" -- \
    slot_is out 2 "json_extract(value, '\$.type') = 'recovery' and json_extract(value, '\$.label') = 'recovery code'"
check "... without KDF parameters" -- \
    slot_is out 2 "json_extract(value, '\$.kdf') is null"
check "... and the code does not appear in the listing" -- \
    lacks out "$(cut -c1-9 code)"
expect_exit 0 "keyslot list (human) shows the recovery slot" -- \
    evault -f v keyslot list --passphrase-file p1
check "... line for slot 2" -- grep -qE '^  2  recovery ' out

expect_exit 0 "the recovery code opens the vault (--passphrase-file)" -- \
    evault -f v keyslot list --json --passphrase-file code
check "... through slot 2" -- \
    slot_is out 2 "json_extract(value, '\$.unlocked_this_session') = 1"
tr 'A-Z' 'a-z' <code >code.lower
expect_exit 0 "the recovery code in lower case opens the vault" -- \
    evault -f v info --passphrase-file code.lower
tr -d '-' <code >code.nodash
expect_exit 0 "the recovery code without dashes opens the vault" -- \
    evault -f v info --passphrase-file code.nodash
tr '-' ' ' <code >code.spaces
expect_exit 0 "the recovery code with spaces for dashes opens the vault" -- \
    evault -f v info --passphrase-file code.spaces
# A code of the right form but one character different.
c1=$(cut -c1 code)
if [ "$c1" = A ]; then r=B; else r=A; fi
{ printf '%s' "$r"; cut -c2- code; } >code.bad
expect_exit 3 "a recovery code with one character changed: exit 3" -- \
    evault -f v info --passphrase-file code.bad
expect_exit 2 "keyslot add --recovery --kdf is a usage error" -- \
    evault -f v keyslot add --recovery --kdf test --passphrase-file p1

expect_exit 0 "after unlocking with the recovery code, add a passphrase" -- \
    evault -f v keyslot add --kdf test --passphrase-file code \
    --new-passphrase-file p3
check "... in slot 3" -- matches out 3
expect_exit 0 "... which opens the vault" -- evault -f v info --passphrase-file p3

# The code is shown only once: if it cannot be written, the command must
# fail and leave no keyslot behind that nobody can use.
expect_exit 0 "slots before a recovery add with stdout on a full disk" -- \
    evault -f v keyslot list --json --passphrase-file p1
cp out before-full.json
EV_STDOUT=/dev/full expect_exit 1 \
    "keyslot add --recovery with stdout on /dev/full fails (exit 1)" -- \
    evault -f v keyslot add --recovery --passphrase-file p1
check "... and does not claim the code was shown" -- lacks err "only this once"
expect_exit 0 "... keyslots afterwards" -- \
    evault -f v keyslot list --json --passphrase-file p1
cp out after-full.json
check "... no recovery slot was left behind" -- \
    test "$(slots_where after-full.json 1)" = "$(slots_where before-full.json 1)"
# Put the vault back as it was if that left a slot, so later indices hold.
for i in 4 5 6 7; do
    if slot_is after-full.json $i "json_extract(value, '\$.type') = 'recovery'" >/dev/null; then
        run_cmd evault -f v keyslot remove $i --passphrase-file p1
    fi
done

# --- remove ---------------------------------------------------------------------------
expect_exit 0 "keyslot remove 1" -- evault -f v keyslot remove 1 --passphrase-file p1
check "... says so on stderr" -- contains err "keyslot 1 removed"
check "... and nothing on stdout" -- empty out
expect_exit 3 "the removed passphrase no longer opens the vault" -- \
    evault -f v info --passphrase-file p2
expect_exit 0 "keyslot list after the removal" -- \
    evault -f v keyslot list --json --passphrase-file p1
check "... slot 1 is gone" -- slot_absent out 1
check "... three slots left" -- slot_count out 3
expect_exit 1 "removing an empty slot (1 again): exit 1" -- \
    evault -f v keyslot remove 1 --passphrase-file p1
check "... says it is empty" -- contains err "empty"
expect_exit 1 "removing a never-used slot (6): exit 1" -- \
    evault -f v keyslot remove 6 --passphrase-file p1

expect_exit 0 "remove the recovery slot (2)" -- \
    evault -f v keyslot remove 2 --passphrase-file p1
expect_exit 3 "the removed recovery code no longer opens the vault" -- \
    evault -f v info --passphrase-file code

cp v v.orig
for bad in 8 -1 abc 1x "" 99999999999999999999; do
    expect_exit 2 "keyslot remove '$bad' is a usage error" -- \
        evault -f v keyslot remove "$bad" --passphrase-file p1
done
check "... and none of them changed the vault" -- same_file v v.orig
# Arguments are checked before the vault is unlocked (as init checks --kdf
# and keyslot add checks --label): a bad slot number is a usage error even
# with a wrong passphrase, and a user at a terminal is not asked for one.
passfile wrongpass "not any keyslot passphrase"
expect_exit 2 "keyslot remove abc with a wrong passphrase is still a usage error" -- \
    evault -f v keyslot remove abc --passphrase-file wrongpass
expect_exit 2 "keyslot remove without a number: exit 2" -- \
    evault -f v keyslot remove --passphrase-file p1
expect_exit 2 "keyslot remove with two numbers: exit 2" -- \
    evault -f v keyslot remove 0 3 --passphrase-file p1
expect_exit 2 "an unknown keyslot subcommand: exit 2" -- \
    evault -f v keyslot delete 3 --passphrase-file p1
expect_exit 2 "keyslot without a subcommand: exit 2" -- \
    evault -f v keyslot --passphrase-file p1
expect_exit 2 "keyslot list with a stray argument: exit 2" -- \
    evault -f v keyslot list extra --passphrase-file p1
check "usage errors leave the vault unchanged" -- same_file v v.orig

# Remove the slot that unlocked the vault: allowed while another remains.
expect_exit 0 "remove slot 3 while unlocked with it" -- \
    evault -f v keyslot remove 3 --passphrase-file p3
expect_exit 3 "... its passphrase no longer works" -- \
    evault -f v info --passphrase-file p3

# --- the last slot ---------------------------------------------------------------
expect_exit 0 "one slot left" -- evault -f v keyslot list --json --passphrase-file p1
check "... (slot 0)" -- slot_count out 1
cp v v.last
expect_exit 1 "removing the last slot is refused" -- \
    evault -f v keyslot remove 0 --passphrase-file p1
check "... saying it is the last one" -- contains err "last"
check "... vault unchanged" -- same_file v v.last
expect_exit 0 "... and it still opens" -- evault -f v info --passphrase-file p1

# --- all 8 slots -------------------------------------------------------------------
n=0
for i in 1 2 3 4 5 6 7; do
    run_cmd evault -f v keyslot add --recovery --passphrase-file p1 && n=$((n + 1))
done
check "seven recovery codes added" -- test "$n" = 7
expect_exit 0 "all 8 slots in use" -- \
    evault -f v keyslot list --json --passphrase-file p1
check "... (8 listed)" -- slot_count out 8
cp v v.full
expect_exit 1 "keyslot add with all 8 slots in use is refused" -- \
    evault -f v keyslot add --kdf test --passphrase-file p1 \
    --new-passphrase-file p2
check "... saying all keyslots are in use" -- contains err "all 8 keyslots"
check "... nothing on stdout" -- empty out
expect_exit 1 "keyslot add --recovery with all 8 in use is refused" -- \
    evault -f v keyslot add --recovery --passphrase-file p1
check "... and prints no code" -- empty out
check "the refused adds left the vault unchanged" -- same_file v v.full
expect_exit 3 "... the refused passphrase does not open it" -- \
    evault -f v info --passphrase-file p2
expect_exit 0 "verify is clean after all these changes" -- \
    evault -f v verify --passphrase-file p1

done_testing

#!/bin/bash
# t180-partner: `evault partner add|list|remove` (issue 5). Partners from an
# evault card (self-signature and fingerprint checked; any changed byte
# refused) and from the keys the standard `age-keygen` and `minisign -G`
# make; confirmation refused without a terminal unless --yes; duplicates,
# the vault's own key, bad keys and bad names refused with nothing logged;
# add and remove logged in the custody log.
. "$(dirname "$0")/lib.sh"

command -v minisign >/dev/null || bail "minisign is not installed (make deps)"
command -v age-keygen >/dev/null || bail "age is not installed (make deps)"

passfile p "partner test passphrase"
mkvault a p --name "Org A"
mkvault b p --name "Partner B"
export EVAULT_PASSPHRASE_FILE=p

# --- a card ---------------------------------------------------------------
expect_exit 0 "partner B writes its card" -- evault -f b identity --card b.card
expect_exit 0 "... and shows its identity as JSON" -- evault -f b identity --json
cp out b.id.json
BFPR=$(json_get b.id.json '$.fingerprint')
BKEY=$(json_get b.id.json '$.minisign_public_key')
BREC=$(json_get b.id.json '$.age_recipient')
BVID=$(json_get b.id.json '$.vault_id')

cp a a.before
expect_exit 2 "add --card without --yes and without a terminal is refused" -- \
    evault -f a partner add B --card b.card
check "... and says to compare the fingerprint" -- contains err "$BFPR"
check "... and changes nothing" -- cmp -s a a.before
expect_exit 0 "add --card --yes" -- evault -f a partner add B --card b.card --yes
check "... shows the card's fingerprint" -- contains out "$BFPR"
check "... and its vault id" -- contains out "$BVID"
expect_exit 0 "partner list --json" -- evault -f a partner list --json
cp out list.json
check "... one partner" -- json_is list.json '$.partners[#-1].name' B
check "... with the card's keys" -- json_is list.json '$.partners[0].minisign_public_key' "$BKEY"
check "... and age recipient" -- json_is list.json '$.partners[0].age_recipient' "$BREC"
check "... and vault id" -- json_is list.json '$.partners[0].vault_id' "$BVID"
check "... from a card" -- json_is list.json '$.partners[0].origin' card
PUUID=$(json_get list.json '$.partners[0].uuid')
expect_exit 0 "the add is in the custody log" -- evault -f a log --object "$PUUID" --json
check "... as 'create partner'" -- json_is out '$.entries[0].action' create
check "... naming the key" -- contains out "$BKEY"

expect_exit 1 "the same name again is refused" -- evault -f a partner add B --card b.card --yes
check "... saying it exists" -- contains err "exists already"
expect_exit 1 "the same key under another name is refused" -- \
    evault -f a partner add B2 --card b.card --yes
check "... naming the partner that has it" -- contains err "partner 'B'"

# every changed byte of the card is refused (a sample of positions)
size=$(stat -c %s b.card)
for pos in 0 5 30 60 90 120 150 200 250 300 $((size - 20)) $((size - 2)); do
    cp b.card bad.card
    flip_byte bad.card "$pos"
    cp a a.before
    run_cmd evault -f a partner add "Bad$pos" --card bad.card --yes
    rc=$?
    check "card with byte $pos changed is refused (exit 1 or 4)" -- \
        test "$rc" = 1 -o "$rc" = 4
    check "... and the vault is unchanged" -- cmp -s a a.before
done
printf 'not a card\n' >junk.card
expect_exit 1 "a file that is not a card is refused" -- \
    evault -f a partner add J --card junk.card --yes
check "... saying so" -- contains err "not an evault partner card"
mkfifo fifo.card
expect_exit 1 "a FIFO is refused without blocking" -- \
    evault -f a partner add F --card fifo.card --yes
expect_exit 0 "A writes its own card" -- evault -f a identity --card a.card
expect_exit 1 "the vault's own card is refused" -- \
    evault -f a partner add Self --card a.card --yes
check "... saying it is this vault's key" -- contains err "this vault's own key"

# --- keys from the standard tools ------------------------------------------
age-keygen -o c.key 2>/dev/null
CREC=$(age-keygen -y c.key)
minisign -G -W -f -p c.pub -s c.sec >/dev/null 2>&1
expect_exit 0 "add from age-keygen and minisign -G keys (.pub file)" -- \
    evault -f a partner add C --age-recipient "$CREC" --minisign-key c.pub --yes
check "... shows 'from keys'" -- contains out "from keys"
check "... and no vault id" -- contains out "(not an evault card)"
minisign -G -W -f -p d.pub -s d.sec >/dev/null 2>&1
expect_exit 0 "add from the key line itself" -- \
    evault -f a partner add D --age-recipient "$CREC" --minisign-key "$(tail -n 1 d.pub)" --yes
expect_exit 1 "a bad age recipient is refused" -- \
    evault -f a partner add E --age-recipient "age1xyz" --minisign-key c.pub --yes
check "... saying what to give" -- contains err "age-keygen"
expect_exit 1 "an age secret key as recipient is refused" -- \
    evault -f a partner add E --age-recipient "$(grep AGE-SECRET c.key)" --minisign-key c.pub --yes
expect_exit 1 "a minisign key that is not a valid point (all zeros) is refused" -- \
    evault -f a partner add E --age-recipient "$CREC" --minisign-key "RWQ$(printf 'A%.0s' $(seq 53))" --yes
expect_exit 1 "a malformed minisign key is refused" -- \
    evault -f a partner add E --age-recipient "$CREC" --minisign-key "RWQ$(printf 'A%.0s' $(seq 52))!" --yes
expect_exit 1 "a minisign secret key file is refused" -- \
    evault -f a partner add E --age-recipient "$CREC" --minisign-key c.sec --yes
expect_exit 2 "add with both a card and keys is a usage error" -- \
    evault -f a partner add E --card b.card --age-recipient "$CREC" --minisign-key c.pub --yes
expect_exit 2 "add with half of the keys is a usage error" -- \
    evault -f a partner add E --age-recipient "$CREC" --yes
expect_exit 1 "a name with a control character is refused" -- \
    evault -f a partner add "$(printf 'E\tF')" --age-recipient "$CREC" --minisign-key d.pub --yes
expect_exit 1 "a name starting with '-' is refused" -- \
    evault -f a partner add --age-recipient "$CREC" --minisign-key d.pub --yes -- -E

expect_exit 0 "list (human)" -- evault -f a partner list
check "... has B, C and D" -- eval 'grep -q " B$" out && grep -q " C$" out && grep -q " D$" out'
check "... and not the refused ones" -- lacks out "Bad"

# --- remove -----------------------------------------------------------------
expect_exit 0 "remove C" -- evault -f a partner remove C
expect_exit 1 "remove C again: no such partner" -- evault -f a partner remove C
check "... saying so" -- contains err "no partner 'C'"
expect_exit 0 "list --json after remove" -- evault -f a partner list --json
check "... C is gone" -- lacks out '"name":"C"'
expect_exit 0 "the removal is in the log" -- evault -f a log --json
check "... as 'remove partner'" -- contains out '"action":"remove","object_type":"partner"'
expect_exit 0 "verify still holds" -- evault -f a verify

expect_exit 2 "partner without a subcommand is a usage error" -- evault -f a partner
expect_exit 2 "an unknown subcommand is a usage error" -- evault -f a partner frobnicate
expect_exit 0 "partner --help" -- evault partner --help
check "... mentions --card" -- contains out "--card"

done_testing

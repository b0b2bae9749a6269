#!/bin/bash
# t50-shred: `evault shred` crypto-erases a vault without its passphrase,
# and refuses whatever is not clearly meant.
. "$(dirname "$0")/lib.sh"

passfile p1 "shred test passphrase"
passfile p2 "shred second passphrase"
mkvault v p1
run_cmd evault -f v keyslot add --kdf test --passphrase-file p1 \
    --new-passphrase-file p2 || bail "cannot add a passphrase slot"
run_cmd evault -f v keyslot add --recovery --passphrase-file p1 ||
    bail "cannot add a recovery slot"
cp out code
cp v v.orig

# --- refusals first -------------------------------------------------------------
expect_exit 2 "shred without --yes and without a terminal: exit 2" -- \
    evault -f v shred
check "... says why (needs --yes)" -- contains err "--yes"
check "... nothing on stdout" -- empty out
check "... vault byte for byte unchanged" -- same_file v v.orig
expect_exit 0 "... and it still opens" -- evault -f v info --passphrase-file p1
expect_exit 2 "shred without --yes, no terminal, stdin not a tty either" -- \
    evault -f v shred </dev/null
check "... vault unchanged" -- same_file v v.orig
expect_exit 2 "shred with a stray argument: exit 2" -- \
    evault -f v shred --yes extra
check "... vault unchanged" -- same_file v v.orig
expect_exit 2 "shred with an unknown option: exit 2" -- \
    evault -f v shred --force
check "... vault unchanged" -- same_file v v.orig
expect_exit 2 "shred --yes without a vault: exit 2" -- evault shred --yes

# On a terminal, shred asks; anything but yes keeps the vault.
if command -v script >/dev/null; then
    printf 'n\n' >answer-no
    expect_exit 1 "shred on a terminal, answer 'n': not shredded (exit 1)" -- \
        script -qec "evault -f v shred" /dev/null <answer-no
    check "... the question was asked" -- contains out "[y/N]"
    check "... vault unchanged" -- same_file v v.orig
    printf '\n' >answer-empty
    expect_exit 1 "shred on a terminal, empty answer: not shredded" -- \
        script -qec "evault -f v shred" /dev/null <answer-empty
    check "... vault unchanged" -- same_file v v.orig
else
    ok "# skip script(1) not installed: no terminal tests"
fi

ln -s v vlink
expect_exit 1 "shred --yes through a symlink is refused" -- \
    evault -f vlink shred --yes
check "... the vault behind it is unchanged" -- same_file v v.orig

# --- not a vault ------------------------------------------------------------------
echo "a short note that is not a vault" >small.txt
cp small.txt small.orig
expect_exit 1 "shred --yes of a small non-vault file is refused" -- \
    evault -f small.txt shred --yes
check "... saying it is not an evault file" -- contains err "not an evault file"
check "... file unchanged" -- same_file small.txt small.orig

for i in $(seq 500); do echo "line $i of the case notes, not a vault"; done \
    >notes.txt
cp notes.txt notes.orig
expect_exit "1|3" "shred --yes of a larger text file (not page-aligned) is refused" -- \
    evault -f notes.txt shred --yes
check "... file unchanged" -- same_file notes.txt notes.orig

sqlite3 plain.db "create table t(x); insert into t values ('evidence');"
cp plain.db plain.orig
expect_exit "1|3" "shred --yes of a plain SQLite database is refused" -- \
    evault -f plain.db shred --yes
check "... file unchanged" -- same_file plain.db plain.orig

expect_exit 1 "shred --yes of a missing file: exit 1" -- \
    evault -f no-such-vault shred --yes
check "... does not create it" -- test ! -e no-such-vault
mkdir adir
expect_exit 1 "shred --yes of a directory: exit 1" -- evault -f adir shred --yes

# --- shred ------------------------------------------------------------------------
: >v-journal
expect_exit 0 "shred --yes needs no passphrase" -- evault -f v shred --yes
check "... says it is shredded (stderr)" -- contains err "shredded"
check "... nothing on stdout" -- empty out
check "... the file is still there, same size" -- \
    test "$(stat -c %s v)" = "$(stat -c %s v.orig)"
check "... the keyslot region (first 4096 bytes) is rewritten" -- \
    test "$(cmp -n 4096 v v.orig | wc -l)" = 1
check "... ... entirely (no 512-byte slot left as it was)" -- \
    test "$(for s in 0 1 2 3 4 5 6 7; do
        cmp -s -i $((s * 512)):$((s * 512)) -n 512 v v.orig && echo same
    done | wc -l)" = 0
check "... the pages after it are left as they were" -- \
    cmp -s -i 4096:4096 v v.orig
check "... a leftover journal is removed" -- test ! -e v-journal
expect_exit 3 "after shred the first passphrase fails: exit 3" -- \
    evault -f v info --passphrase-file p1
check "... 'cannot unlock'" -- contains err "cannot unlock"
expect_exit 3 "after shred the second passphrase fails: exit 3" -- \
    evault -f v info --passphrase-file p2
expect_exit 3 "after shred the recovery code fails: exit 3" -- \
    evault -f v info --passphrase-file code
expect_exit 3 "after shred verify cannot unlock: exit 3" -- \
    evault -f v verify --passphrase-file p1
expect_exit 0 "shredding again (-y) is harmless" -- evault -f v shred -y
expect_exit 3 "... and still nothing opens it" -- \
    evault -f v info --passphrase-file p1

# On a terminal, answering y shreds.
if command -v script >/dev/null; then
    mkvault w p1
    printf 'y\n' >answer-yes
    expect_exit 0 "shred on a terminal, answer 'y': shredded" -- \
        script -qec "evault -f w shred" /dev/null <answer-yes
    expect_exit 3 "... the passphrase fails afterwards" -- \
        evault -f w info --passphrase-file p1
else
    ok "# skip script(1) not installed: no terminal tests"
fi

done_testing

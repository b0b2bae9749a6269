#!/bin/bash
# t30-passwd: `evault passwd` replaces the passphrase that unlocked the vault.
. "$(dirname "$0")/lib.sh"

passfile old "old passphrase 1"
passfile new "new passphrase 2"
passfile newer "newer passphrase 3"
passfile other "some other passphrase"
mkvault v old

expect_exit 0 "add a recovery code" -- \
    evault -f v keyslot add --recovery --passphrase-file old
cp out code
expect_exit 0 "keyslots before passwd" -- \
    evault -f v keyslot list --json --passphrase-file old
cp out before.json
check "... two slots in use" -- slot_count before.json 2

expect_exit 0 "passwd --passphrase-file OLD --new-passphrase-file NEW" -- \
    evault -f v passwd --passphrase-file old --new-passphrase-file new
check "... says the passphrase changed (stderr)" -- \
    contains err "passphrase changed"
check "... prints nothing on stdout" -- empty out
expect_exit 3 "the old passphrase no longer opens the vault" -- \
    evault -f v info --passphrase-file old
check "... 'cannot unlock'" -- contains err "cannot unlock"
expect_exit 0 "the new passphrase opens it" -- \
    evault -f v keyslot list --json --passphrase-file new
cp out after.json
check "keyslot count unchanged (2)" -- slot_count after.json 2
check "the new passphrase slot keeps the label 'initial passphrase'" -- \
    test "$(sqlite3 :memory: "select count(*) from json_each(readfile('after.json'), '\$.keyslots') where json_extract(value, '\$.label') = 'initial passphrase' and json_extract(value, '\$.type') = 'passphrase'")" = 1
check "... and its KDF cost (test profile)" -- \
    test "$(sqlite3 :memory: "select count(*) from json_each(readfile('after.json'), '\$.keyslots') where json_extract(value, '\$.kdf.profile') = 'test'")" = 1
check "the recovery slot is still there" -- \
    test "$(sqlite3 :memory: "select count(*) from json_each(readfile('after.json'), '\$.keyslots') where json_extract(value, '\$.type') = 'recovery'")" = 1
expect_exit 0 "the recovery code still opens the vault" -- \
    evault -f v info --passphrase-file code
expect_exit 0 "verify is clean after passwd" -- \
    evault -f v verify --passphrase-file new

expect_exit 0 "passwd again, changing the KDF profile to interactive" -- \
    evault -f v passwd --kdf interactive --passphrase-file new \
    --new-passphrase-file newer
expect_exit 0 "... the newer passphrase opens" -- \
    evault -f v keyslot list --json --passphrase-file newer
check "... with the interactive profile" -- \
    test "$(sqlite3 :memory: "select count(*) from json_each(readfile('out'), '\$.keyslots') where json_extract(value, '\$.kdf.profile') = 'interactive'")" = 1
check "... still two slots" -- slot_count out 2
expect_exit 3 "... the previous one does not" -- \
    evault -f v info --passphrase-file new

# --- refusals -------------------------------------------------------------------
cp v v.orig
expect_exit 1 "passwd after unlocking with a recovery code is refused" -- \
    evault -f v passwd --passphrase-file code --new-passphrase-file other
check "... saying it was unlocked with a recovery code" -- \
    contains err "recovery code"
check "... and pointing to 'evault keyslot add'" -- contains err "keyslot add"
check "... vault unchanged" -- same_file v v.orig
expect_exit 3 "... the would-be passphrase does not open it" -- \
    evault -f v info --passphrase-file other
expect_exit 0 "... the passphrase still does" -- \
    evault -f v info --passphrase-file newer

expect_exit 3 "passwd with a wrong current passphrase: exit 3" -- \
    evault -f v passwd --passphrase-file other --new-passphrase-file new
check "... vault unchanged" -- same_file v v.orig

: >empty
expect_exit 1 "passwd to an empty passphrase is refused" -- \
    evault -f v passwd --passphrase-file newer --new-passphrase-file empty
check "... saying it is empty" -- contains err "empty"
check "... vault unchanged" -- same_file v v.orig

expect_exit 2 "passwd with no new passphrase source and no terminal: exit 2" -- \
    evault -f v passwd --passphrase-file newer
check "... vault unchanged" -- same_file v v.orig

expect_exit 2 "passwd --kdf with an unknown profile: exit 2" -- \
    evault -f v passwd --kdf huge --passphrase-file newer \
    --new-passphrase-file new
expect_exit 2 "passwd with a stray argument: exit 2" -- \
    evault -f v passwd extra --passphrase-file newer --new-passphrase-file new
check "usage errors leave the vault unchanged" -- same_file v v.orig

# --- passwd needs one free slot --------------------------------------------------
for i in 1 2 3 4 5 6; do
    run_cmd evault -f v keyslot add --recovery --passphrase-file newer ||
        bail "cannot add recovery slot $i"
done
expect_exit 0 "all 8 slots in use" -- \
    evault -f v keyslot list --json --passphrase-file newer
check "... (8 listed)" -- slot_count out 8
cp v v.full
expect_exit 1 "passwd with all slots in use is refused" -- \
    evault -f v passwd --passphrase-file newer --new-passphrase-file new
check "... saying a free slot is needed" -- contains err "free"
check "... vault unchanged" -- same_file v v.full
expect_exit 0 "... the passphrase still opens it" -- \
    evault -f v info --passphrase-file newer

done_testing

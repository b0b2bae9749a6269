#!/bin/bash
# t20-info: `evault info`, human and --json, and what it does with files
# that are not vaults or with the wrong passphrase.
. "$(dirname "$0")/lib.sh"

passfile p "info test passphrase"
passfile wrong "info test passphrasE"
mkvault v p --name "Evidence Unit 7"
id=$(cat out)
cp v v.orig

# --- human ---------------------------------------------------------------------
expect_exit 0 "info (human) exits 0" -- evault -f v info --passphrase-file p
check "... shows the vault id" -- contains out "vault id:        $id"
check "... shows the name" -- contains out "name:            Evidence Unit 7"
check "... shows the format version" -- contains out "format version:  1"
check "... shows the schema version" -- grep -qE '^schema version: +[1-9]' out
check "... shows the page size" -- contains out "page size:       16384"
check "... shows the file size" -- \
    contains out "size:            $(stat -c %s v) bytes"
check "... lists all 8 keyslots" -- contains out "keyslots (8):"
check "... slot 0 is the initial passphrase, unlocked now" -- \
    grep -qE '^  0  passphrase .*"initial passphrase"  \(unlocked now\)$' out
check "... slot 7 is empty" -- grep -qx '  7  empty' out
check "... says nothing on stderr" -- empty err
check "... does not show the passphrase" -- lacks out "info test"

# --- JSON ----------------------------------------------------------------------
expect_exit 0 "info --json exits 0" -- evault -f v info --json --passphrase-file p
cp out info.json
check "... prints one valid JSON document" -- json_valid info.json
check "... vault_id is the id init printed" -- json_is info.json '$.vault_id' "$id"
check "... name" -- json_is info.json '$.name' "Evidence Unit 7"
check "... format_version is the integer 1" -- \
    json_type_is info.json '$.format_version' integer
check "... format_version = 1" -- json_is info.json '$.format_version' 1
check "... schema_version is an integer" -- \
    json_type_is info.json '$.schema_version' integer
check "... schema_version >= 1" -- \
    test "$(json_get info.json '$.schema_version')" -ge 1
check "... page_size = 16384" -- json_is info.json '$.page_size' 16384
check "... file_size is the size of the file" -- \
    json_is info.json '$.file_size' "$(stat -c %s v)"
check "... page_count matches the file size" -- \
    json_is info.json '$.page_count' $((($(stat -c %s v) - 4096) / 16384))
check "... created is an ISO 8601 UTC time" -- \
    grep -qE '"created":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"' \
    info.json
check "... keyslots is an array" -- json_type_is info.json '$.keyslots' array
check "... listing the one slot in use" -- slot_count info.json 1
check "... slot 0" -- json_is info.json '$.keyslots[0].index' 0
check "... of type passphrase" -- json_is info.json '$.keyslots[0].type' passphrase
check "... labelled 'initial passphrase'" -- \
    json_is info.json '$.keyslots[0].label' "initial passphrase"
check "... with the test KDF profile" -- \
    json_is info.json '$.keyslots[0].kdf.profile' test
check "... argon2id" -- json_is info.json '$.keyslots[0].kdf.algorithm' argon2id
check "... unlocked this session (true)" -- \
    json_type_is info.json '$.keyslots[0].unlocked_this_session' true
check "... no passphrase in the JSON" -- lacks info.json "info test"
expect_exit 0 "--json before the command works too" -- \
    evault --json -f v info --passphrase-file p
check "... same document apart from nothing" -- json_valid out
check "... same vault id" -- json_is out '$.vault_id' "$id"
check "info leaves the vault file unchanged" -- same_file v v.orig

# --- wrong passphrase -----------------------------------------------------------
expect_exit 3 "wrong passphrase (one letter's case): exit 3" -- \
    evault -f v info --passphrase-file wrong
check "... says 'cannot unlock'" -- contains err "cannot unlock"
check "... names the file" -- contains err "'v'"
check "... prints nothing on stdout" -- empty out
check "... does not echo the passphrase" -- lacks err "passphrasE"
expect_exit 3 "wrong passphrase with --json: exit 3" -- \
    evault -f v info --json --passphrase-file wrong
check "... and nothing on stdout" -- empty out
check "failed unlocks leave the vault unchanged" -- same_file v v.orig

# --- missing files and non-vaults -------------------------------------------------
expect_exit 1 "missing vault file: exit 1" -- \
    evault -f no-such-vault info --passphrase-file p
check "... names the file" -- contains err "no-such-vault"
check "... prints nothing on stdout" -- empty out
check "... and does not create it" -- test ! -e no-such-vault

head -c 65536 /dev/urandom >random.bin
cp random.bin random.orig
expect_exit 3 "random bytes (64 KiB): exit 3" -- \
    evault -f random.bin info --passphrase-file p
check "... says 'cannot unlock'" -- contains err "cannot unlock"
check "... prints nothing on stdout" -- empty out
check "... leaves the file unchanged" -- same_file random.bin random.orig
check "... and makes no journal" -- test ! -e random.bin-journal

: >empty.bin
expect_exit 3 "an empty file: exit 3" -- evault -f empty.bin info --passphrase-file p
check "... says 'cannot unlock'" -- contains err "cannot unlock"
check "... and stays empty" -- empty empty.bin

for i in $(seq 400); do echo "line $i of an ordinary text file"; done >text.txt
cp text.txt text.orig
expect_exit 3 "a text file: exit 3" -- evault -f text.txt info --passphrase-file p
check "... says 'cannot unlock'" -- contains err "cannot unlock"
check "... leaves it unchanged" -- same_file text.txt text.orig

sqlite3 plain.db "create table t(x); insert into t values ('not a vault');"
cp plain.db plain.orig
expect_exit 3 "a plain SQLite database: exit 3" -- \
    evault -f plain.db info --passphrase-file p
check "... leaves it unchanged" -- same_file plain.db plain.orig

mkdir adir
expect_exit 3 "a directory: exit 3" -- evault -f adir info --passphrase-file p

head -c 4096 v >region-only
expect_exit "3|4" "only the keyslot region of a vault (4096 bytes): exit 3 or 4" -- \
    evault -f region-only info --passphrase-file p

# --- usage ------------------------------------------------------------------------
expect_exit 2 "info with a stray argument: exit 2" -- \
    evault -f v info extra --passphrase-file p
check "... prints the usage on stderr" -- contains err "usage: evault"
check "... and nothing on stdout" -- empty out
expect_exit 2 "info with an unknown option: exit 2" -- \
    evault -f v info --verbose --passphrase-file p
expect_exit 2 "info without a vault: exit 2" -- evault info --passphrase-file p

done_testing

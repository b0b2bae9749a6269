#!/bin/bash
# t165-migrate: a vault made before schema 3 (no identity, no custody log,
# no seals) opens in this evault: migrations 3 and 4 run at the first
# unlock, the vault gets an identity, the log starts with an entry saying
# it was added to an existing vault, the records are all still there, and
# verify holds. The old vault is made by rolling a new one back to schema
# 2 below the CLI ($EVAULT_TAMPER: the vault's own connection, triggers
# off): drop what migrations 3 to 5 created and set user_version = 2.
. "$(dirname "$0")/lib.sh"

[ -x "${EVAULT_TAMPER:-}" ] || bail "\$EVAULT_TAMPER is not set"
passfile p "migration test passphrase"
mkvault v p --name "Old Org"
export EVAULT_FILE=v EVAULT_PASSPHRASE_FILE=p
run_cmd evault incident add --title "Before the upgrade" --type arrest --tag old
run_cmd evault actor add --name "Old Actor"
run_cmd evault link 1 1 --role victim
printf 'old evidence\n' >old.txt
run_cmd evault evidence add 1 old.txt
expect_exit 0 "the vault before the roll-back" -- evault incident show 1 --json
cp out before.json

expect_exit 0 "names of the triggers migration 3 made" -- \
    evault sql "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND (name LIKE '%seal%' OR name LIKE 'custody%' OR name LIKE 'identity%')"
drops=$(tail -n +2 out | sed 's/.*/DROP TRIGGER "&";/' | tr -d '\n')
check "... there are some" -- test -n "$drops"
"$EVAULT_TAMPER" v p "$drops DROP TABLE received_seal; DROP TABLE provenance; DROP TABLE bundle_import; DROP VIEW sealed_incident; DROP TABLE seal; DROP TABLE custody; DROP TABLE identity; DROP TABLE partner; DROP INDEX incident_by_supersedes; ALTER TABLE incident DROP COLUMN supersedes; PRAGMA user_version = 2" 2>tamper.err
rc=$?
check "the vault is rolled back to schema 2" -- test "$rc" -eq 0 || diag tamper.err
expect_exit 0 "the old vault opens" -- evault info --json
check "... the first unlock brought it to the latest schema" -- \
    json_is out '$.schema_version' 5
expect_exit 0 "the upgraded vault has an identity" -- evault identity --json
check "... with a minisign key" -- contains out '"minisign_public_key":"RW'
expect_exit 0 "its custody log starts now" -- evault log --json
cp out log.json
check "... entry 1 creates the identity" -- json_is log.json '$.entries[0].action' create
check "... of an existing vault" -- contains log.json "added to an existing vault"
check "... one entry only" -- json_is log.json '$.entries[#-1].seq' 1
expect_exit 0 "the records are unchanged" -- evault incident show 1 --json
check "... byte for byte" -- cmp -s out before.json
expect_exit 0 "it can be sealed now" -- evault seal 1
expect_exit 0 "and verify holds" -- evault verify

done_testing

#!/bin/bash
# t80-contract: the command-line contract shared by every command: where the
# vault and the passphrase come from, in which order, and what happens when
# there is neither an option nor a terminal.
. "$(dirname "$0")/lib.sh"

passfile good "contract passphrase"
passfile bad "not the contract passphrase"
mkvault v good
id=$(cat out)
mkvault w bad
idw=$(cat out)

# --- naming the vault ------------------------------------------------------------
expect_exit 0 "-f FILE before the command" -- \
    evault -f v info --json --passphrase-file good
check "... that vault" -- json_is out '$.vault_id' "$id"
expect_exit 0 "--vault FILE before the command" -- \
    evault --vault v info --json --passphrase-file good
check "... that vault" -- json_is out '$.vault_id' "$id"
expect_exit 0 "--vault=FILE" -- evault --vault=v info --json --passphrase-file good
check "... that vault" -- json_is out '$.vault_id' "$id"
expect_exit 0 "options after the command (info -f v --passphrase-file p)" -- \
    evault info -f v --passphrase-file good --json
check "... that vault" -- json_is out '$.vault_id' "$id"
expect_exit 0 "EVAULT_FILE when no -f/--vault" -- \
    env EVAULT_FILE=v evault info --json --passphrase-file good
check "... that vault" -- json_is out '$.vault_id' "$id"
expect_exit 0 "-f wins over EVAULT_FILE" -- \
    env EVAULT_FILE=v evault -f w info --json --passphrase-file bad
check "... the -f vault" -- json_is out '$.vault_id' "$idw"
expect_exit 0 "--vault after the command wins over EVAULT_FILE" -- \
    env EVAULT_FILE=w evault info --vault v --json --passphrase-file good
check "... the --vault vault" -- json_is out '$.vault_id' "$id"
expect_exit 2 "no vault at all: exit 2" -- evault info --passphrase-file good
check "... says how to name one" -- contains err "EVAULT_FILE"
check "... nothing on stdout" -- empty out
expect_exit 2 "EVAULT_FILE set but empty counts as unset: exit 2" -- \
    env EVAULT_FILE= evault info --passphrase-file good

# --- passphrase sources ---------------------------------------------------------------
expect_exit 0 "--passphrase-file" -- evault -f v info --passphrase-file good
expect_exit 0 "--passphrase-file=FILE" -- evault -f v info --passphrase-file=good
expect_exit 0 "--passphrase-fd 3 (3<file)" -- \
    evault -f v info --passphrase-fd 3 3<good
expect_exit 3 "--passphrase-fd 3 with the wrong passphrase: exit 3" -- \
    evault -f v info --passphrase-fd 3 3<bad
expect_exit 0 "--passphrase-fd 0 reading stdin" -- \
    evault -f v info --passphrase-fd 0 <good
expect_exit 0 "--passphrase-fd from a pipe" -- \
    evault -f v info --passphrase-fd 4 4< <(printf 'contract passphrase\n')
expect_exit 0 "EVAULT_PASSPHRASE_FILE" -- \
    env EVAULT_PASSPHRASE_FILE=good evault -f v info
expect_exit 3 "EVAULT_PASSPHRASE_FILE with the wrong passphrase: exit 3" -- \
    env EVAULT_PASSPHRASE_FILE=bad evault -f v info

# First match wins: --passphrase-file, --passphrase-fd, EVAULT_PASSPHRASE_FILE.
expect_exit 0 "--passphrase-file (right) wins over --passphrase-fd (wrong)" -- \
    evault -f v info --passphrase-fd 3 --passphrase-file good 3<bad
expect_exit 3 "--passphrase-file (wrong) wins over --passphrase-fd (right)" -- \
    evault -f v info --passphrase-fd 3 --passphrase-file bad 3<good
expect_exit 0 "--passphrase-fd (right) wins over EVAULT_PASSPHRASE_FILE (wrong)" -- \
    env EVAULT_PASSPHRASE_FILE=bad evault -f v info --passphrase-fd 3 3<good
expect_exit 3 "--passphrase-fd (wrong) wins over EVAULT_PASSPHRASE_FILE (right)" -- \
    env EVAULT_PASSPHRASE_FILE=good evault -f v info --passphrase-fd 3 3<bad
expect_exit 0 "--passphrase-file (right) wins over EVAULT_PASSPHRASE_FILE (wrong)" -- \
    env EVAULT_PASSPHRASE_FILE=bad evault -f v info --passphrase-file good
expect_exit 3 "--passphrase-file (wrong) wins over EVAULT_PASSPHRASE_FILE (right)" -- \
    env EVAULT_PASSPHRASE_FILE=good evault -f v info --passphrase-file bad

# --- no source and no terminal ---------------------------------------------------------
EV_TIMEOUT=20 expect_exit 2 "no passphrase source, no terminal: exit 2, no hang" -- \
    evault -f v info </dev/null
check "... names the options to use" -- contains err "--passphrase-file"
check "... nothing on stdout" -- empty out
EV_TIMEOUT=20 expect_exit 2 "EVAULT_PASSPHRASE_FILE set but empty counts as unset" -- \
    env EVAULT_PASSPHRASE_FILE= evault -f v info
EV_TIMEOUT=20 expect_exit 2 "verify without a passphrase source: exit 2" -- \
    evault -f v verify
EV_TIMEOUT=20 expect_exit 2 "keyslot list without a passphrase source: exit 2" -- \
    evault -f v keyslot list

expect_exit 1 "--passphrase-file that does not exist: exit 1" -- \
    evault -f v info --passphrase-file no-such-file
check "... names it" -- contains err "no-such-file"
expect_exit 1 "EVAULT_PASSPHRASE_FILE that does not exist: exit 1" -- \
    env EVAULT_PASSPHRASE_FILE=no-such-file evault -f v info
check "... names it" -- contains err "no-such-file"
expect_exit 2 "--passphrase-fd abc: exit 2" -- evault -f v info --passphrase-fd abc
expect_exit 2 "--passphrase-fd -1: exit 2" -- evault -f v info --passphrase-fd -1
expect_exit 1 "--passphrase-fd of a closed descriptor: exit 1" -- \
    evault -f v info --passphrase-fd 9

# --- passphrase file formats -------------------------------------------------------------
printf 'contract passphrase\r\n' >crlf
expect_exit 0 "a passphrase file with CRLF line ending" -- \
    evault -f v info --passphrase-file crlf
printf 'contract passphrase' >nonl
expect_exit 0 "a passphrase file without a trailing newline" -- \
    evault -f v info --passphrase-file nonl
printf 'contract passphrase' >nonl-fd
expect_exit 0 "--passphrase-fd without a trailing newline" -- \
    evault -f v info --passphrase-fd 3 3<nonl-fd
printf 'contract passphrase\nsecond line\n' >twolines
expect_exit 0 "only the first line of the file is the passphrase" -- \
    evault -f v info --passphrase-file twolines
printf 'contract passphrase \n' >trailing-space
expect_exit 3 "a trailing space is part of the passphrase: exit 3" -- \
    evault -f v info --passphrase-file trailing-space
printf '\ncontract passphrase\n' >leading-newline
expect_exit 3 "an empty first line is not skipped: exit 3" -- \
    evault -f v info --passphrase-file leading-newline

# Long passphrases: the limit message says "longer than 1024 bytes", so a
# passphrase of exactly 1024 bytes must be accepted.
printf 'x%.0s' $(seq 1024) >long1024
echo >>long1024
expect_exit 0 "a 1024-byte passphrase is accepted by init" -- \
    evault -f vlong init --kdf test --new-passphrase-file long1024
expect_exit 0 "... and opens the vault" -- \
    evault -f vlong info --passphrase-file long1024
printf 'x%.0s' $(seq 1025) >long1025
echo >>long1025
expect_exit 1 "a 1025-byte passphrase is refused: exit 1" -- \
    evault -f vlong2 init --kdf test --new-passphrase-file long1025
check "... saying it is too long" -- contains err "longer than"
check "... and no vault is created" -- test ! -e vlong2

# --- output discipline ----------------------------------------------------------------------
expect_exit 0 "--json output is one document and nothing else" -- \
    evault -f v keyslot list --json --passphrase-file good
check "... valid JSON" -- json_valid out
check "... on one line" -- line_count out 1
check "... nothing on stderr" -- empty err
expect_exit 3 "errors with --json print nothing on stdout" -- \
    evault -f v keyslot list --json --passphrase-file bad
check "... stdout empty" -- empty out
check "... message on stderr prefixed 'evault: '" -- grep -q '^evault: ' err
check "error messages quote the file" -- contains err "'v'"
check "error messages do not end with a full stop" -- \
    test "$(grep -c '\.$' err)" = 0

# A write error on stdout is an error, not a silent success.
EV_STDOUT=/dev/full expect_exit 1 "info --json with stdout on /dev/full: exit 1" -- \
    evault -f v info --json --passphrase-file good
check "... says so on stderr" -- test -s err
EV_STDOUT=/dev/full expect_exit 1 "info with stdout on /dev/full: exit 1" -- \
    evault -f v info --passphrase-file good
EV_STDOUT=/dev/full expect_exit 1 "init with stdout on /dev/full: exit 1" -- \
    evault -f vfull init --kdf test --new-passphrase-file good
EV_STDOUT=/dev/full expect_exit 1 "help with stdout on /dev/full: exit 1" -- \
    evault help

done_testing

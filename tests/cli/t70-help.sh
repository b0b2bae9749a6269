#!/bin/bash
# t70-help: usage texts, `evault help`, and usage errors.
. "$(dirname "$0")/lib.sh"

COMMANDS="init info passwd keyslot shred verify help"

expect_exit 0 "evault help: exit 0" -- evault help
check "... usage on stdout" -- contains out "usage: evault"
check "... nothing on stderr" -- empty err
for c in $COMMANDS; do
    check "... lists '$c'" -- grep -qE "^  $c +[a-z]" out
done
check "... mentions the exit statuses" -- contains out "4 integrity"
cp out help.global
expect_exit 0 "evault --help: exit 0" -- evault --help
check "... same text as 'evault help'" -- same_file out help.global
expect_exit 0 "evault -h: exit 0" -- evault -h
check "... same text" -- same_file out help.global

for c in $COMMANDS; do
    expect_exit 0 "evault help $c: exit 0" -- evault help "$c"
    check "... starts with 'usage: evault'" -- \
        test "$(head -c 13 out)" = "usage: evault"
    check "... mentions '$c'" -- contains out "$c"
    check "... nothing on stderr" -- empty err
    cp out "help.$c"
    expect_exit 0 "evault $c --help: exit 0" -- evault "$c" --help
    check "... same text as 'evault help $c'" -- same_file out "help.$c"
    expect_exit 0 "evault --help $c: exit 0" -- evault --help "$c"
    check "... same text" -- same_file out "help.$c"
done
check "init's usage names its options" -- contains help.init "--kdf"
check "shred's usage names --yes" -- contains help.shred "--yes"

# --help needs no vault and no passphrase, even when they are wrong.
expect_exit 0 "evault -f missing info --help: exit 0" -- \
    evault -f missing info --help
check "... usage on stdout" -- same_file out help.info
expect_exit 0 "evault keyslot add --help: exit 0" -- evault keyslot add --help
check "... the keyslot usage" -- same_file out help.keyslot
expect_exit 0 "evault shred --help does not shred" -- evault shred --help --yes

expect_exit 0 "evault --version: exit 0" -- evault --version
check "... prints 'evault VERSION'" -- matches out 'evault [0-9]+\.[0-9]+\.[0-9]+.*'

# --- usage errors ---------------------------------------------------------------
expect_exit 2 "no command: exit 2" -- evault
check "... usage on stderr" -- contains err "usage: evault"
check "... nothing on stdout" -- empty out
expect_exit 2 "unknown command: exit 2" -- evault frobnicate
check "... names it" -- contains err "frobnicate"
check "... nothing on stdout" -- empty out
expect_exit 2 "evault help for an unknown command: exit 2" -- evault help frobnicate
check "... names it" -- contains err "frobnicate"
check "... nothing on stdout" -- empty out
expect_exit 2 "unknown global option: exit 2" -- evault --frobnicate info
check "... nothing on stdout" -- empty out
check "... says something on stderr" -- test -s err
expect_exit 2 "unknown option after the command: exit 2" -- \
    evault info --frobnicate
check "... nothing on stdout" -- empty out
check "... usage on stderr" -- contains err "usage: evault"
expect_exit 2 "unknown short option: exit 2" -- evault info -z
expect_exit 2 "-f without its argument: exit 2" -- evault -f
expect_exit 2 "--vault without its argument after the command: exit 2" -- \
    evault info --vault
expect_exit 2 "an option of another command (info --yes): exit 2" -- \
    evault info --yes
expect_exit 2 "no passphrase on the command line (--passphrase): exit 2" -- \
    evault info --passphrase secret

done_testing

#!/bin/bash
# t10-init: `evault init` creates a vault and nothing else.
. "$(dirname "$0")/lib.sh"

passfile p1 "correct horse battery staple"
passfile p2 "second passphrase"

# --- creating with --new-passphrase-file -----------------------------------
(umask 000 && run_cmd evault -f v1 init --kdf test \
    --new-passphrase-file p1 --name "Org Alpha")
rc=$?
check "init --new-passphrase-file exits 0" -- test "$rc" -eq 0 || diag out err
check "init prints the vault id alone on stdout (32 hex digits)" -- \
    matches out '[0-9a-f]{32}'
id1=$(cat out)
check "init says nothing on stderr when it succeeds" -- empty err
check "vault is mode 0600 even under umask 000" -- file_mode_is v1 600
check "init leaves no temporary file or journal beside the vault" -- \
    test "$(ls -A | grep -v -x -e .bin -e v1 -e p1 -e p2 -e out -e err)" = ""

expect_exit 0 "the new vault opens with its passphrase" -- \
    evault -f v1 info --json --passphrase-file p1
check "info shows the id that init printed" -- json_is out '$.vault_id' "$id1"
check "info --json shows the --name" -- json_is out '$.name' "Org Alpha"
expect_exit 0 "info (human) opens the new vault" -- \
    evault -f v1 info --passphrase-file p1
check "human info shows the --name" -- contains out "Org Alpha"
expect_exit 3 "the new vault does not open with another passphrase" -- \
    evault -f v1 info --passphrase-file p2

# --- nothing recognisable in the file ---------------------------------------
# file(1) has weak magic numbers (one-byte COM jumps, OpenPGP packet tags,
# zlib headers) that about 5% of purely random 8 KiB files match by chance:
# measured 110 of 2000 /dev/urandom files on Debian 12.  One vault is
# therefore not enough to tell a recognisable header from chance.  Six
# fresh vaults all matching something has odds of 0.055^6 ~ 3e-8 if the
# bytes are random, and is certain if the format had a fixed header.
: >file.out
for k in 1 2 3 4 5; do
    evault -f "fv$k" init --kdf test --new-passphrase-file p1 \
        --name "Org Alpha" >/dev/null 2>&1
done
file -b v1 fv1 fv2 fv3 fv4 fv5 >file.out
check "file(1) sees 'data' in at least one of six fresh vaults" -- \
    grep -q -x data file.out || diag file.out
check "file(1) never names SQLite or evault in six vaults" -- \
    eval '! grep -i -q -e sqlite -e evault file.out'
rm -f fv1 fv2 fv3 fv4 fv5
check "strings(1) reads the vault" -- \
    eval 'strings -n 8 v1 >strings.out && test "$(stat -c %s v1)" -ge 8192'
check "no 'SQLite' in strings of the vault" -- lacks strings.out "SQLite"
check "no 'evault' in strings of the vault" -- lacks strings.out "evault"
check "no organisation name in strings of the vault" -- \
    lacks strings.out "Org Alpha"
check "no keyslot label in strings of the vault" -- \
    lacks strings.out "initial passphrase"
check "no passphrase in strings of the vault" -- \
    lacks strings.out "battery staple"
check "no SQL schema text anywhere in the vault bytes" -- \
    test "$(grep -a -c -i -e 'CREATE TABLE' -e 'SQLite format' v1)" = 0

# --- other passphrase sources for init ---------------------------------------
expect_exit 0 "init with --passphrase-file (no --new-passphrase-file)" -- \
    evault -f v2 init --kdf test --passphrase-file p2
check "init --passphrase-file prints a vault id" -- matches out '[0-9a-f]{32}'
id2=$(cat out)
check "two vaults get different ids" -- test "$id1" != "$id2"
expect_exit 0 "vault made with --passphrase-file opens with it" -- \
    evault -f v2 info --passphrase-file p2
expect_exit 0 "init with --passphrase-fd 3" -- \
    evault -f v3 init --kdf test --passphrase-fd 3 3<p2
expect_exit 0 "vault made with --passphrase-fd opens" -- \
    evault -f v3 info --passphrase-file p2
expect_exit 0 "init with EVAULT_PASSPHRASE_FILE" -- \
    env EVAULT_PASSPHRASE_FILE=p2 evault -f v4 init --kdf test
expect_exit 0 "vault made with EVAULT_PASSPHRASE_FILE opens" -- \
    evault -f v4 info --passphrase-file p2
expect_exit 0 "init: --new-passphrase-file wins over --passphrase-file" -- \
    evault -f v5 init --kdf test --passphrase-file p1 \
    --new-passphrase-file p2
expect_exit 0 "... the vault opens with the new passphrase" -- \
    evault -f v5 info --passphrase-file p2
expect_exit 3 "... and not with the --passphrase-file one" -- \
    evault -f v5 info --passphrase-file p1

# --- never overwrite -----------------------------------------------------------
cp v1 v1.orig
expect_exit 1 "init refuses to overwrite an existing vault" -- \
    evault -f v1 init --kdf test --new-passphrase-file p2
check "... and says it already exists" -- contains err "already exists"
check "... and prints nothing on stdout" -- empty out
check "... and leaves the vault byte for byte unchanged" -- same_file v1 v1.orig
expect_exit 0 "... which still opens with its old passphrase" -- \
    evault -f v1 info --passphrase-file p1
expect_exit 3 "... and not with the new one" -- \
    evault -f v1 info --passphrase-file p2

echo "precious evidence notes" >notes.txt
cp notes.txt notes.orig
expect_exit 1 "init refuses to overwrite an ordinary file" -- \
    evault -f notes.txt init --kdf test --new-passphrase-file p1
check "... which is unchanged" -- same_file notes.txt notes.orig

ln -s target-does-not-exist dangling
expect_exit 1 "init refuses a dangling symlink as the vault name" -- \
    evault -f dangling init --kdf test --new-passphrase-file p1
check "... and creates nothing at the symlink's target" -- \
    test ! -e target-does-not-exist

# --- usage and other errors ------------------------------------------------------
expect_exit 2 "init --kdf with an unknown profile is a usage error" -- \
    evault -f bad1 init --kdf extreme --new-passphrase-file p1
check "... naming the profile" -- contains err "extreme"
check "... and creates no file" -- test ! -e bad1
expect_exit 2 "--kdf test without EVAULT_TESTING=1 is a usage error" -- \
    env -u EVAULT_TESTING evault -f bad2 init --kdf test \
    --new-passphrase-file p1
check "... and creates no file" -- test ! -e bad2
expect_exit 2 "init with a stray argument is a usage error" -- \
    evault -f bad3 init --kdf test --new-passphrase-file p1 extra
check "... and creates no file" -- test ! -e bad3
expect_exit 2 "init with no vault given is a usage error" -- \
    evault init --kdf test --new-passphrase-file p1
check "... saying how to name the vault" -- contains err "--vault"
expect_exit 2 "init with no passphrase source and no terminal" -- \
    evault -f bad4 init --kdf test
check "... creates no file" -- test ! -e bad4
: >empty-pass
expect_exit 1 "init refuses an empty passphrase" -- \
    evault -f bad5 init --kdf test --new-passphrase-file empty-pass
check "... and creates no file" -- test ! -e bad5
expect_exit 1 "init with a missing passphrase file fails" -- \
    evault -f bad6 init --kdf test --new-passphrase-file no-such-file
check "... naming the file" -- contains err "no-such-file"
check "... and creates no file" -- test ! -e bad6
expect_exit 1 "init into a missing directory fails" -- \
    evault -f no-such-dir/v init --kdf test --new-passphrase-file p1

name200=$(printf 'n%.0s' $(seq 200))
expect_exit 0 "a 200-byte --name is accepted" -- \
    evault -f v6 init --kdf test --new-passphrase-file p1 --name "$name200"
expect_exit 0 "... and shown in full by info" -- \
    evault -f v6 info --json --passphrase-file p1
check "... (same 200 bytes)" -- json_is out '$.name' "$name200"
# Same rule as keyslot --label, which is a usage error (2) when too long.
expect_exit 2 "a 201-byte --name is a usage error" -- \
    evault -f bad7 init --kdf test --new-passphrase-file p1 \
    --name "${name200}x"
check "... and creates no file" -- test ! -e bad7

check "failed inits leave no temporary file behind" -- \
    test "$(ls -A | grep -c -e '\.tmp-' -e '-journal$')" = 0

# --- the default profile, once (moderate Argon2id, ~2 s) ------------------------
expect_exit 0 "init with the default KDF profile" -- \
    evault -f vdef init --new-passphrase-file p1
expect_exit 0 "... opens" -- evault -f vdef keyslot list --json \
    --passphrase-file p1
check "... and its keyslot uses the 'moderate' profile" -- \
    json_is out '$.keyslots[0].kdf.profile' moderate

done_testing

#!/bin/bash
# t60-verify: `evault verify`, and what verify and open say about damaged or
# tampered files. The file is a 4096-byte keyslot region (8 slots of 512
# bytes) and then encrypted pages of P bytes (16384 in a new vault, as
# `evault info` says): page N (from 1) starts at 4096 + (N - 1) * P.
. "$(dirname "$0")/lib.sh"

passfile p "verify test passphrase"
mkvault v p
run_cmd evault -f v keyslot add --recovery --passphrase-file p ||
    bail "cannot add a recovery slot"
cp out code
cp v clean
run_cmd evault -f v info --json --passphrase-file p || bail "cannot read info"
P=$(json_get out '$.page_size')
[ "$P" = 16384 ] || bail "a new vault has pages of $P bytes, not 16384"
size=$(stat -c %s clean)
pages=$(((size - 4096) / P))
# pg N: the file offset where page N starts
pg() { echo $((4096 + ($1 - 1) * P)); }

# --- clean ----------------------------------------------------------------------
check "the vault is a keyslot region plus whole pages" -- \
    test $(((size - 4096) % P)) = 0 -a "$pages" -ge 3
expect_exit 0 "verify on a clean vault: exit 0" -- \
    evault -f v verify --passphrase-file p
check "... says ok" -- grep -qE '^verify: +ok$' out
check "... read every page" -- \
    grep -qE "^pages: +$pages read, 0 failed authentication$" out
check "... nothing on stderr" -- empty err
check "... and left the file unchanged" -- same_file v clean
expect_exit 0 "verify --json on a clean vault" -- \
    evault -f v verify --json --passphrase-file p
check "... valid JSON" -- json_valid out
check "... ok is true" -- json_type_is out '$.ok' true
check "... pages.checked is the page count" -- \
    json_is out '$.pages.checked' "$pages"
check "... pages.failed is 0" -- json_is out '$.pages.failed' 0
check "... integrity_check.ok is true" -- \
    json_type_is out '$.integrity_check.ok' true
check "... keyslots.ok is true" -- json_type_is out '$.keyslots.ok' true
expect_exit 0 "verify after unlocking with the recovery code" -- \
    evault -f v verify --passphrase-file code
passfile wrong "verify test passphrase!"
expect_exit 3 "verify with a wrong passphrase: exit 3" -- \
    evault -f v verify --passphrase-file wrong
expect_exit 2 "verify with a stray argument: exit 2" -- \
    evault -f v verify extra --passphrase-file p

# --- one flipped byte in each page -------------------------------------------------
for n in $(seq 1 "$pages"); do
    cp clean v
    flip_byte v $(($(pg "$n") + P / 2))
    expect_exit 4 "flip a byte in the middle of page $n: verify exits 4" -- \
        evault -f v verify --passphrase-file p
    check "... the message names page $n" -- contains err "page $n "
    check "... and no 'ok' verdict on stdout" -- lacks out "verify:          ok"
done

cp clean v
flip_byte v "$(pg 2)"
expect_exit 4 "flip the first byte of page 2: verify exits 4" -- \
    evault -f v verify --json --passphrase-file p
check "... --json: ok is false" -- json_type_is out '$.ok' false
check "... --json: one page failed" -- json_is out '$.pages.failed' 1
check "... --json: first_failed is 2" -- json_is out '$.pages.first_failed' 2
check "... stderr names page 2" -- contains err "page 2 "

cp clean v
flip_byte v $(($(pg "$pages") + P - 1))
expect_exit 4 "flip the last byte of the last page: verify exits 4" -- \
    evault -f v verify --passphrase-file p
check "... naming page $pages" -- contains err "page $pages "

cp clean v
flip_byte v $(($(pg 1) + 100))
expect_exit 4 "flip a byte in page 1: even info (open) exits 4" -- \
    evault -f v info --passphrase-file p
check "... naming page 1" -- contains err "page 1 "
check "... nothing on stdout" -- empty out

cp clean v
flip_byte v $(($(pg 3) + 7))
flip_byte v $(($(pg 3) + 7))
expect_exit 0 "flipping the same byte back: verify is clean again" -- \
    evault -f v verify --passphrase-file p

# Whole pages moved or swapped are caught: each page is bound to its number.
cp clean v
dd if=clean of=v bs=1024 skip=$(($(pg 2) / 1024)) seek=$(($(pg 3) / 1024)) \
    count=$((P / 1024)) conv=notrunc status=none
dd if=clean of=v bs=1024 skip=$(($(pg 3) / 1024)) seek=$(($(pg 2) / 1024)) \
    count=$((P / 1024)) conv=notrunc status=none
expect_exit 4 "pages 2 and 3 swapped: exit 4" -- \
    evault -f v verify --passphrase-file p
# A page from another vault with the same passphrase.
mkvault other p
cp clean v
dd if=other of=v bs=1024 skip=$(($(pg 2) / 1024)) seek=$(($(pg 2) / 1024)) \
    count=$((P / 1024)) conv=notrunc status=none
expect_exit 4 "page 2 replaced by page 2 of another vault: exit 4" -- \
    evault -f v verify --passphrase-file p

# --- the keyslot region -------------------------------------------------------------
cp clean v
flip_byte v 50
expect_exit "3|4" "flip a byte in slot 0's wrapped key: exit 3 or 4" -- \
    evault -f v verify --passphrase-file p
check "... nothing on stdout" -- empty out
expect_exit 4 "... the recovery code in slot 1 unlocks, and verify reports the tampered slot: exit 4" -- \
    evault -f v verify --passphrase-file code
check "... naming keyslot 0" -- contains err "keyslot 0"

cp clean v
flip_byte v 400
expect_exit "3|4" "flip a byte in slot 0's random fill: exit 3 or 4" -- \
    evault -f v verify --passphrase-file p
check "... with a message on stderr" -- test -s err

cp clean v
flip_byte v $((5 * 512 + 100))
expect_exit 4 "flip a byte in empty slot 5: verify exits 4" -- \
    evault -f v verify --passphrase-file p
check "... naming keyslot 5" -- contains err "keyslot 5"
expect_exit 4 "... and a plain open (info) refuses too: exit 4" -- \
    evault -f v info --passphrase-file p
expect_exit 4 "... as does a keyslot change: exit 4" -- \
    evault -f v keyslot add --recovery --passphrase-file code
check "... which prints no recovery code" -- empty out

cp clean v
flip_byte v 4095
expect_exit "3|4" "flip the last byte of the keyslot region: exit 3 or 4" -- \
    evault -f v verify --passphrase-file p

# --- truncated and extended files --------------------------------------------------
for len in $((size - P)) $((size - 4096)) $((size - 100)) $(pg 2) 12288 8192 4096 4000 100 0; do
    cp clean v
    truncate -s "$len" v
    expect_exit "3|4" "truncated to $len bytes: verify exits 3 or 4" -- \
        evault -f v verify --passphrase-file p
    check "... with a message on stderr" -- test -s err
done

cp clean v
head -c "$P" /dev/urandom >>v
expect_exit 4 "one page of random bytes appended: verify exits 4" -- \
    evault -f v verify --passphrase-file p
cp clean v
head -c 100 /dev/urandom >>v
expect_exit 4 "100 random bytes appended: verify exits 4" -- \
    evault -f v verify --passphrase-file p

done_testing

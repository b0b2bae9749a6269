#!/bin/bash
# t170-bag: `evault bag check DIR` end to end (issue 5), on bags made here
# with coreutils alone (sha256sum writes the manifest lines, as a partner
# without evault would):
#   valid     a valid bag: exit 0, what was checked, `sha256sum -c` agrees,
#             the --json shape, no vault needed (even a wrong one named),
#             DIR through a symbolic link;
#   errors    DIR missing or a file: exit 1; usage errors: exit 2;
#   invalid   one kind of damage each, on a fresh copy of the valid bag:
#             missing file, extra file, changed byte, wrong Payload-Oxum,
#             bad bagit.txt, symbolic link and FIFO in data/, '../' and
#             absolute paths in the manifest, a duplicate entry, names that
#             differ only by case, a tag file missing from the tag manifest,
#             a tag manifest mismatch (and a few more): each exits 4 naming
#             the file on stderr, and --json lists the failures.
. "$(dirname "$0")/lib.sh"

command -v sha256sum >/dev/null || bail "sha256sum (coreutils) is missing"

# --- helpers ----------------------------------------------------------------
# oxum DIR: "bytes.files" of DIR/data.
oxum() {
    local b n
    b=$(find "$1/data" -type f -exec cat {} + | wc -c)
    n=$(find "$1/data" -type f | wc -l)
    echo "$((b)).$((n))"
}
# write_info DIR OXUM: bag-info.txt.
write_info() {
    printf '%s\n' "Source-Organization: Test Org" "Bagging-Date: 2024-05-01" \
        "External-Identifier: 0f0e0d0c-0b0a-4908-8706-050403020100" \
        "Payload-Oxum: $2" >"$1/bag-info.txt"
}
# manifest DIR: manifest-sha256.txt over every file under DIR/data.
manifest() {
    (cd "$1" && find data -type f | LC_ALL=C sort |
        while IFS= read -r f; do sha256sum "$f"; done) \
        >"$1/manifest-sha256.txt"
}
# retag DIR: tagmanifest-sha256.txt over the tag files as they are now.
retag() {
    (cd "$1" && sha256sum bagit.txt bag-info.txt manifest-sha256.txt \
        >tagmanifest-sha256.txt)
}
# rebag DIR: manifest, bag-info.txt and tag manifest for DIR/data as it is.
rebag() {
    manifest "$1"
    write_info "$1" "$(oxum "$1")"
    retag "$1"
}
# fresh: b, a new copy of the valid bag.
fresh() {
    rm -rf b
    cp -a good b
}
# invalid DESC TEXT...: `bag check b` exits 4, stdout says INVALID and
# stderr holds each TEXT.
invalid() {
    local desc=$1 t
    shift
    expect_exit 4 "$desc: exit 4" -- evault bag check b || return 0
    check "... stdout says INVALID" -- contains out "bag: INVALID"
    for t in "$@"; do
        check "... says \"$t\"" -- contains err "$t"
    done
}

# --- a valid bag ------------------------------------------------------------
mkdir -p good/data/sub/deeper
printf 'hello\n' >good/data/a.txt
seq 1 20000 >good/data/sub/numbers.txt
printf 'a name with spaces\n' >"good/data/sub/deeper/c d.txt"
: >good/data/empty
printf 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n' \
    >good/bagit.txt
rebag good
BYTES=$(oxum good)
BYTES=${BYTES%.*}

expect_exit 0 "a valid bag: exit 0" -- evault bag check good
check "... says 'bag: valid'" -- contains out "bag: valid"
check "... counts the payload" -- contains out "4 files, $BYTES bytes"
check "... names the manifests" -- \
    contains out "manifests: manifest-sha256.txt, tagmanifest-sha256.txt"
check "... nothing on stderr" -- empty err
check "sha256sum -c agrees with both manifests" -- sh -c \
    'cd good && sha256sum --quiet -c manifest-sha256.txt &&
     sha256sum --quiet -c tagmanifest-sha256.txt'
expect_exit 0 "--json: exit 0" -- evault bag check good --json
check "... one JSON document" -- json_valid out
check "... valid is true" -- json_is out '$.valid' 1
check "... files" -- json_is out '$.files' 4
check "... bytes" -- json_is out '$.bytes' "$BYTES"
check "... manifests" -- json_is out '$.manifests[1]' tagmanifest-sha256.txt
check "... failures is an array" -- json_type_is out '$.failures' array
check "... with nothing in it" -- test "$(sqlite3 :memory: \
    "select json_array_length(readfile('out'), '\$.failures')")" = 0
expect_exit 0 "needs no vault: a vault that does not exist is not opened" -- \
    evault -f nosuch.evault bag check good
EVAULT_FILE=nosuch.evault expect_exit 0 "... nor \$EVAULT_FILE" -- \
    evault bag check good
ln -s good goodlink
expect_exit 0 "DIR may be a symbolic link to the bag" -- \
    evault bag check goodlink

# bagit-python (the Library of Congress's reference implementation) would
# be an independent check; Debian 12 has no python3-bagit package and PyPI
# is out of reach here, so it runs only where the module is installed
# (tests/unit/test_bag.c does the same for a bag made by evault's builders).
if python3 -c 'import bagit' 2>/dev/null; then
    check "bagit-python agrees that the bag is valid" -- \
        python3 -m bagit --validate good
else
    echo "# skip: bagit-python agrees (no python3 bagit module)"
fi

# --- errors and usage -----------------------------------------------------------
expect_exit 1 "DIR missing: exit 1" -- evault bag check nosuch
check "... names it" -- contains err "'nosuch'"
check "... nothing on stdout" -- empty out
expect_exit 1 "DIR is a file: exit 1" -- evault bag check good/bagit.txt
expect_exit 2 "no DIR: exit 2" -- evault bag check
check "... usage on stderr" -- contains err "usage: evault bag check"
expect_exit 2 "two DIRs: exit 2" -- evault bag check good good
expect_exit 2 "no subcommand: exit 2" -- evault bag
expect_exit 2 "unknown subcommand: exit 2" -- evault bag verify good
check "... names it" -- contains err "verify"
expect_exit 2 "unknown option: exit 2" -- evault bag check --frobnicate good
expect_exit 0 "evault help bag: exit 0" -- evault help bag
check "... usage on stdout" -- contains out "usage: evault bag check DIR"
cp out help.bag
expect_exit 0 "evault bag --help: the same text" -- evault bag --help
check "... same text" -- same_file out help.bag
expect_exit 0 "evault help lists 'bag'" -- evault help
check "... with its summary" -- grep -qE '^  bag +[a-z]' out

# --- one kind of damage each ------------------------------------------------------
fresh
rm b/data/a.txt
invalid "a missing payload file" "'data/a.txt': listed in 'manifest-sha256.txt'" \
    "but missing"

fresh
printf 'x\n' >b/data/extra.txt
invalid "an extra payload file" \
    "'data/extra.txt': payload file not listed in 'manifest-sha256.txt'"

fresh
flip_byte b/data/sub/numbers.txt 1000
invalid "a changed byte" "'data/sub/numbers.txt': SHA-256 mismatch"
check "... and sha256sum -c agrees" -- \
    sh -c '! (cd b && sha256sum --quiet -c manifest-sha256.txt >/dev/null 2>&1)'

fresh
write_info b "1.4"
retag b
invalid "a wrong Payload-Oxum" "Payload-Oxum is 1.4" \
    "holds $BYTES bytes in 4 files"

fresh
printf 'BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n' \
    >b/bagit.txt
retag b
invalid "bagit.txt of another version" "'bagit.txt': BagIt version '0.97'"

fresh
printf 'BagIt-Version: 1.0\n' >b/bagit.txt
retag b
invalid "bagit.txt without its encoding line" "'bagit.txt' has 1 line"

fresh
rm b/bagit.txt
invalid "no bagit.txt" "'bagit.txt' is missing"

fresh
ln -s a.txt b/data/link
invalid "a symbolic link in data/" "'data/link' is a symbolic link"

fresh
rm b/data/a.txt
printf 'hello\n' >outside.txt
ln -s ../../outside.txt b/data/a.txt
invalid "a listed file replaced by a link out of the bag" \
    "'data/a.txt' is a symbolic link" "'data/a.txt': listed in"

fresh
mkfifo b/data/fifo
invalid "a FIFO in data/" "'data/fifo' is a FIFO"

fresh
printf 'hello\n' >outside
printf '%s  %s\n' "$(sha256sum <outside | cut -c1-64)" "data/../../outside" \
    >>b/manifest-sha256.txt
retag b
invalid "a '../' path in the manifest" "path 'data/../../outside'" \
    "escapes the bag"

fresh
printf '%s  %s\n' "$(sha256sum </etc/passwd | cut -c1-64)" /etc/passwd \
    >>b/manifest-sha256.txt
retag b
invalid "an absolute path in the manifest" "path '/etc/passwd' is absolute"

fresh
head -n 1 b/manifest-sha256.txt >>b/manifest-sha256.txt
retag b
invalid "a duplicate manifest entry" \
    "'data/a.txt' is listed twice in 'manifest-sha256.txt' (lines 1 and 5)"

fresh
cp b/data/a.txt b/data/A.txt
rebag b
invalid "names that differ only by case" \
    "'data/A.txt' and 'data/a.txt': names that differ only by case"

fresh
sed -i '/  bag-info\.txt$/d' b/tagmanifest-sha256.txt
invalid "a tag file missing from the tag manifest" \
    "'bag-info.txt': tag file not listed in 'tagmanifest-sha256.txt'"

fresh
printf 'Contact-Name: Someone\n' >>b/bag-info.txt
invalid "a tag manifest mismatch" \
    "'bag-info.txt': SHA-256 mismatch ('tagmanifest-sha256.txt' line 2)"

fresh
rm b/bag-info.txt
invalid "a file listed in the tag manifest is gone" \
    "'bag-info.txt': listed in 'tagmanifest-sha256.txt' (line 2) but missing"

fresh
rm b/manifest-sha256.txt
invalid "no payload manifest" "'manifest-sha256.txt' is missing"

fresh
(cd b && md5sum data/a.txt >manifest-md5.txt)
invalid "an unsupported algorithm" "'manifest-md5.txt'" "'md5' is not supported"

fresh
rm -r b/data
invalid "no data/ directory" "the payload directory 'data' is missing"

fresh
printf 'x' >"b/data/esc$(printf '\033')[2J"
rebag b
invalid "a name with a control character" "'data/esc\\x1b[2J'" \
    "control character"
check "... no raw escape character reaches the terminal" -- \
    lacks err "$(printf '\033')"

# --json on an invalid bag
fresh
flip_byte b/data/a.txt 0
printf 'x\n' >b/data/extra.txt
expect_exit 4 "--json on an invalid bag: exit 4" -- evault bag check b --json
check "... one JSON document" -- json_valid out
check "... valid is false" -- json_is out '$.valid' 0
check "... two failures" -- test "$(sqlite3 :memory: \
    "select json_array_length(readfile('out'), '\$.failures')")" -ge 2
check "... naming the changed file" -- contains out "'data/a.txt': SHA-256"
check "... and the extra one" -- contains out "'data/extra.txt'"

done_testing

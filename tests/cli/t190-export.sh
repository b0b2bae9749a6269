#!/bin/bash
# t190-export: `evault export` (issue 5), checked the way a partner without
# evault checks a bundle: `minisign -Vm FILE -p sender.pub` before anything
# else, `age -d -i key FILE | tar x`, `sha256sum -c` of both manifests in
# the bag, the tag manifest's minisign signature, the seals' signatures;
# the evidence bit for bit; records.json / records.csv / custody.jsonl
# content; --redact; passphrase bundles; refusals (existing files, unknown
# partner, nothing selected) leave nothing behind; the export is logged.
. "$(dirname "$0")/lib.sh"

for t in minisign age age-keygen tar sha256sum; do
    command -v "$t" >/dev/null || bail "$t is not installed (make deps)"
done
passfile p "export test passphrase"
mkvault v p --name "Export Test Org"
export EVAULT_FILE=v EVAULT_PASSPHRASE_FILE=p

# --- records ------------------------------------------------------------------
run_cmd evault incident add --title "Arrest of a blogger" --type arrest \
    --date 2023-05-04 --tag blogger --description "Detained in Osh."
run_cmd evault incident add --title "Secret threat" --type online-threat \
    --date 2023-06 --confidential
run_cmd evault incident add --title "Website blocked" --type website-blocking \
    --date 2023-07-01 --tag media
run_cmd evault actor add --name "Public Blogger" --category blogger
run_cmd evault actor add --name "Hidden Witness" --confidential
run_cmd evault actor add --name "State Agency" --kind organisation
run_cmd evault link 1 1 --role victim
run_cmd evault link 1 2 --role witness
run_cmd evault link 1 3 --role perpetrator --degree ordered
run_cmd evault source add --kind interview --title "Interview with Aigul" --consent anonymised
run_cmd evault source add --kind news-report --title "News item" --consent yes
run_cmd evault source add --kind interview --title "Private talk" --consent no
run_cmd evault cite 1 1
run_cmd evault cite 1 2
run_cmd evault cite 3 3
head -c 70000 /dev/urandom >photo.jpg
printf 'screenshot bytes\n' >shot.png
printf 'with 100%% percent\n' >'odd%name.txt'
run_cmd evault evidence add 1 photo.jpg --method photo
run_cmd evault evidence add 1 shot.png --method screenshot
run_cmd evault evidence add 3 'odd%name.txt'
run_cmd evault seal 3
expect_exit 0 "sender's key" -- evault identity --minisign-pubkey sender.pub
expect_exit 0 "sender's identity" -- evault identity --json
VID=$(json_get out '$.vault_id')

# the partner uses the standard tools
age-keygen -o partner.key 2>/dev/null
minisign -G -W -f -p partner.pub -s partner.sec >/dev/null 2>&1
expect_exit 0 "partner P from age-keygen and minisign keys" -- \
    evault partner add P --age-recipient "$(age-keygen -y partner.key)" \
    --minisign-key partner.pub --yes
age-keygen -o other.key 2>/dev/null
minisign -G -W -f -p other.pub -s other.sec >/dev/null 2>&1
expect_exit 0 "partner Q" -- evault partner add Q \
    --age-recipient "$(age-keygen -y other.key)" --minisign-key other.pub --yes

# --- a full export to P ---------------------------------------------------------
expect_exit 0 "export --all --to P" -- evault export --to P --all -o b.age
check "prints the bundle id" -- matches out '[0-9a-f-]{36}'
BID=$(cat out)
check "FILE and FILE.minisig exist" -- test -s b.age -a -s b.age.minisig
check "no partial file is left" -- test -z "$(ls -A | grep evault-partial)"
check "the bundle is an age file" -- eval 'head -c 22 b.age | grep -q "age-encryption.org/v1"'
check "no plaintext in it" -- eval '! grep -q -a "Arrest of a blogger" b.age'
check "minisign -Vm FILE -p sender.pub verifies" -- \
    eval 'minisign -Vm b.age -p sender.pub >mv.out 2>&1'
check "... trusted comment names the bundle and the vault" -- \
    eval 'grep -q "$BID" mv.out && grep -q "$VID" mv.out'
mkdir x && (cd x && age -d -i ../partner.key ../b.age | tar xf -)
check "age -d | tar x opens it" -- test -d "x/bundle-$BID/data"
B=x/bundle-$BID
expect_exit 0 "evault bag check accepts the bag" -- evault bag check "$B"
check "sha256sum -c manifest-sha256.txt passes" -- \
    eval '(cd "$B" && sha256sum -c --quiet manifest-sha256.txt)'
check "sha256sum -c tagmanifest-sha256.txt passes" -- \
    eval '(cd "$B" && sha256sum -c --quiet tagmanifest-sha256.txt)'
check "the tag manifest's signature verifies" -- \
    eval 'minisign -Vm "$B/tagmanifest-sha256.txt" -p sender.pub >/dev/null'
check "bagit.txt is BagIt 1.0" -- \
    eval 'printf "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n" | cmp -s - "$B/bagit.txt"'
check "bag-info: External-Identifier is the bundle id" -- \
    grep -qx "External-Identifier: $BID" "$B/bag-info.txt"
check "bag-info: sender vault id" -- grep -qx "Evault-Sender-Vault-Id: $VID" "$B/bag-info.txt"
check "bag-info: Source-Organization" -- grep -qx "Source-Organization: Export Test Org" "$B/bag-info.txt"
files=$(find "$B/data" -type f | wc -l)
bytes=$(find "$B/data" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
check "Payload-Oxum is bytes.files of data/" -- grep -qx "Payload-Oxum: $bytes.$files" "$B/bag-info.txt"
check "README.txt explains the checks" -- contains "$B/README.txt" "minisign -Vm"
check "the photo comes back bit for bit" -- \
    eval 'cmp -s photo.jpg "$B"/data/evidence/*-photo.jpg'
check "the screenshot too" -- eval 'cmp -s shot.png "$B"/data/evidence/*-shot.png'
check "'%' in a name is replaced (the manifest stays sha256sum-checkable)" -- \
    eval 'ls "$B"/data/evidence/ | grep -q "odd_name.txt"'
R=$B/data/records.json
check "records.json: 3 incidents" -- json_is "$R" '$.incidents[#-1].title' "Website blocked"
check "records.json: the bundle id" -- json_is "$R" '$.bundle' "$BID"
check "records.json: evidence with sha256" -- \
    json_is "$R" "\$.evidence[0].sha256" "$(json_get "$R" '$.evidence[0].sha256')"
sha=$(sha256sum photo.jpg | cut -d' ' -f1)
check "records.json lists the photo's SHA-256" -- contains "$R" "$sha"
check "records.json has no contact details" -- lacks "$R" '"contact"'
check "records.csv re-imports into a fresh vault" -- eval '
    evault -f fresh init --kdf test --new-passphrase-file p >/dev/null 2>&1 &&
    evault -f fresh import "$B/data/records.csv" --format csv >/dev/null 2>&1'
check "custody.jsonl holds signed entries of the exported records" -- \
    eval 'grep -c "\"object_type\":\"evidence\"" "$B/data/custody.jsonl" | grep -qx 3'
seal=$(ls "$B"/data/seals/*.json)
check "the sealed incident's record is in data/seals" -- test -s "$seal"
check "... and minisign verifies it" -- eval 'minisign -Vm "$seal" -p sender.pub >/dev/null'
expect_exit 0 "the export is in the custody log" -- evault log --object "$BID" --json
check "... as 'export bundle'" -- json_is out '$.entries[0].action' export
check "... naming the partner it went to" -- contains out "to partners 'P'"

# --- hostile evidence names -------------------------------------------------------
printf 'cyrillic\n' >"фото.jpg"
printf 'invalid utf-8\n' >"$(printf 'bad\377\376.bin')"
printf 'direction mark\n' >"$(printf 'photo\342\200\256gpj.exe')"
run_cmd evault incident add --title "Names" --type other
NID=$(cat out)
run_cmd evault evidence add "$NID" "фото.jpg" "$(printf 'bad\377\376.bin')" \
    "$(printf 'photo\342\200\256gpj.exe')"
expect_exit 0 "export of evidence with Cyrillic, invalid UTF-8 and RLO names" -- \
    evault export --to P --incident "$NID" -o names.age
NBID=$(cat out)
mkdir n && (cd n && age -d -i ../partner.key ../names.age | tar xf -)
check "... the Cyrillic name is kept" -- eval 'ls n/bundle-*/data/evidence/ | grep -q "фото.jpg"'
check "... invalid bytes became '_'" -- eval 'ls n/bundle-*/data/evidence/ | grep -q "bad__.bin"'
check "... the right-to-left override became '_'" -- eval 'ls n/bundle-*/data/evidence/ | grep -q "photo_gpj.exe"'
check "... and the manifest checks" -- \
    eval '(cd n/bundle-*/ && sha256sum -c --quiet manifest-sha256.txt)'

# --- a changed byte fails every check --------------------------------------------
cp b.age t.age
flip_byte t.age 2000
check "a flipped byte: minisign fails" -- eval '! minisign -Vm t.age -x b.age.minisig -p sender.pub >/dev/null 2>&1'
check "a flipped byte: age -d fails" -- eval '! age -d -i partner.key t.age >/dev/null 2>&1'
check "another partner's key cannot open it" -- eval '! age -d -i other.key b.age >/dev/null 2>&1'

# --- --redact ------------------------------------------------------------------------
expect_exit 0 "export --all --redact" -- evault export --to P --all --redact -o r.age
RID=$(cat out)
mkdir y && (cd y && age -d -i ../partner.key ../r.age | tar xf -)
RR=y/bundle-$RID/data/records.json
check "redacted: the confidential incident is left out" -- lacks "$RR" "Secret threat"
check "redacted: the confidential actor is left out" -- lacks "$RR" "Hidden Witness"
check "redacted: a source without consent is left out" -- lacks "$RR" "Private talk"
check "redacted: an anonymised source keeps no title" -- lacks "$RR" "Aigul"
check "... but a pseudonym" -- contains "$RR" "anonymised-"
check "redacted: a consenting source stays" -- contains "$RR" "News item"
check "redacted: the seal covering the withheld source is withheld" -- \
    test -z "$(ls "y/bundle-$RID/data/seals" 2>/dev/null)"
check "redacted: says so" -- json_type_is "$RR" '$.redacted' true
HIDDEN_A=$(evault sql "SELECT uuid FROM actor WHERE name = 'Hidden Witness'" | sed -n 2p)
HIDDEN_S=$(evault sql "SELECT uuid FROM source WHERE title = 'Private talk'" | sed -n 2p)
check "redacted: no custody entry names the withheld actor" -- \
    lacks "y/bundle-$RID/data/custody.jsonl" "$HIDDEN_A"
check "redacted: nor the withheld source" -- \
    lacks "y/bundle-$RID/data/custody.jsonl" "$HIDDEN_S"
check "unredacted, they are there (the check can fail)" -- \
    contains "$B/data/custody.jsonl" "$HIDDEN_A"
check "redacted: the bag still checks" -- \
    eval '(cd "y/bundle-$RID" && sha256sum -c --quiet manifest-sha256.txt)'
expect_exit 0 "naming a confidential incident exports it even redacted" -- \
    evault export --to P --incident 2 --redact -o r2.age
mkdir z && (cd z && age -d -i ../partner.key ../r2.age | tar xf -)
check "... it is there" -- contains z/bundle-*/data/records.json "Secret threat"

# --- selections -------------------------------------------------------------------------
expect_exit 0 "--tag media" -- evault export --to P --tag media -o t1.age --json
check "... one incident" -- json_is out '$.incidents' 1
run_cmd evault incident add --title "Mid-June raid" --type raid-or-search --date 2023-06-15
expect_exit 0 "--since/--until" -- evault export --to P --since 2023-05 --until 2023-06 -o t2.age --json
check "... three incidents (day, month and a day inside the last month)" -- json_is out '$.incidents' 3
expect_exit 0 "--query" -- evault export --to P --query blocked -o t3.age --json
check "... one incident" -- json_is out '$.incidents' 1
expect_exit 0 "two partners" -- evault export --to P --to Q --incident 1 -o t4.age
check "... both can decrypt" -- eval 'age -d -i partner.key t4.age >/dev/null && age -d -i other.key t4.age >/dev/null'

# --- a passphrase bundle --------------------------------------------------------------------
passfile bp "a separate bundle passphrase"
expect_exit 0 "--to-passphrase with --bundle-passphrase-file" -- \
    evault export --to-passphrase --bundle-passphrase-file bp --incident 1 -o pp.age
check "... has one scrypt stanza" -- eval 'head -c 200 pp.age | grep -q -a "^-> scrypt "'
check "... minisign verifies it" -- eval 'minisign -Vm pp.age -p sender.pub >/dev/null'

printf 'x\000y\n' >nulpass
expect_exit 1 "a bundle passphrase with a NUL byte is refused" -- \
    evault export --to-passphrase --bundle-passphrase-file nulpass --incident 1 -o nul.age
check "... nothing written" -- test ! -e nul.age

# --- refusals leave nothing ----------------------------------------------------------------------
expect_exit 1 "an existing FILE is never overwritten" -- evault export --to P --all -o b.age
check "... b.age unchanged" -- eval 'minisign -Vm b.age -p sender.pub >/dev/null'
: >only.age.minisig
expect_exit 1 "an existing FILE.minisig is refused too" -- evault export --to P --all -o only.age
check "... and no only.age appears" -- test ! -e only.age
expect_exit 1 "an unknown partner is refused" -- evault export --to Nobody --all -o n.age
check "... nothing written" -- test ! -e n.age -a ! -e n.age.minisig
expect_exit 1 "no incident matches: refused" -- evault export --to P --tag nothing -o n.age
check "... nothing written" -- test ! -e n.age
expect_exit 2 "no selection: usage error" -- evault export --to P -o n.age
expect_exit 2 "both --to and --to-passphrase: usage error" -- \
    evault export --to P --to-passphrase --all -o n.age
expect_exit 2 "--since without --until: usage error" -- evault export --to P --since 2023 -o n.age
check "no partial files anywhere" -- test -z "$(ls -A | grep evault-partial)"
mkvault sp p --name "  Spaced Org  "
run_cmd evault -f sp incident add --title "One" --type arrest
expect_exit 0 "a vault name with spaces at its ends still exports" -- \
    evault -f sp export --to-passphrase --bundle-passphrase-file bp --all -o sp.age
expect_exit 0 "verify still holds" -- evault verify

done_testing

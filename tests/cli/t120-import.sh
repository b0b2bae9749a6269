#!/bin/bash
# t120-import: `evault import FILE [--format csv|json]`: the sample dataset,
# CSV with a BOM, CRLF and embedded newlines, and all-or-nothing failures
# (a bad row at line N leaves the vault unchanged).
. "$(dirname "$0")/lib.sh"

passfile p "import passphrase"
mkvault v p
export EVAULT_FILE=v EVAULT_PASSPHRASE_FILE=p
EXAMPLE="$(dirname "$0")/../../examples/kyrgyzstan-2023.json"
count() { # count FILE KEY: length of the array KEY in FILE
    sqlite3 :memory: "select json_array_length(readfile('$1'), '\$.$2')"
}

# --- the sample dataset -------------------------------------------------------
cp "$EXAMPLE" sample.json
expect_exit 0 "import examples/kyrgyzstan-2023.json" -- evault import sample.json
check "... summary" -- contains out "imported 20 incidents, 1 sources, 20 actors"
check "... involvements" -- contains out "78 involvements, 20 citations"
expect_exit 0 "incident list --json" -- evault incident list --json
check "... 20 incidents" -- test "$(count out incidents)" = 20
expect_exit 0 "actor list --json" -- evault actor list --json
check "... 20 actors" -- test "$(count out actors)" = 20
expect_exit 0 "source list --json" -- evault source list --json
check "... 1 source" -- test "$(count out sources)" = 1
expect_exit 0 "the exact-date incident" -- evault incident list --since 2023-10-25 --until 2023-10-25 --json
check "... the year-precision 2023 law overlaps, then the NGO law" -- json_is out '$.incidents[1].date' 2023-10-25
check "... with its precision" -- json_is out '$.incidents[1].date_precision' exact
expect_exit 0 "incident list --type arrest --json" -- evault incident list --type arrest --json
check "... 2 arrests" -- test "$(count out incidents)" = 2

# --- JSON output of import, --format, guessing --------------------------------------
passfile p2 "second"
mkvault v2 p2
cp sample.json sample.data
expect_exit 1 "no extension, no --format" -- evault -f v2 --passphrase-file p2 import sample.data
check "... says to give --format" -- contains err "--format"
expect_exit 0 "--format json --json" -- evault -f v2 --passphrase-file p2 import sample.data --format json --json
check "... counts as JSON" -- json_is out '$.incidents' 20
check "... involvements" -- json_is out '$.involvements' 78
expect_exit 2 "--format xml" -- evault import sample.json --format xml

# --- CSV: BOM, CRLF, quoted newlines, actors --------------------------------------
printf '\xef\xbb\xbftitle,type,date,date_precision,location,latitude,longitude,status,confidential,tags,description,victims,perpetrators,witnesses\r\n' >ok.csv
printf '"Raid, at night",raid-or-search,2023-05-02,estimate,Osh,40.5,72.8,likely,yes,"raid; night ",' >>ok.csv
printf '"First line\r\nsecond ""quoted"" line",Kloop [organisation];Ann Lee,Police [organisation],Bob\r\n' >>ok.csv
printf '\r\nSecond,arrest,2023,,,,,,no,,,Ann Lee,,\r\n' >>ok.csv
expect_exit 0 "import CSV with BOM, CRLF and an embedded newline" -- evault -f v2 --passphrase-file p2 import ok.csv --json
check "... 2 incidents" -- json_is out '$.incidents' 2
check "... 4 new actors (Kloop existed: reused)" -- json_is out '$.actors' 3
check "... reused" -- json_is out '$.actors_reused' 2
expect_exit 0 "incident list" -- evault -f v2 --passphrase-file p2 incident list --json --type raid-or-search
id=$(json_get out '$.incidents[0].id')
expect_exit 0 "show the raid" -- evault -f v2 --passphrase-file p2 incident show "$id" --json
check "... title with comma" -- json_is out '$.title' "Raid, at night"
check "... description with the newline and quotes" -- \
    json_is out '$.description' "$(printf 'First line\r\nsecond "quoted" line')"
check "... tags trimmed" -- json_is out '$.tags' '["night","raid"]'
check "... precision" -- json_is out '$.date_precision' estimate
check "... confidential" -- json_is out '$.confidential' 1
check "... Kloop reused as victim" -- json_is out '$.actors[0].name' Kloop
check "... Police an organisation" -- json_is out '$.actors[2].kind' organisation
check "... Bob a witness" -- json_is out '$.actors[3].role' witness

# --- all or nothing -------------------------------------------------------------------
evault incident list --json >before.json 2>/dev/null
evault actor list --json >actors-before.json 2>/dev/null
{
    printf 'title,type,description,victims\n'
    printf 'Good one,arrest,"two\nlines",New Person\n'
    printf 'Good two,trial,,\n'
    printf '\n'
    printf 'Bad,arrest-of-sorts,,\n'
} >bad.csv
expect_exit 1 "bad CSV row at line 6" -- evault import bad.csv
check "... names the line" -- contains err "'bad.csv' line 6: unknown incident type 'arrest-of-sorts'"
check "... and that nothing was imported" -- contains err "nothing was imported"
check "... nothing on stdout" -- empty out
evault incident list --json >after.json 2>/dev/null
evault actor list --json >actors-after.json 2>/dev/null
check "... incidents unchanged" -- same_file before.json after.json
check "... actors unchanged" -- same_file actors-before.json actors-after.json

printf 'title,type\nA,arrest\n"B,arrest\n' >unclosed.csv
expect_exit 1 "unterminated quote" -- evault import unclosed.csv
check "... line 3" -- contains err "line 3"
printf 'title,type,mood\nA,arrest,ok\n' >col.csv
expect_exit 1 "unknown column" -- evault import col.csv
check "... names it" -- contains err "line 1: unknown column 'mood'"
printf 'title,type\nA,arrest,extra\n' >wide.csv
expect_exit 1 "too many fields" -- evault import wide.csv
check "... line 2" -- contains err "line 2: the row has 3 fields"
# a header of three million empty columns is refused before it is stored
# (it used to take gigabytes of memory)
{ printf 'title,type'; head -c 3000000 /dev/zero | tr '\0' ','; echo; } >huge.csv
expect_exit 1 "a header of millions of columns" -- evault import huge.csv
check "... refused at once, naming line 1" -- \
    contains err "line 1: far more fields in a record"
printf 'title,type,date\nA,arrest,2023-02-29\n' >date.csv
expect_exit 1 "bad date in CSV" -- evault import date.csv
check "... line 2" -- contains err "line 2: date '2023-02-29'"
printf 'title,type\n\xff\xfe,arrest\n' >latin.csv
expect_exit 1 "not UTF-8" -- evault import latin.csv
check "... says UTF-8" -- contains err "UTF-8"
: >empty.csv
expect_exit 1 "empty CSV" -- evault import empty.csv
expect_exit 1 "missing file" -- evault import nothere.csv
expect_exit 1 "a directory" -- evault import --format csv .
truncate -s 65M big.csv
expect_exit 1 "a file over 64 MiB" -- evault import big.csv
check "... says to split it" -- contains err "split it"
rm -f big.csv

sed 's/"kg-police", "role": "perpetrator"/"kg-nobody", "role": "perpetrator"/' sample.json >badref.json
expect_exit 1 "JSON with an unknown actor ref" -- evault import badref.json
check "... names the incident and ref" -- contains err "incidents[15] (ref 'bishkek-protest-detentions'): no actor with ref 'kg-nobody'"
sed 's/"type": "deportation"/"type": "expulsion"/' sample.json >badtype.json
expect_exit 1 "JSON with an unknown type" -- evault import badtype.json
check "... names where" -- contains err "(ref 'temirov-deportation'): unknown incident type 'expulsion'"
printf '{"format": "evault-import-1", "incidents": [' >trunc.json
expect_exit 1 "truncated JSON" -- evault import trunc.json
check "... not valid JSON" -- contains err "not a valid JSON object"
printf '{"format": "evault-import-2"}' >fmt.json
expect_exit 1 "wrong format tag" -- evault import fmt.json
evault incident list --json >after.json 2>/dev/null
check "... after all failures the vault is unchanged" -- same_file before.json after.json

done_testing

#!/bin/bash
# t140-search: `evault search`: plain words and --raw FTS5 syntax, ranking
# (title above body), snippets with [brackets], case and diacritics, tags,
# actor other names (never contact details), sources and evidence, --kind,
# --limit, --json, updates and deletes, escaping of control characters,
# usage errors and a wrong passphrase.
. "$(dirname "$0")/lib.sh"

# --- fixture: records written by direct SQL (build_fixture, fixture_sql in
# lib.sh) ----------------------------------------------------------------------
passfile p "search test passphrase"
passfile wrong "search test passphrasE"
mkvault v p
build_fixture

T="'2024-01-01T00:00:00Z'"
fixture_sql v p <<SQL || exit 1
INSERT INTO incident(id, uuid, title, type, description, location, created,
  updated) VALUES
 (1, '11111111-1111-4111-8111-111111111111', 'Court hearing postponed', 'arrest',
  'The reservoir protest case was moved again.', 'Osh', $T, $T),
 (2, '22222222-2222-4222-8222-222222222222', 'Reservoir protest dispersed', 'arrest',
  'Police dispersed a crowd.', 'Batken', $T, $T),
 (3, '33333333-3333-4333-8333-333333333333', 'Journalist detained in Bishkék', 'arrest',
  'Held for two days.', 'Bishkek', $T, $T),
 (4, '44444444-4444-4444-8444-444444444444', 'Website blocked', 'arrest',
  'News site unreachable.' || char(10) || 'Second line.', 'Tashkent', $T, $T),
 (5, '55555555-5555-4555-8555-555555555555',
  'Escape ' || char(27) || '[31mred' || char(27) || '[0m title', 'other',
  'quokka', '', $T, $T);
INSERT INTO incident_tag VALUES (2, 'water-rights'), (4, 'censorship');
INSERT INTO actor(id, uuid, kind, name, other_names, description, contact,
  created, updated) VALUES
 (1, 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'person', 'Aigul Example',
  '["Aigul Primer"]', 'Investigative journalist',
  'phone +996 555 987654, signal secretive-handle', $T, $T);
INSERT INTO source(id, uuid, kind, title, description, created, updated)
 VALUES (1, 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'report',
  'Annual monitoring report', 'Published by a coalition', $T, $T);
INSERT INTO blob(sha256, size, chunk_size, created)
 VALUES (zeroblob(32), 0, 65536, $T);
INSERT INTO evidence(id, uuid, sha256, original_name, size, acquired_at,
  description, created) VALUES
 (1, 'cccccccc-cccc-4ccc-8ccc-cccccccccccc', zeroblob(32),
  'hearing-photo.jpg', 0, $T, 'The courtroom door', $T);
SQL
cp v v.orig

# --- plain search -----------------------------------------------------------
expect_exit 0 "search reservoir: exit 0" -- evault -f v --passphrase-file p search reservoir
check "... two hits, two lines each" -- line_count out 4
check "... the title match first" -- \
    grep -qxE 'incident +2 +Reservoir protest dispersed' <(sed -n 1p out)
check "... then the body match" -- \
    grep -qxE 'incident +1 +Court hearing postponed' <(sed -n 3p out)
check "... snippet of the first marks the match in brackets" -- \
    grep -qF '[Reservoir] protest dispersed' <(sed -n 2p out)
check "... snippet of the second too" -- grep -qF '[reservoir]' <(sed -n 4p out)
check "... snippets are indented" -- grep -qE '^    ' <(sed -n 2p out)
check "... no ANSI bold when stdout is not a terminal" -- lacks out $'\033'
check "... nothing on stderr" -- empty err

expect_exit 0 "every word must match" -- evault -f v --passphrase-file p search reservoir osh
check "... only incident 1" -- line_count out 2
check "... incident 1" -- grep -qE '^incident +1 ' out
expect_exit 0 "words may come as one argument" -- evault -f v --passphrase-file p search "reservoir osh"
check "... same result" -- grep -qE '^incident +1 ' out

expect_exit 0 "case and diacritics do not matter (bishkek)" -- \
    evault -f v --passphrase-file p search bishkek
check "... finds the title with 'Bishkék' and the location" -- line_count out 2
check "... label shown as stored" -- contains out "Journalist detained in Bishkék"
expect_exit 0 "accented query BÍSHKÉK" -- evault -f v --passphrase-file p search BÍSHKÉK
check "... finds it too" -- contains out "incident 3"

expect_exit 0 "tags are searchable" -- evault -f v --passphrase-file p search water-rights
check "... incident 2" -- grep -qE '^incident +2 ' out
expect_exit 0 "a newline in a description is flattened in the snippet" -- \
    evault -f v --passphrase-file p search censorship
check "... one hit on two lines" -- line_count out 2
check "... with the text after the newline" -- contains out "Second line."

expect_exit 0 "actor other names are searchable" -- evault -f v --passphrase-file p search primer
check "... the actor, labelled with its name" -- grep -qxE 'actor +1 +Aigul Example' <(sed -n 1p out)
expect_exit 0 "actor contact details are not searchable" -- \
    evault -f v --passphrase-file p search secretive-handle
check "... no output" -- empty out
check "... 'no matches' on stderr" -- contains err "no matches"
expect_exit 0 "... not even the phone number" -- evault -f v --passphrase-file p search 987654
check "... no output" -- empty out

expect_exit 0 "sources are searchable" -- evault -f v --passphrase-file p search coalition
check "... the source" -- grep -qE '^source +1 +Annual monitoring report$' out
expect_exit 0 "evidence by description" -- evault -f v --passphrase-file p search courtroom
check "... labelled with its file name" -- grep -qE '^evidence +1 +hearing-photo\.jpg$' out
expect_exit 0 "evidence by file name" -- evault -f v --passphrase-file p search hearing-photo.jpg
check "... found" -- grep -qE '^evidence +1 ' out
expect_exit 0 "'hearing': an incident title and a file name" -- evault -f v --passphrase-file p search hearing
check "... both found" -- line_count out 4
check "... incident 1" -- grep -qE '^incident +1 ' out
check "... evidence 1" -- grep -qE '^evidence +1 ' out

# --- control characters ---------------------------------------------------------
expect_exit 0 "a title holding escape sequences" -- evault -f v --passphrase-file p search quokka
check "... is shown with the escape byte made visible" -- contains out 'Escape \x1b[31mred\x1b[0m title'
check "... and never sent raw to the terminal" -- lacks out $'\033'
expect_exit 0 "... in JSON the text is exact" -- evault -f v --passphrase-file p search --json quokka
check "... valid JSON" -- json_valid out
check "... label with the real escape byte (JSON-escaped)" -- \
    test "$(json_get out '$[0].label')" = $'Escape \033[31mred\033[0m title'

# --- options ----------------------------------------------------------------------
expect_exit 0 "--kind actor" -- evault -f v --passphrase-file p search --kind actor journalist
check "... only the actor" -- line_count out 2
check "... actor 1" -- grep -qE '^actor +1 ' out
expect_exit 0 "--kind incident" -- evault -f v --passphrase-file p search journalist --kind incident
check "... only the incident" -- grep -qE '^incident +3 ' out
check "... one hit" -- line_count out 2
expect_exit 0 "--limit 1" -- evault -f v --passphrase-file p search --limit 1 reservoir
check "... one hit, the best" -- line_count out 2
check "... incident 2" -- grep -qE '^incident +2 ' out

# --- JSON -----------------------------------------------------------------------
expect_exit 0 "search --json" -- evault -f v --passphrase-file p search --json reservoir
cp out s.json
check "... one valid JSON document" -- json_valid s.json
check "... an array" -- json_type_is s.json '$' array
check "... of two hits" -- test "$(sqlite3 :memory: "select json_array_length(readfile('s.json'))")" = 2
check "... kind" -- json_is s.json '$[0].kind' incident
check "... id is an integer" -- json_type_is s.json '$[0].id' integer
check "... id 2 first" -- json_is s.json '$[0].id' 2
check "... uuid" -- json_is s.json '$[0].uuid' 22222222-2222-4222-8222-222222222222
check "... label" -- json_is s.json '$[0].label' "Reservoir protest dispersed"
check "... snippet with brackets" -- \
    json_is s.json '$[0].snippet' "[Reservoir] protest dispersed"
check "... second hit id 1" -- json_is s.json '$[1].id' 1
check "... nothing on stderr" -- empty err
expect_exit 0 "no match with --json" -- evault -f v --passphrase-file p search --json nothingmatchesthis
check "... is an empty array" -- matches out '\[\]'

# --- FTS5 syntax ------------------------------------------------------------------
for q in '"' 'AND' 'OR' 'NOT' 'NEAR(' 'a AND' '(' ')' '*' 'arrest*' 'title:x' \
    '-x' '^x' '{title}:' "'; DROP TABLE incident; --" '\' 'reservoir"'; do
    expect_exit 0 "plain mode: FTS5 syntax is text ($q)" -- \
        evault -f v --passphrase-file p search -- "$q"
done
expect_exit 0 "plain mode: 'reservoir\"' still finds reservoir" -- \
    evault -f v --passphrase-file p search 'reservoir"'
check "... two hits" -- line_count out 4
expect_exit 0 "plain mode: no prefix search (reser*)" -- evault -f v --passphrase-file p search 'reser*'
check "... nothing" -- empty out

expect_exit 0 "--raw prefix query reser*" -- evault -f v --passphrase-file p search --raw 'reser*'
check "... two hits" -- line_count out 4
expect_exit 0 "--raw OR" -- evault -f v --passphrase-file p search --raw coalition OR courtroom
check "... two hits" -- line_count out 4
expect_exit 0 "--raw NOT" -- evault -f v --passphrase-file p search --raw 'reservoir NOT osh'
check "... one hit" -- line_count out 2
expect_exit 0 "--raw column filter title:" -- evault -f v --passphrase-file p search --raw 'title:reservoir'
check "... only the title match" -- line_count out 2
for q in 'reservoir AND' '"unbalanced' 'NEAR(' '(reservoir' 'nosuchcolumn: x' 'OR'; do
    expect_exit 2 "--raw with bad syntax exits 2 ($q)" -- \
        evault -f v --passphrase-file p search --raw -- "$q"
    check "... says 'bad search query'" -- contains err "bad search query"
    check "... and nothing on stdout" -- empty out
done
expect_exit 2 "--raw --json with bad syntax exits 2" -- \
    evault -f v --passphrase-file p search --json --raw 'reservoir AND'
check "... nothing on stdout" -- empty out

# --- usage ------------------------------------------------------------------------
expect_exit 2 "no query: exit 2" -- evault -f v --passphrase-file p search
check "... usage on stderr" -- contains err "usage: evault"
expect_exit 2 "an empty query: exit 2" -- evault -f v --passphrase-file p search ""
check "... says there is nothing to search for" -- contains err "nothing to search for"
expect_exit 2 "only white space: exit 2" -- evault -f v --passphrase-file p search "  "
expect_exit 2 "--limit 0: exit 2" -- evault -f v --passphrase-file p search --limit 0 x
expect_exit 2 "--limit abc: exit 2" -- evault -f v --passphrase-file p search --limit abc x
expect_exit 2 "--limit 10001: exit 2" -- evault -f v --passphrase-file p search --limit 10001 x
expect_exit 2 "--kind people: exit 2" -- evault -f v --passphrase-file p search --kind people x
check "... names the kinds" -- contains err "incident, actor, source or evidence"
expect_exit 2 "unknown option: exit 2" -- evault -f v --passphrase-file p search --fuzzy x
expect_exit 0 "search --help" -- evault search --help
check "... prints the usage on stdout" -- contains out "usage: evault [-f FILE] search"
expect_exit 0 "help search" -- evault help search
check "... documents --raw" -- contains out "--raw"

# --- unlock -------------------------------------------------------------------------
expect_exit 3 "wrong passphrase: exit 3" -- evault -f v --passphrase-file wrong search reservoir
check "... says 'cannot unlock'" -- contains err "cannot unlock"
check "... nothing on stdout" -- empty out
expect_exit 1 "missing vault: exit 1" -- evault -f nosuch --passphrase-file p search x
check "searching never changed the vault" -- same_file v v.orig

# --- the index follows the records -------------------------------------------------
fixture_sql v p <<SQL || exit 1
UPDATE incident SET title = 'Hearing moved to the capital' WHERE id = 2;
DELETE FROM incident_tag WHERE tag = 'censorship';
DELETE FROM evidence WHERE id = 1;
UPDATE actor SET other_names = '["A. Example"]' WHERE id = 1;
SQL
expect_exit 0 "after an update: the new title is found" -- evault -f v --passphrase-file p search capital
check "... incident 2" -- grep -qE '^incident +2 +Hearing moved to the capital$' out
expect_exit 0 "... and the old title only in incident 1's body" -- \
    evault -f v --passphrase-file p search reservoir
check "... one hit" -- line_count out 2
check "... incident 1" -- grep -qE '^incident +1 ' out
expect_exit 0 "a removed tag is no longer found" -- evault -f v --passphrase-file p search censorship
check "... nothing" -- empty out
expect_exit 0 "deleted evidence is no longer found" -- evault -f v --passphrase-file p search courtroom
check "... nothing" -- empty out
expect_exit 0 "a replaced other name is no longer found" -- evault -f v --passphrase-file p search primer
check "... nothing" -- empty out

done_testing

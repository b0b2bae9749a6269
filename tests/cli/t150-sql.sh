#!/bin/bash
# t150-sql: `evault sql`: one read-only statement on the unlocked vault.
# Human output (tab-separated, header row, escapes), --json (an array of
# objects, blobs as hex), read-only PRAGMAs, and refusals of every kind of
# write (INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, ATTACH, DETACH,
# VACUUM INTO, transactions, PRAGMAs that set) with the vault unchanged
# afterwards; more than one statement; SQLite errors; a wrong passphrase.
. "$(dirname "$0")/lib.sh"

# --- fixture: records written by direct SQL (build_fixture, fixture_sql in
# lib.sh) ----------------------------------------------------------------------
passfile p "sql test passphrase"
passfile wrong "sql test passphrasE"
mkvault v p
build_fixture

T="'2024-01-01T00:00:00Z'"
SHA=00ff10ab$(printf '0%.0s' $(seq 56))
fixture_sql v p <<SQL || exit 1
INSERT INTO incident(id, uuid, title, type, description, location, start_date,
  start_precision, latitude, longitude, created, updated) VALUES
 (1, '11111111-1111-4111-8111-111111111111', 'Arrest at the border', 'arrest',
  'Line one' || char(10) || 'line two' || char(9) || 'tabbed \\ slash', 'Osh',
  '2023-05-04', 'exact', 40.5, 72.8, $T, $T),
 (2, '22222222-2222-4222-8222-222222222222', 'Quote " and ''apostrophe''',
  'other', '', '', NULL, NULL, NULL, NULL, $T, $T);
INSERT INTO blob(sha256, size, chunk_size, created)
 VALUES (x'$SHA', 0, 65536, $T);
SQL
cp v v.orig

# --- human output ---------------------------------------------------------------
expect_exit 0 "select: exit 0" -- evault -f v --passphrase-file p sql \
    "SELECT id, title, location FROM incident ORDER BY id"
check "... header row and two rows" -- line_count out 3
check "... header is tab-separated column names" -- \
    test "$(sed -n 1p out)" = "$(printf 'id\ttitle\tlocation')"
check "... first row" -- test "$(sed -n 2p out)" = "$(printf '1\tArrest at the border\tOsh')"
check "... an empty text is an empty cell" -- \
    test "$(sed -n 3p out)" = "$(printf '2\tQuote \" and '"'"'apostrophe'"'"'\t')"
check "... nothing on stderr" -- empty err
expect_exit 0 "newline, tab and backslash are escaped" -- evault -f v --passphrase-file p sql \
    "SELECT description FROM incident WHERE id = 1"
check "... as \\n \\t \\\\" -- test "$(sed -n 2p out)" = 'Line one\nline two\ttabbed \\ slash'
check "... on one line" -- line_count out 2
expect_exit 0 "NULL is an empty cell; a blob is hex; numbers as SQLite prints them" -- \
    evault -f v --passphrase-file p sql "SELECT NULL AS n, x'00ff' AS b, 1.5 AS r, -7 AS i"
check "... row" -- test "$(sed -n 2p out)" = "$(printf '\t00ff\t1.5\t-7')"
expect_exit 0 "other control characters are \\xNN" -- evault -f v --passphrase-file p sql \
    "SELECT 'a' || char(27) || '[31mb' AS t"
check "... escaped" -- test "$(sed -n 2p out)" = 'a\x1b[31mb'
check "... no raw escape byte" -- lacks out $'\033'
expect_exit 0 "an empty result: only the header" -- evault -f v --passphrase-file p sql \
    "SELECT id FROM incident WHERE id > 100"
check "... one line" -- line_count out 1
expect_exit 0 "WITH RECURSIVE" -- evault -f v --passphrase-file p sql \
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5) SELECT sum(x) AS s FROM c"
check "... 15" -- test "$(sed -n 2p out)" = 15
expect_exit 0 "EXPLAIN QUERY PLAN" -- evault -f v --passphrase-file p sql \
    "EXPLAIN QUERY PLAN SELECT * FROM incident WHERE start_date BETWEEN '2023-05-01' AND '2023-05-31'"
check "... uses incident_by_start" -- contains out "incident_by_start"
expect_exit 0 "full-text search through SQL" -- evault -f v --passphrase-file p sql \
    "SELECT rowid FROM search WHERE search MATCH 'border'"
check "... rowid = id * 8 + 1" -- test "$(sed -n 2p out)" = 9
expect_exit 0 "a table-valued pragma function" -- evault -f v --passphrase-file p sql \
    "SELECT count(*) AS n FROM pragma_table_info('incident')"
check "... counts the columns" -- test "$(sed -n 2p out)" -ge 10
expect_exit 0 "a trailing semicolon and comment are fine" -- \
    evault -f v --passphrase-file p sql "SELECT 1 AS one; -- that is all"
check "... one result" -- test "$(sed -n 2p out)" = 1

# --- read-only pragmas --------------------------------------------------------------
expect_exit 0 "PRAGMA user_version (read)" -- evault -f v --passphrase-file p sql "PRAGMA user_version"
check "... the schema version" -- test "$(sed -n 2p out)" -ge 2
expect_exit 0 "PRAGMA table_info(incident)" -- evault -f v --passphrase-file p sql "PRAGMA table_info(incident)"
check "... lists uuid" -- grep -qP '^\d+\tuuid\tTEXT' out
expect_exit 0 "PRAGMA index_list(incident)" -- evault -f v --passphrase-file p sql "PRAGMA index_list(incident)"
check "... lists incident_by_start" -- contains out incident_by_start
expect_exit 0 "PRAGMA integrity_check" -- evault -f v --passphrase-file p sql "PRAGMA integrity_check"
check "... ok" -- test "$(sed -n 2p out)" = ok

# --- JSON ---------------------------------------------------------------------------
expect_exit 0 "sql --json" -- evault -f v --passphrase-file p sql --json \
    "SELECT id, title, latitude, start_date, description FROM incident ORDER BY id"
cp out q.json
check "... one valid JSON document" -- json_valid q.json
check "... an array" -- json_type_is q.json '$' array
check "... of two objects" -- test "$(sqlite3 :memory: "select json_array_length(readfile('q.json'))")" = 2
check "... objects" -- json_type_is q.json '$[0]' object
check "... integer column is a JSON integer" -- json_type_is q.json '$[0].id' integer
check "... real column is a JSON real" -- json_type_is q.json '$[0].latitude' real
check "... latitude 40.5" -- json_is q.json '$[0].latitude' 40.5
check "... text" -- json_is q.json '$[0].title' "Arrest at the border"
check "... text with newline and tab kept exactly" -- \
    test "$(json_get q.json '$[0].description')" = "$(printf 'Line one\nline two\ttabbed \\ slash')"
check "... quotes kept" -- json_is q.json '$[1].title' "Quote \" and 'apostrophe'"
check "... NULL is JSON null" -- json_type_is q.json '$[1].latitude' null
check "... nothing on stderr" -- empty err
expect_exit 0 "--json: blob as a hex string" -- evault -f v --passphrase-file p sql --json \
    "SELECT sha256 AS h, NULL AS n, 0.25 AS f, 'x' AS s FROM blob"
check "... valid" -- json_valid out
check "... hex text" -- json_type_is out '$[0].h' text
check "... lowercase hex of 32 bytes" -- json_is out '$[0].h' "$SHA"
check "... null" -- json_type_is out '$[0].n' null
check "... real" -- json_is out '$[0].f' 0.25
expect_exit 0 "--json with an empty result" -- evault -f v --passphrase-file p sql --json \
    "SELECT id FROM incident WHERE 0"
check "... is []" -- matches out '\[\]'
expect_exit 0 "--json with awkward column names" -- evault -f v --passphrase-file p sql --json \
    "SELECT 1 AS \"a.b\", 2 AS \"q\"\"uote\", 3 AS \"\$.x[0]\""
check "... valid" -- json_valid out
check "... dotted name kept as a key" -- json_is out '$[0]."a.b"' 1
check "... path-like name kept as a key" -- \
    test "$(sqlite3 :memory: "select value from json_each(readfile('out'), '\$[0]') where key = '\$.x[0]'")" = 3
expect_exit 0 "--json with 100 columns" -- evault -f v --passphrase-file p sql --json \
    "SELECT $(for i in $(seq 100); do printf '%d AS c%d,' "$i" "$i"; done | sed 's/,$//')"
check "... valid" -- json_valid out
check "... c100 = 100" -- json_is out '$[0].c100' 100

# --- refused ------------------------------------------------------------------------
refuse() {
    expect_exit 1 "refused: $1" -- evault -f v --passphrase-file p sql "$1"
    check "... with an error from sql" -- contains err "evault: sql: "
    check "... nothing on stdout" -- empty out
}
refuse "INSERT INTO incident_type(name) VALUES ('new-type')"
refuse "UPDATE incident SET title = 'changed' WHERE id = 1"
refuse "DELETE FROM incident WHERE id = 2"
refuse "INSERT INTO search(search) VALUES ('rebuild')"
refuse "DELETE FROM search"
refuse "REPLACE INTO vault_meta VALUES ('x', 'y')"
refuse "CREATE TABLE t(x)"
refuse "CREATE TEMP TABLE t(x)"
refuse "CREATE INDEX i ON incident(title)"
refuse "CREATE VIEW w AS SELECT 1"
refuse "CREATE TRIGGER tr AFTER INSERT ON incident BEGIN SELECT 1; END"
refuse "CREATE VIRTUAL TABLE f USING fts5(x)"
refuse "DROP TABLE incident"
refuse "DROP INDEX incident_by_start"
refuse "DROP TRIGGER incident_ai"
refuse "ALTER TABLE incident ADD COLUMN x"
refuse "ALTER TABLE incident RENAME TO y"
refuse "ATTACH 'other.db' AS o"
refuse "ATTACH '' AS o"
refuse "ATTACH ':memory:' AS o"
refuse "DETACH main"
refuse "VACUUM"
refuse "VACUUM INTO 'plain.db'"
refuse "REINDEX"
refuse "ANALYZE"
refuse "BEGIN"
refuse "COMMIT"
refuse "SAVEPOINT s"
refuse "PRAGMA user_version = 5"
refuse "PRAGMA user_version(5)"
refuse "PRAGMA application_id = 1"
refuse "PRAGMA journal_mode"
refuse "PRAGMA journal_mode = WAL"
refuse "PRAGMA journal_mode = OFF"
refuse "PRAGMA query_only = 0"
refuse "PRAGMA writable_schema = ON"
refuse "PRAGMA secure_delete = OFF"
refuse "PRAGMA temp_store = FILE"
refuse "PRAGMA foreign_keys = OFF"
refuse "PRAGMA synchronous = OFF"
refuse "PRAGMA cache_size = 10"
refuse "PRAGMA wal_checkpoint"
refuse "PRAGMA incremental_vacuum"
refuse "PRAGMA optimize"
refuse "PRAGMA shrink_memory"
refuse "UPDATE sqlite_master SET sql = 'x'"
refuse "SELECT load_extension('libc.so.6')"
check "VACUUM INTO wrote no plaintext file" -- test ! -e plain.db
check "ATTACH created no file" -- test ! -e other.db
expect_exit 1 "the refusal says why" -- evault -f v --passphrase-file p sql "DELETE FROM incident"
check "... 'not authorized'" -- contains err "not authorized"
check "... and that sql only reads" -- contains err "only reads"
check "refusals left the vault file unchanged" -- same_file v v.orig
check "... and left no journal" -- test ! -e v-journal
expect_exit 0 "the records are all still there" -- evault -f v --passphrase-file p sql \
    "SELECT count(*) AS n, (SELECT user_version FROM pragma_user_version) AS uv FROM incident"
check "... two incidents" -- test "$(sed -n 2p out | cut -f1)" = 2

# --- statements and errors ----------------------------------------------------------
expect_exit 2 "two statements: exit 2" -- evault -f v --passphrase-file p sql "SELECT 1; SELECT 2"
check "... says one statement only" -- contains err "one statement only"
check "... runs neither" -- empty out
expect_exit 2 "a read then a write: exit 2" -- evault -f v --passphrase-file p sql \
    "SELECT 1; DELETE FROM incident"
expect_exit 2 "an empty statement: exit 2" -- evault -f v --passphrase-file p sql ""
check "... says so" -- contains err "no SQL statement"
expect_exit 2 "only a comment: exit 2" -- evault -f v --passphrase-file p sql "-- nothing"
expect_exit 1 "a syntax error: exit 1" -- evault -f v --passphrase-file p sql "SELEC 1"
check "... with SQLite's message" -- contains err 'near "SELEC": syntax error'
check "... nothing on stdout" -- empty out
expect_exit 1 "no such table: exit 1" -- evault -f v --passphrase-file p sql "SELECT * FROM nosuch"
check "... with SQLite's message" -- contains err "no such table: nosuch"
expect_exit 1 "a run-time error: exit 1" -- evault -f v --passphrase-file p sql \
    "SELECT json_extract('not json', '\$')"
check "... with SQLite's message" -- contains err "malformed JSON"
expect_exit 1 "--json with an error: exit 1, no partial document" -- \
    evault -f v --passphrase-file p sql --json \
    "SELECT CASE WHEN id = 2 THEN json_extract('x', '\$') ELSE id END AS v FROM incident ORDER BY id"
check "... nothing on stdout" -- empty out
check "the vault is still unchanged" -- same_file v v.orig

# --- usage and unlock ---------------------------------------------------------------
expect_exit 2 "no query: exit 2" -- evault -f v --passphrase-file p sql
check "... usage on stderr" -- contains err "usage: evault"
expect_exit 2 "two arguments: exit 2" -- evault -f v --passphrase-file p sql "SELECT 1" "SELECT 2"
expect_exit 2 "unknown option: exit 2" -- evault -f v --passphrase-file p sql --write "SELECT 1"
expect_exit 0 "sql --help" -- evault sql --help
check "... usage on stdout" -- contains out "usage: evault [-f FILE] sql QUERY"
expect_exit 3 "wrong passphrase: exit 3" -- evault -f v --passphrase-file wrong sql "SELECT 1"
check "... says 'cannot unlock'" -- contains err "cannot unlock"
check "... nothing on stdout" -- empty out
expect_exit 3 "wrong passphrase with --json: exit 3" -- \
    evault -f v --passphrase-file wrong sql --json "SELECT 1"
check "... nothing on stdout" -- empty out
check "the vault is unchanged at the end" -- same_file v v.orig

done_testing

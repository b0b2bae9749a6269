# lib.sh: helpers for the end-to-end CLI tests in tests/cli/t*.sh, in the
# style of git's t/test-lib.sh. Each script sources this file, runs the real
# binary ($EVAULT) on real files in its own empty working directory and
# prints TAP lines ("ok N - what", "not ok N - what"); tests/run.sh counts
# them.
#
# Every evault command a test runs goes through run_cmd: it has no
# controlling terminal (setsid), stdin from /dev/null unless the caller
# redirects it, a time limit (so a prompt that should not happen fails the
# test instead of hanging it), stdout in ./out and stderr in ./err. A
# sanitizer report on stderr fails the assertion whatever the exit status.
#
# Helpers:
#   expect_exit CODE DESC -- CMD ARGS...   run CMD, assert its exit status
#                                          (CODE may list choices: "3|4";
#                                          EV_STDOUT=/dev/full before it
#                                          sends stdout there instead)
#   check DESC -- CMD ARGS...              assert that CMD (any shell
#                                          command or function) succeeds
#   contains FILE TEXT / lacks FILE TEXT   fixed-string tests for `check`
#   json_valid FILE, json_get FILE PATH, json_is FILE PATH VALUE,
#   json_type_is FILE PATH TYPE, slot_count FILE N   JSON via sqlite3
#   matches FILE ERE, empty FILE, same_file A B, file_mode_is FILE MODE
#   mkvault FILE PASSFILE [INIT ARGS...]   create a test vault or bail out
#   flip_byte FILE OFFSET                  invert one byte in place
#   done_testing                           print the plan, set exit status

set -u
export LC_ALL=C
unset EVAULT_FILE EVAULT_PASSPHRASE_FILE NO_COLOR

if [ -z "${EVAULT:-}" ] || [ ! -x "$EVAULT" ]; then
    echo "not ok 1 - \$EVAULT is not set to an executable evault binary"
    exit 1
fi
export EVAULT_TESTING=1

# `evault` in commands means the binary under test.
TEST_BIN=$PWD/.bin
mkdir -p "$TEST_BIN"
ln -sf "$EVAULT" "$TEST_BIN/evault"
PATH=$TEST_BIN:$PATH
export PATH

# A test must never read the terminal on stdin.
exec </dev/null

EV_TIMEOUT=${EV_TIMEOUT:-120}
test_count=0
fail_count=0

ok() {
    test_count=$((test_count + 1))
    echo "ok $test_count - $*"
}

not_ok() {
    test_count=$((test_count + 1))
    fail_count=$((fail_count + 1))
    echo "not ok $test_count - $*"
}

# diag FILE...: show files as TAP comments (after a failure).
diag() {
    local f
    for f in "$@"; do
        [ -f "$f" ] || continue
        echo "#   --- $f:"
        sed -n '1,15s/^/#   /p' "$f"
    done
}

# bail MESSAGE: a step every later test depends on failed.
bail() {
    not_ok "bail out: $*"
    diag out err
    echo "1..$test_count"
    exit 1
}

sanitizer_report() {
    grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' err 2>/dev/null
}

# run_cmd CMD ARGS...: run without a controlling terminal and with a time
# limit; stdout to ./out (or $EV_STDOUT, e.g. /dev/full), stderr to ./err.
# Returns CMD's exit status.
run_cmd() {
    : >out
    setsid -w timeout -k 5 "$EV_TIMEOUT" "$@" >"${EV_STDOUT:-out}" 2>err
}

# expect_exit CODE DESC -- CMD ARGS...  (CODE may list choices: "3|4")
expect_exit() {
    local want=$1 desc=$2 rc
    shift 2
    [ "${1:-}" = "--" ] && shift
    run_cmd "$@"
    rc=$?
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        not_ok "$desc (timed out after ${EV_TIMEOUT}s: $*)"
        diag out err
        return 1
    fi
    if sanitizer_report; then
        not_ok "$desc (sanitizer report, exit $rc: $*)"
        diag err
        return 1
    fi
    case "|$want|" in
    *"|$rc|"*) ;;
    *)
        not_ok "$desc (exit $rc, expected $want: $*)"
        diag out err
        return 1
        ;;
    esac
    ok "$desc"
}

# check DESC -- CMD ARGS...: CMD may be a shell function or a builtin.
check() {
    local desc=$1
    shift
    [ "${1:-}" = "--" ] && shift
    if "$@"; then
        ok "$desc"
    else
        not_ok "$desc (failed: $*)"
        return 1
    fi
}

contains() {
    if ! grep -qF -- "$2" "$1"; then
        echo "#   '$1' does not contain '$2'"
        diag "$1"
        return 1
    fi
}

lacks() {
    if grep -qF -- "$2" "$1"; then
        echo "#   '$1' contains '$2', which it should not"
        diag "$1"
        return 1
    fi
}

empty() {
    if [ -s "$1" ]; then
        echo "#   '$1' is not empty"
        diag "$1"
        return 1
    fi
}

# json_valid FILE: FILE holds exactly one JSON document (and something).
json_valid() {
    local v
    [ -s "$1" ] || { echo "#   '$1' is empty"; return 1; }
    v=$(sqlite3 :memory: "select json_valid(readfile('$1'))") || return 1
    if [ "$v" != 1 ]; then
        echo "#   '$1' is not valid JSON"
        diag "$1"
        return 1
    fi
}

# json_get FILE PATH: print the value at PATH (SQL NULL prints nothing).
json_get() {
    sqlite3 :memory: "select json_extract(readfile('$1'), '$2')"
}

# json_is FILE PATH VALUE: the value at PATH is VALUE (as json_extract
# prints it: true is 1, strings unquoted).
json_is() {
    local got
    got=$(json_get "$1" "$2") || return 1
    if [ "$got" != "$3" ]; then
        echo "#   $2 in '$1' is '$got', expected '$3'"
        diag "$1"
        return 1
    fi
}

# json_type_is FILE PATH TYPE: json_type at PATH (integer, text, array...).
json_type_is() {
    local got
    got=$(sqlite3 :memory: "select json_type(readfile('$1'), '$2')") ||
        return 1
    if [ "$got" != "$3" ]; then
        echo "#   type of $2 in '$1' is '$got', expected '$3'"
        return 1
    fi
}

# line_count FILE N: FILE has exactly N lines.
line_count() {
    local n
    n=$(wc -l <"$1")
    if [ "$n" -ne "$2" ]; then
        echo "#   '$1' has $n lines, expected $2"
        diag "$1"
        return 1
    fi
}

# matches FILE ERE: the whole content of FILE is one line matching ERE.
matches() {
    local n
    n=$(wc -l <"$1")
    if [ "$n" -ne 1 ] || ! grep -qxE -- "$2" "$1"; then
        echo "#   '$1' is not one line matching /$2/"
        diag "$1"
        return 1
    fi
}

same_file() {
    if ! cmp -s "$1" "$2"; then
        echo "#   '$1' and '$2' differ"
        return 1
    fi
}

file_mode_is() {
    local m
    m=$(stat -c %a "$1") || return 1
    if [ "$m" != "$2" ]; then
        echo "#   mode of '$1' is $m, expected $2"
        return 1
    fi
}

# slot_count FILE.json N: the keyslots array has N entries.
slot_count() {
    local n
    n=$(sqlite3 :memory: \
        "select json_array_length(readfile('$1'), '\$.keyslots')") || return 1
    if [ "$n" != "$2" ]; then
        echo "#   '$1' lists $n keyslots, expected $2"
        diag "$1"
        return 1
    fi
}

# mkvault FILE PASSFILE [ARGS...]: create a vault with the test KDF; bail
# out if that fails, since everything after it needs the vault.
mkvault() {
    local f=$1 p=$2
    shift 2
    run_cmd evault -f "$f" init --kdf test --new-passphrase-file "$p" "$@" ||
        bail "cannot create test vault '$f'"
    sanitizer_report && bail "sanitizer report creating '$f'"
    return 0
}

# passfile FILE TEXT: write TEXT and a newline to FILE.
passfile() {
    printf '%s\n' "$2" >"$1"
}

# flip_byte FILE OFFSET: invert the byte at OFFSET, in place.
flip_byte() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    [ -n "$b" ] || bail "flip_byte: '$1' has no byte at $2"
    printf "\\$(printf '%03o' $((b ^ 255)))" |
        dd of="$1" bs=1 seek="$2" conv=notrunc status=none ||
        bail "flip_byte: cannot write '$1'"
}

done_testing() {
    echo "1..$test_count"
    [ "$fail_count" -eq 0 ] && [ "$test_count" -gt 0 ]
    exit
}

# --- fixture: records written by direct SQL (search and sql tests) -------
# The record commands (incident add...) are not what this script tests, so
# records come from a small program compiled here against the evault
# library under test: `fixture VAULT PASSFILE < SQL` runs SQL on the
# unlocked vault (with the schema's triggers, as the commands would).
build_fixture() {
    local root lib asan=""
    root=$(cd "$(dirname "$0")/../.." && pwd)
    lib=$(dirname "$EVAULT")/libevault.a
    [ -f "$lib" ] || bail "no '$lib' next to \$EVAULT to build the fixture with"
    # A sanitizer build's library needs the sanitizer runtimes.
    if nm "$lib" 2>/dev/null | grep -q __asan_; then
        asan="-fsanitize=address,undefined"
    fi
    cat >fixture.c <<'CEOF'
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vault/vault.h"
int main(int argc, char **argv)
{
    char pass[256], *sql = NULL, *err = NULL;
    size_t n = 0, cap = 0;
    FILE *f;
    vault *v = NULL;
    ev_err e;
    int rc = 1;
    if (argc != 3 || sodium_init() < 0 || !(f = fopen(argv[2], "r")))
        return 2;
    if (!fgets(pass, sizeof pass, f))
        return 2;
    fclose(f);
    pass[strcspn(pass, "\n")] = '\0';
    for (;;) {
        if (n + 4096 + 1 > cap && !(sql = realloc(sql, cap = cap * 2 + 8192)))
            return 2;
        size_t r = fread(sql + n, 1, 4096, stdin);
        n += r;
        if (r == 0)
            break;
    }
    sql[n] = '\0';
    if (vault_open(&v, argv[1], pass, strlen(pass), NULL, &e) != 0)
        fprintf(stderr, "fixture: %s\n", e.msg);
    else if (sqlite3_exec(vault_db(v), sql, NULL, NULL, &err) != SQLITE_OK)
        fprintf(stderr, "fixture: %s\n", err);
    else
        rc = 0;
    sqlite3_free(err);
    vault_close(v);
    free(sql);
    return rc;
}
CEOF
    # shellcheck disable=SC2046
    cc -std=c11 -D_POSIX_C_SOURCE=200809L $asan -I"$root" \
        $(pkg-config --cflags libsodium sqlite3) -o fixture fixture.c "$lib" \
        $(pkg-config --libs libsodium sqlite3 libarchive nettle libmagic) \
        -lcsv 2>fixture.log || { cat fixture.log; bail "cannot build the fixture"; }
}

# fixture_sql VAULT PASSFILE: run the SQL on stdin in the vault, or bail.
fixture_sql() {
    ./fixture "$1" "$2" || bail "fixture SQL failed"
}

#!/bin/bash
# run.sh: run every test and print one closing line "N passed, N failed".
#   unit and system tests: $BUILD/tests/test_* (cmocka; a crash counts as a
#   failure); CLI tests: tests/cli/t*.sh (TAP-style "ok N" / "not ok N").
# Environment: BUILD (build dir), TESTS (optional glob filter on names).
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build/rel}
export EVAULT="$PWD/$BUILD/evault"
export EVAULT_TAMPER="$PWD/$BUILD/tests/tools/evault_tamper"
export EVAULT_TESTING=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
root=$(mktemp -d "${TMPDIR:-/tmp}/evault-tests.XXXXXX")
trap 'rm -rf "$root"' EXIT
passed=0 failed=0 skipped=0 failures=""
filter=${TESTS:-*}

# The C2SP CCTV age vectors (npm cctv-age@0.2.0), fetched and checked
# against the registry's published hash; test_age fails without them.
export EVAULT_CCTV_DIR=${EVAULT_CCTV_DIR:-$PWD/$BUILD/vectors/cctv-age}
case test_age in $filter)
    tests/vectors/fetch-cctv-age.sh "$EVAULT_CCTV_DIR" >/dev/null ||
        echo "run.sh: cannot fetch the CCTV age vectors (test_age will fail)" >&2 ;;
esac

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    case "$name" in $filter) ;; *) continue ;; esac
    dir="$root/$name"; mkdir -p "$dir"
    out="$dir.log"
    start=$(date +%s)
    ( cd "$dir" && TMPDIR="$dir" "$OLDPWD/$t" ) >"$out" 2>&1
    rc=$?
    p=$(grep -c '^\[       OK \]' "$out")
    # cmocka names a failed test twice (as it fails, and in the summary)
    f=$(grep '^\[  FAILED  \] [a-z]' "$out" | sort -u | wc -l)
    s=$(grep '^\[  SKIPPED \] [a-z]' "$out" | sort -u | wc -l)
    skipped=$((skipped + s))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p)); failed=$((failed + f))
    echo "$name: $p passed, $f failed ($(( $(date +%s) - start ))s)"
    if [ "$f" -ne 0 ]; then failures="$failures $name"; sed 's/^/    /' "$out" | tail -40; fi
done

for t in tests/cli/t*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    case "$name" in $filter) ;; *) continue ;; esac
    dir="$root/$name"; mkdir -p "$dir"
    out="$dir.log"
    start=$(date +%s)
    ( cd "$dir" && TMPDIR="$dir" bash "$OLDPWD/$t" ) >"$out" 2>&1
    rc=$?
    p=$(grep -c '^ok ' "$out")
    f=$(grep -c '^not ok ' "$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p)); failed=$((failed + f))
    echo "$name: $p passed, $f failed ($(( $(date +%s) - start ))s)"
    if [ "$f" -ne 0 ]; then failures="$failures $name"; grep -v '^ok ' "$out" | sed 's/^/    /' | tail -40; fi
done

# libFuzzer targets ($BUILD/fuzz/fuzz_*, built by `make test` with clang):
# a short run each here (FUZZ_SECONDS, default 10), longer with `make fuzz`.
for t in "$BUILD"/fuzz/fuzz_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    case "$name" in $filter) ;; *) continue ;; esac
    corpus="$root/$name.corpus"; mkdir -p "$corpus"
    seeds=tests/fuzz/corpus/${name#fuzz_}
    out="$root/$name.log"
    start=$(date +%s)
    "$t" -max_total_time="${FUZZ_SECONDS:-10}" -print_final_stats=1 \
        "$corpus" "$seeds" >"$out" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then p=1 f=0; else p=0 f=1; fi
    passed=$((passed + p)); failed=$((failed + f))
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out")
    echo "$name: $p passed, $f failed (${runs:-?} runs, $(( $(date +%s) - start ))s)"
    if [ "$f" -ne 0 ]; then failures="$failures $name"; tail -40 "$out" | sed 's/^/    /'; fi
done

[ -n "$failures" ] && echo "failing:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

#!/bin/bash
# bench_store.sh: the evidence-store benchmark (called by bench/run.sh, or
# alone: BUILD=build/rel bench/bench_store.sh).
#
#   1. `evault evidence add` of a 1 GiB random file into a fresh vault
#      ("interactive" KDF) vs `cp` of the same file to the same filesystem;
#   2. `evault evidence extract -o` of it vs `cp`;
#   3. peak RSS (/usr/bin/time -v "Maximum resident set size") of add and
#      extract for the 1 GiB file and a 4 GiB one;
#   4. `evault verify` of the vault holding the 1 GiB file (every page,
#      integrity_check, the evidence re-hashed, seals, custody log) vs
#      coreutils `sha256sum` of the same file (issue 4: at most 0.5x);
#   5. (context, no target) `evault verify` of a vault holding many 3 MiB
#      files (photos, say) vs `sha256sum` of those files.
#
# Rounds interleave cp and evault; the summary quotes medians of per-round
# ratios. evault's times include the whole process: unlock (the KDF, about
# 0.1 s), the commit's fsync (synchronous=FULL) and, for extract, an fsync
# of the output; plain cp does not sync, so "cp + sync" is shown as well.
# The source file is in the page cache for every run (it was just written
# or read), as it is for cp.
#
# Environment: BUILD, BENCH_DIR (scratch parent, default bench/out; a real
# disk), BENCH_STORE_MB (1024), BENCH_STORE_BIG_MB (4096; 0 skips the large
# case: it needs about 3x that much free disk), BENCH_STORE_REPS (3),
# BENCH_STORE_MANY (300 files for case 5; 0 skips it).
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build/rel}
MB=${BENCH_STORE_MB:-1024}
BIG_MB=${BENCH_STORE_BIG_MB:-4096}
REPS=${BENCH_STORE_REPS:-3}
MANY=${BENCH_STORE_MANY:-300}
parent=${BENCH_DIR:-bench/out}
EVAULT=$PWD/$BUILD/evault
HELPER=$PWD/$BUILD/bench/bench_store
TIME=/usr/bin/time

BENCH_NAME=bench_store
. bench/lib.sh

[ -x "$TIME" ] || die "/usr/bin/time is needed (apt-get install time)"
[ -x "$EVAULT" ] || die "build $EVAULT first (make BUILD=$BUILD)"
# No Makefile rule yet: build the setup helper against the library.
${MAKE:-make} --no-print-directory BUILD="$BUILD" "$BUILD/libevault.a" >/dev/null || die "cannot build libevault"
mkdir -p "$BUILD/bench"
# shellcheck disable=SC2046
cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -fPIE -pthread $(pkg-config --cflags libsodium sqlite3) \
    -o "$HELPER" bench/bench_store.c "$BUILD/libevault.a" -pie \
    $(pkg-config --libs libsodium sqlite3 libarchive nettle libmagic) -lcsv ||
    die "cannot build bench_store"

mkdir -p "$parent" || exit 1
dir=$(mktemp -d "$parent/store.XXXXXX") || exit 1
dir=$(cd "$dir" && pwd)
trap 'rm -rf "$dir"' EXIT
printf 'bench store passphrase\n' >"$dir/pass"

# run_timed OUTFILE CMD...: wall seconds and peak RSS (KiB) of CMD.
run_timed() {
    local out=$1 t rss
    shift
    t=$(now_ns)
    "$TIME" -f '%M' -o "$dir/rss" "$@" >/dev/null 2>"$dir/err" ||
        { cat "$dir/err" >&2; die "failed: $*"; }
    echo "$(secs_since "$t") $(tail -n 1 "$dir/rss")" >"$out"
}

# one_size MB ROUNDS: print "@store MB ROUND CP CPSYNC ADD EXTRACT ADDRSS EXTRSS".
one_size() {
    local mb=$1 rounds=$2 r src=$dir/src.bin
    note "writing a $mb MiB random file"
    head -c $((mb * 1048576)) /dev/urandom >"$src" || die "cannot write $src"
    sync
    for r in $(seq 1 "$rounds"); do
        note "$mb MiB, round $r of $rounds"
        local v=$dir/v.evault cpt cps add ext
        rm -f "$v" "$dir/copy" "$dir/x.bin"
        "$HELPER" mkvault "$v" "$dir/pass" interactive 1 >/dev/null || die "mkvault failed"
        sync
        t=$(now_ns); cp "$src" "$dir/copy"; cpt=$(secs_since "$t")
        t=$(now_ns); sync; cps=$(awk -v a="$cpt" -v b="$(secs_since "$t")" 'BEGIN { print a + b }')
        rm -f "$dir/copy"; sync
        run_timed "$dir/add" "$EVAULT" -f "$v" --passphrase-file "$dir/pass" \
            evidence add 1 "$src"
        sync
        run_timed "$dir/ext" "$EVAULT" -f "$v" --passphrase-file "$dir/pass" \
            evidence extract 1 -o "$dir/x.bin"
        cmp -s "$src" "$dir/x.bin" || die "extracted file differs"
        rm -f "$dir/x.bin"; sync
        # verify (issue 4): the whole command on the vault holding the
        # file, next to coreutils sha256sum of the same file; which of the
        # two runs first (right after extract's writes) flips every round
        if [ $((r % 2)) -eq 1 ]; then
            run_timed "$dir/ver" "$EVAULT" -f "$v" --passphrase-file "$dir/pass" \
                verify
            run_timed "$dir/sha" sha256sum "$src"
        else
            run_timed "$dir/sha" sha256sum "$src"
            run_timed "$dir/ver" "$EVAULT" -f "$v" --passphrase-file "$dir/pass" \
                verify
        fi
        rm -f "$v"; sync
        read -r add addrss <"$dir/add"
        read -r ext extrss <"$dir/ext"
        read -r ver _ <"$dir/ver"
        read -r sha _ <"$dir/sha"
        echo "@store $mb $r $cpt $cps $add $ext $addrss $extrss $ver $sha"
    done
    rm -f "$src"
}

# many_files N ROUNDS: print "@many N ROUND VERIFY SHA" (N files of 3 MiB
# and a little, one vault; verify and sha256sum take turns going first).
many_files() {
    local n=$1 rounds=$2 r i v=$dir/m.evault
    note "writing $n files of 3 MiB and a vault holding them"
    mkdir -p "$dir/many" || die "cannot make $dir/many"
    for i in $(seq 1 "$n"); do
        head -c $((3 * 1048576 + i * 1000)) /dev/urandom >"$dir/many/f$i.jpg" ||
            die "cannot write the files"
    done
    "$HELPER" mkvault "$v" "$dir/pass" interactive 1 >/dev/null || die "mkvault failed"
    find "$dir/many" -name '*.jpg' -print0 |
        xargs -0 "$EVAULT" -f "$v" --passphrase-file "$dir/pass" evidence add 1 \
            >/dev/null || die "evidence add of the files failed"
    sync
    for r in $(seq 1 "$rounds"); do
        note "$n files, round $r of $rounds"
        if [ $((r % 2)) -eq 1 ]; then
            run_timed "$dir/ver" "$EVAULT" -f "$v" --passphrase-file "$dir/pass" verify
            run_timed "$dir/sha" sha256sum "$dir"/many/*
        else
            run_timed "$dir/sha" sha256sum "$dir"/many/*
            run_timed "$dir/ver" "$EVAULT" -f "$v" --passphrase-file "$dir/pass" verify
        fi
        read -r ver _ <"$dir/ver"
        read -r sha _ <"$dir/sha"
        echo "@many $n $r $ver $sha"
    done
    rm -rf "$dir/many" "$v"
}

results=$dir/results
one_size "$MB" "$REPS" | tee -a "$results"
[ "$BIG_MB" -gt 0 ] && one_size "$BIG_MB" 1 | tee -a "$results"
[ "$MANY" -gt 0 ] && many_files "$MANY" "$REPS" | tee -a "$results"

col() { awk -v m="$1" -v c="$2" '$1 == "@store" && $2 == m { print $c }' "$results"; }
ratio() { awk -v m="$1" -v a="$2" -v b="$3" '$1 == "@store" && $2 == m { printf "%.4f\n", $a / $b }' "$results"; }
kib_to_mib() { awk -v k="$1" 'BEGIN { if (k == "") print ""; else printf "%.1f\n", k / 1024 }'; }

add_cp=$(ratio "$MB" 6 4 | median)
ext_cp=$(ratio "$MB" 7 4 | median)
add_cps=$(ratio "$MB" 6 5 | median)
ext_cps=$(ratio "$MB" 7 5 | median)
rss_add=$(kib_to_mib "$(col "$MB" 8 | median)")
rss_ext=$(kib_to_mib "$(col "$MB" 9 | median)")
rss_add_big=$(kib_to_mib "$(col "$BIG_MB" 8 | median)")
rss_ext_big=$(kib_to_mib "$(col "$BIG_MB" 9 | median)")
limit=$((64 + 64)) # interactive Argon2id (64 MiB) + 64 MiB

echo "== evidence store, $MB MiB file, median of $REPS rounds (seconds) =="
printf '  cp %.2f, cp+sync %.2f, evidence add %.2f, evidence extract %.2f\n' \
    "$(col "$MB" 4 | median)" "$(col "$MB" 5 | median)" "$(col "$MB" 6 | median)" "$(col "$MB" 7 | median)"
echo "  (add and extract include unlock, the commit's fsync and, for extract, fsync of the output)"
printf '%-44s %10s %10s  %s\n' target measured wanted result
printf '%-44s %10s %10s  %s\n' "evidence add / cp, $MB MiB" "${add_cp}x" "<= 1.30x" "$(verdict "$add_cp" 1.3)"
printf '%-44s %10s %10s  %s\n' "evidence extract / cp, $MB MiB" "${ext_cp}x" "<= 1.30x" "$(verdict "$ext_cp" 1.3)"
printf '%-44s %10s %10s  %s\n' "  context: add / (cp + sync)" "${add_cps}x" "-" "-"
printf '%-44s %10s %10s  %s\n' "  context: extract / (cp + sync)" "${ext_cps}x" "-" "-"
printf '%-44s %10s %10s  %s\n' "peak RSS, add $MB MiB" "$rss_add MiB" "<= $limit MiB" "$(verdict "$rss_add" $limit)"
printf '%-44s %10s %10s  %s\n' "peak RSS, extract $MB MiB" "$rss_ext MiB" "<= $limit MiB" "$(verdict "$rss_ext" $limit)"
ver_sha=$(ratio "$MB" 10 11 | median)
printf '  verify %.2f (unlock with the interactive KDF included), sha256sum %.2f\n' \
    "$(col "$MB" 10 | median)" "$(col "$MB" 11 | median)"
printf '%-44s %10s %10s  %s\n' "verify / sha256sum, $MB MiB of evidence" "${ver_sha}x" "<= 0.50x" "$(verdict "$ver_sha" 0.5)"
if [ "$MANY" -gt 0 ]; then
    many=$(awk '$1 == "@many" { printf "%.4f\n", $4 / $5 }' "$results" | median)
    printf '  verify %.2f, sha256sum %.2f (%s files of 3 MiB)\n' \
        "$(awk '$1 == "@many" { print $4 }' "$results" | median)" \
        "$(awk '$1 == "@many" { print $5 }' "$results" | median)" "$MANY"
    printf '%-44s %10s %10s  %s\n' "  context: verify / sha256sum, $MANY files" "${many}x" "-" "-"
fi
if [ "$BIG_MB" -gt 0 ]; then
    printf '%-44s %10s %10s  %s\n' "peak RSS, add $BIG_MB MiB" "$rss_add_big MiB" "<= $limit MiB" "$(verdict "$rss_add_big" $limit)"
    printf '%-44s %10s %10s  %s\n' "peak RSS, extract $BIG_MB MiB" "$rss_ext_big MiB" "<= $limit MiB" "$(verdict "$rss_ext_big" $limit)"
fi

#!/bin/bash
# bench_bundle.sh: the handover-bundle benchmark (called by bench/run.sh, or
# alone: BUILD=build/rel bench/bench_bundle.sh).
#
#   1. `evault export --to P --all` of a vault holding one incident with a
#      1 GiB evidence file, vs the pipeline a partner without evault would
#      run on the same file: `tar cf - DIR | age -r R > out && minisign -Sm
#      out` (unencrypted minisign key, so no prompt); rounds interleave the
#      two, the summary quotes the median of per-round ratios (target <=
#      1.0);
#   2. `evault import-bundle` of that bundle into an empty vault (a fresh
#      copy each round), vs what a partner without evault runs on a bundle
#      of the same files: `minisign -Vm && age -d | tar x && sha256sum -c`
#      (target <= 1.0, median of per-round ratios);
#   3. peak RSS of the export for the 1 GiB file and a 4 GiB one (target:
#      the same for both, at most the KDF's memory + 64 MiB), and of the
#      import of both bundles.
#
# Environment: BUILD, BENCH_DIR (scratch parent, default bench/out),
# BENCH_BUNDLE_MB (1024), BENCH_BUNDLE_BIG_MB (4096; 0 skips), and
# BENCH_BUNDLE_REPS (3).
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build/rel}
MB=${BENCH_BUNDLE_MB:-1024}
BIG_MB=${BENCH_BUNDLE_BIG_MB:-4096}
REPS=${BENCH_BUNDLE_REPS:-3}
parent=${BENCH_DIR:-bench/out}
EVAULT=$PWD/$BUILD/evault
HELPER=$PWD/$BUILD/bench/bench_store
TIME=/usr/bin/time

BENCH_NAME=bench_bundle
. bench/lib.sh

for t in age age-keygen minisign tar; do
    command -v "$t" >/dev/null || die "$t is needed (make deps)"
done
[ -x "$TIME" ] || die "/usr/bin/time is needed"
[ -x "$EVAULT" ] || die "build $EVAULT first"
[ -x "$HELPER" ] || die "build $HELPER first (bench/bench_store.sh does)"
mkdir -p "$parent" || exit 1
dir=$(mktemp -d "$parent/bundle.XXXXXX") || exit 1
dir=$(cd "$dir" && pwd)
trap 'rm -rf "$dir"' EXIT
printf 'bench bundle passphrase\n' >"$dir/pass"
age-keygen -o "$dir/p.key" 2>/dev/null
minisign -G -W -f -p "$dir/p.pub" -s "$dir/p.sec" >/dev/null 2>&1
R=$(age-keygen -y "$dir/p.key")

# one_size MB ROUNDS IMPORT: "@bundle MB ROUND EXPORT PIPELINE RSS [IMPORT
# UNPACK IMPORT_RSS]" (the import columns when IMPORT is 1)
one_size() {
    local mb=$1 rounds=$2 imp=$3 r v=$dir/v.evault rx=$dir/rx.evault
    note "$mb MiB: writing the file and a vault holding it"
    mkdir -p "$dir/files"
    head -c $((mb * 1048576)) /dev/urandom >"$dir/files/evidence.bin" || die "cannot write"
    rm -f "$v"
    "$HELPER" mkvault "$v" "$dir/pass" interactive 1 >/dev/null || die "mkvault failed"
    E() { "$EVAULT" -f "$v" --passphrase-file "$dir/pass" "$@"; }
    E evidence add 1 "$dir/files/evidence.bin" >/dev/null 2>&1 || die "evidence add failed"
    E partner add P --age-recipient "$R" --minisign-key "$dir/p.pub" --yes >/dev/null || die "partner add failed"
    if [ "$imp" = 1 ]; then
        # the receiver: an evault vault that knows the sender by its card
        rm -f "$rx" "$dir"/*.card "$dir/s.pub"
        "$HELPER" mkvault "$rx" "$dir/pass" interactive 0 >/dev/null || die "mkvault failed"
        X() { "$EVAULT" -f "$rx" --passphrase-file "$dir/pass" "$@"; }
        E identity --card "$dir/s.card" >/dev/null && X identity --card "$dir/r.card" >/dev/null &&
            E identity --minisign-pubkey "$dir/s.pub" >/dev/null &&
            E partner add RX --card "$dir/r.card" --yes >/dev/null &&
            X partner add S --card "$dir/s.card" --yes >/dev/null || die "card exchange failed"
        cp "$rx" "$dir/rx0.evault"
    fi
    sync
    for r in $(seq 1 "$rounds"); do
        local t ex pl
        rm -f "$dir/b.age" "$dir/b.age.minisig" "$dir/t.age" "$dir/t.age.minisig"
        t=$(now_ns)
        "$TIME" -f '%M' -o "$dir/rss" "$EVAULT" -f "$v" --passphrase-file "$dir/pass" \
            export --to P --all -o "$dir/b.age" >/dev/null 2>"$dir/err" || { cat "$dir/err" >&2; die "export failed"; }
        ex=$(secs_since "$t")
        t=$(now_ns)
        (cd "$dir/files" && tar cf - . | age -r "$R" >"$dir/t.age") &&
            minisign -S -s "$dir/p.sec" -m "$dir/t.age" >/dev/null 2>&1 || die "pipeline failed"
        pl=$(secs_since "$t")
        local line="@bundle $mb $r $ex $pl $(tail -n 1 "$dir/rss")"
        if [ "$imp" = 1 ]; then
            local im un
            rm -f "$dir/x.age" "$dir/x.age.minisig" "$dir/t.age" "$dir/t.age.minisig"
            rm -rf "$dir/unpack"
            E export --to RX --all -o "$dir/x.age" >/dev/null 2>&1 || die "export to RX failed"
            cp "$dir/rx0.evault" "$rx"
            sync
            t=$(now_ns)
            "$TIME" -f '%M' -o "$dir/rss" "$EVAULT" -f "$rx" --passphrase-file "$dir/pass" \
                import-bundle "$dir/x.age" --from S >/dev/null 2>"$dir/err" || { cat "$dir/err" >&2; die "import failed"; }
            im=$(secs_since "$t")
            mkdir "$dir/unpack"
            sync
            t=$(now_ns)
            minisign -Vm "$dir/b.age" -p "$dir/s.pub" >/dev/null &&
                age -d -i "$dir/p.key" "$dir/b.age" | tar xf - -C "$dir/unpack" &&
                (cd "$dir"/unpack/bundle-* && sha256sum -c --quiet manifest-sha256.txt) || die "unpack pipeline failed"
            un=$(secs_since "$t")
            line="$line $im $un $(tail -n 1 "$dir/rss")"
            rm -rf "$dir/unpack"
        fi
        echo "$line"
    done
    rm -rf "$dir/files" "$v" "$rx" "$dir"/*.evault "$dir"/*.age "$dir"/*.minisig
}

res=$dir/results
one_size "$MB" "$REPS" 1 | tee -a "$res"
[ "$BIG_MB" -gt 0 ] && one_size "$BIG_MB" 1 1 | tee -a "$res"
col() { awk -v m="$1" -v c="$2" '$1 == "@bundle" && $2 == m { print $c }' "$res"; }
ratio=$(awk -v m="$MB" '$1 == "@bundle" && $2 == m { printf "%.4f\n", $4 / $5 }' "$res" | median)
rss=$(col "$MB" 6 | median | awk '{ printf "%.1f", $1 / 1024 }')
iratio=$(awk -v m="$MB" '$1 == "@bundle" && $2 == m && $8 > 0 { printf "%.4f\n", $7 / $8 }' "$res" | median)
irss=$(col "$MB" 9 | median | awk '{ printf "%.1f", $1 / 1024 }')
rss_big=$(col "$BIG_MB" 6 | median | awk '{ if ($1 != "") printf "%.1f", $1 / 1024 }')
irss_big=$(col "$BIG_MB" 9 | median | awk '{ if ($1 != "") printf "%.1f", $1 / 1024 }')
limit=$((64 + 64))
echo "== bundles, $MB MiB of evidence, median of $REPS rounds (seconds) =="
printf '  evault export %.2f, tar | age -r && minisign -S %.2f\n' \
    "$(col "$MB" 4 | median)" "$(col "$MB" 5 | median)"
printf '  evault import-bundle %.2f, minisign -V && age -d | tar x && sha256sum -c %.2f\n' \
    "$(col "$MB" 7 | median)" "$(col "$MB" 8 | median)"
printf '%-44s %10s %10s  %s\n' target measured wanted result
printf '%-44s %10s %10s  %s\n' "export / (tar|age && minisign), $MB MiB" "${ratio}x" "<= 1.00x" "$(verdict "$ratio" 1.0)"
printf '%-44s %10s %10s  %s\n' "import / (minisign && age|tar && sha256sum)" "${iratio}x" "<= 1.00x" "$(verdict "$iratio" 1.0)"
printf '%-44s %10s %10s  %s\n' "peak RSS, export $MB MiB" "$rss MiB" "<= $limit MiB" "$(verdict "$rss" $limit)"
printf '%-44s %10s %10s  %s\n' "peak RSS, import $MB MiB" "$irss MiB" "<= $limit MiB" "$(verdict "$irss" $limit)"
[ "$BIG_MB" -gt 0 ] &&
    printf '%-44s %10s %10s  %s\n' "peak RSS, export $BIG_MB MiB" "$rss_big MiB" "<= $limit MiB" "$(verdict "$rss_big" $limit)" &&
    printf '%-44s %10s %10s  %s\n' "peak RSS, import $BIG_MB MiB" "$irss_big MiB" "<= $limit MiB" "$(verdict "$irss_big" $limit)"

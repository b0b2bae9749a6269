#!/bin/bash
# run.sh: the container benchmark behind `make bench`.
#
#   1. the workload of bench/bench_sql.c (200,000 incident-like rows in
#      transactions of 1,000, CREATE INDEX, 10,000 point reads, a full scan)
#      on plain SQLite and on a vault, and on SQLCipher with and without a
#      key; rounds interleave both binaries so that every mode shares the
#      same stretch of this noisy machine;
#   2. unlock time minus the KDF's own time (vault_open vs kdf_passphrase);
#   3. `evault shred --yes` on a vault of a few hundred MiB, next to `cp`;
#   4. queries on a vault of 100,000 incidents and 300,000 actors
#      (bench/bench_query.c): unlock, one month of `incident list`, a search
#      for a rare word, each query the first after a fresh unlock; and the
#      whole `evault incident list --since --until` and `evault search`
#      commands;
#   6. (printed before 5) the cost of one custody-log entry
#      (bench/bench_custody.c);
#   5. the evidence store (bench/bench_store.sh): ingest and extract of a
#      1 GiB file against `cp`, and peak RSS for 1 GiB and 4 GiB files.
#
# Prints medians and ratios against a baseline timed in the same run, then a
# summary with PASS/MISS per target. Timings are never test assertions; the
# exit status is 0 unless something failed to run.
#
# Environment: BUILD (build dir, default build/rel), MAKE, BENCH_ROUNDS (5),
# BENCH_ROWS (200000), BENCH_UNLOCK_REPS (7), BENCH_SHRED_MB (300),
# BENCH_SHRED_REPS (3), BENCH_Q_INCIDENTS (100000), BENCH_Q_ACTORS (300000),
# BENCH_Q_REPS (7), BENCH_DIR (scratch parent, default bench/out; keep it
# on a real disk: fsync cost is part of what is measured).
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build/rel}
MAKE=${MAKE:-make}
ROUNDS=${BENCH_ROUNDS:-5}
ROWS=${BENCH_ROWS:-200000}
UNLOCK_REPS=${BENCH_UNLOCK_REPS:-7}
SHRED_MB=${BENCH_SHRED_MB:-300}
SHRED_REPS=${BENCH_SHRED_REPS:-3}
parent=${BENCH_DIR:-bench/out}

BSQL=$BUILD/bench/bench_sql
BCIPHER=$BUILD/bench/bench_sqlcipher
EVAULT=$BUILD/evault

mkdir -p "$parent" || exit 1
dir=$(mktemp -d "$parent/run.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
results=$dir/results.txt
: >"$results"

say() { printf '%s\n' "$*"; }
note() { printf 'bench: %s\n' "$*" >&2; }
die() { note "$*"; exit 1; }

# Median of the numbers on stdin (one a line); empty input prints nothing.
median() {
    sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) exit;
              if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2];
              else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# col MODE N: column N of every "@run MODE" line.
col() { awk -v m="$1" -v c="$2" '$1 == "@run" && $2 == m { print $c }' "$results"; }

# per_round A B N: for each round, column N of mode A divided by mode B.
per_round() {
    awk -v a="$1" -v b="$2" -v c="$3" '$1 == "@run" && $2 == a { x[$3] = $c }
        $1 == "@run" && $2 == b { y[$3] = $c }
        END { for (r in x) if ((r in y) && y[r] > 0) printf "%.4f\n", x[r] / y[r] }' \
        "$results"
}

fmt() { awk -v x="$1" -v f="$2" 'BEGIN { if (x == "") print "n/a"; else printf f, x }'; }

ms_now() { date +%s%N; }
ms_since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.3f\n", (b - a) / 1e6 }'; }

# ---- setup -----------------------------------------------------------------

have_cipher=1
if ! ./tests/deps.sh libsqlcipher-dev sqlcipher; then
    note "SQLCipher is not installed: its comparison is skipped (see the command above)"
    have_cipher=0
fi
targets="$EVAULT $BSQL"
[ "$have_cipher" = 1 ] && targets="$targets $BCIPHER"
# shellcheck disable=SC2086
$MAKE --no-print-directory BUILD="$BUILD" $targets >"$dir/build.log" 2>&1 || {
    cat "$dir/build.log" >&2; die "build failed"; }

say "== evault container benchmark =="
say "machine: $(nproc) cores, $(uname -r); scratch: $dir"
say "workload: $ROWS rows in transactions of 1000, CREATE INDEX, 10000 point reads, full scan;"
say "  page size 4096, journal_mode=DELETE, synchronous=FULL, default cache,"
say "  temp_store=MEMORY and secure_delete=ON (the vault's own policy) in every mode"
say "  $ROUNDS rounds; each round runs plain+vault in one process and"
say "  SQLCipher unkeyed+keyed in another (then SQLCipher with its defaults),"
say "  order alternating; medians below"
say ""

# ---- 1. workload -----------------------------------------------------------

run_main() {
    "$BSQL" --reps 1 --rep-base "$1" --rows "$ROWS" --dir "$dir" >"$dir/main.$1" ||
        { cat "$dir/main.$1" >&2; die "bench_sql failed in round $1"; }
    grep '^@run' "$dir/main.$1" >>"$results"
}
run_cipher() {
    "$BCIPHER" --reps 1 --rep-base "$1" --rows "$ROWS" --dir "$dir" >"$dir/cipher.$1" ||
        { cat "$dir/cipher.$1" >&2; die "bench_sqlcipher failed in round $1"; }
    grep '^@run' "$dir/cipher.$1" >>"$results"
    # Context: SQLCipher as it comes (1024-byte pages), keyed mode only.
    "$BCIPHER" --reps 1 --rep-base "$1" --rows "$ROWS" --dir "$dir" \
        --cipher-defaults --only sqlc-default >"$dir/cdef.$1" ||
        { cat "$dir/cdef.$1" >&2; die "bench_sqlcipher --cipher-defaults failed in round $1"; }
    grep '^@run' "$dir/cdef.$1" >>"$results"
}

for r in $(seq 1 "$ROUNDS"); do
    note "workload round $r of $ROUNDS"
    if [ "$have_cipher" = 1 ] && [ $((r % 2)) = 0 ]; then
        run_cipher "$r"; run_main "$r"
    else
        run_main "$r"
        [ "$have_cipher" = 1 ] && run_cipher "$r"
    fi
done

modes="plain vault"
[ "$have_cipher" = 1 ] && modes="$modes sqlc-plain sqlcipher sqlc-default"
say "workload, median ms of $ROUNDS rounds:"
printf '  %-11s %9s %9s %9s %9s %9s %9s %9s\n' mode insert index reads scan total cpu "x plain"
for m in $modes; do
    printf '  %-11s' "$m"
    for c in 4 5 6 7 8 9; do printf ' %9.1f' "$(col "$m" "$c" | median)"; done
    printf ' %9s\n' "$(fmt "$(per_round "$m" plain 8 | median)" '%.2f')"
done
say "  (wall ms except cpu = user+system ms of the whole workload, which other load"
say "   on the machine disturbs less but which leaves out waiting for fsync;"
say "   x plain: median over rounds of the mode's total / plain's total in that round;"
say "   plain = libsqlite3 $(sed -n 's/^# .* with SQLite \([^:]*\):.*/\1/p' "$dir/main.1"), sqlc-plain = SQLCipher's own engine, SQLite $(sed -n 's/^# .* with SQLite \([^:]*\):.*/\1/p' "$dir/cipher.1" 2>/dev/null), no key)"
printf '  %-11s' "vault/plain"
for c in 4 5 6 7 8 9; do printf ' %9s' "$(fmt "$(per_round vault plain "$c" | median)" '%.2f')"; done
printf '\n'
if [ "$have_cipher" = 1 ]; then
    printf '  %-11s' "sqlc/vault"
    for c in 4 5 6 7 8 9; do printf ' %9s' "$(fmt "$(per_round sqlcipher vault "$c" | median)" '%.2f')"; done
    printf '\n'
    printf '  %-11s' "sqlc-dflt/v"
    for c in 4 5 6 7 8 9; do printf ' %9s' "$(fmt "$(per_round sqlc-default vault "$c" | median)" '%.2f')"; done
    printf '\n'
    say "  (sqlcipher: cipher_page_size=4096 like the others; sqlc-default: SQLCipher's"
    say "   own 1024-byte pages, what \`sqlcipher\` gives out of the box)"
fi
say "  per-round vault/plain totals: $(per_round vault plain 8 | sort -g | awk '{ printf "%.2f ", $1 }')"
if [ "$have_cipher" = 1 ]; then
    say "  per-round SQLCipher/vault totals: $(per_round sqlcipher vault 8 | sort -g | awk '{ printf "%.2f ", $1 }')"
    say "  encryption overhead over its own engine (total, median of rounds):"
    say "    vault $(fmt "$(per_round vault plain 8 | median)" '%.2fx'), SQLCipher 4 KiB pages $(fmt "$(per_round sqlcipher sqlc-plain 8 | median)" '%.2fx'), SQLCipher defaults $(fmt "$(per_round sqlc-default sqlc-plain 8 | median)" '%.2fx')"
fi
say ""

vault_ratio=$(per_round vault plain 8 | median)
cipher_speedup="" cipher_dflt_speedup=""
if [ "$have_cipher" = 1 ]; then
    cipher_speedup=$(per_round sqlcipher vault 8 | median)
    cipher_dflt_speedup=$(per_round sqlc-default vault 8 | median)
fi

# ---- 2. unlock -------------------------------------------------------------

note "unlock timing"
"$BSQL" --reps 0 --unlock "$UNLOCK_REPS" --dir "$dir" >"$dir/unlock" ||
    { cat "$dir/unlock" >&2; die "unlock benchmark failed"; }
open_med=$(awk '$1 == "@unlock" { print $2 }' "$dir/unlock" | median)
kdf_med=$(awk '$1 == "@unlock" { print $3 }' "$dir/unlock" | median)
pair_med=$(awk '$1 == "@unlock" { print $2 - $3 }' "$dir/unlock" | median)
nokdf_med=$(awk '$1 == "@unlock_nokdf" { print $2 }' "$dir/unlock" | median)
min_diff=$(awk '$1 == "@unlock" { if (n++ == 0 || $2 < a) a = $2; if (n == 1 || $3 < b) b = $3 }
    END { if (n) printf "%.3f\n", a - b }' "$dir/unlock")
unlock_extra=$(awk -v a="$open_med" -v b="$kdf_med" 'BEGIN { printf "%.3f\n", a - b }')
say "unlock, median of $UNLOCK_REPS (interactive Argon2id):"
say "  vault_open                 $(fmt "$open_med" '%8.1f') ms"
say "  kdf_passphrase alone       $(fmt "$kdf_med" '%8.1f') ms"
say "  unlock minus KDF           $(fmt "$nokdf_med" '%8.1f') ms  (vault_open of a vault whose keyslot has the"
say "                                         minimal 'test' Argon2id cost: the same code minus the KDF)"
say "  cross-checks, by subtraction (Argon2id's own spread here is tens of ms):"
say "    difference of medians $(fmt "$unlock_extra" '%.1f') ms, median of paired differences $(fmt "$pair_med" '%.1f') ms,"
say "    difference of minimums $(fmt "$min_diff" '%.1f') ms"
say ""

# ---- 3. shred --------------------------------------------------------------

note "building a $SHRED_MB MiB vault for the shred timing"
big=$dir/big.evault
"$BSQL" --make-vault "$big" --mb "$SHRED_MB" || die "cannot build the large vault"
sync -f "$big" 2>/dev/null || sync
big_size=$(stat -c %s "$big")
: >"$dir/shred"
for r in $(seq 1 "$SHRED_REPS"); do
    copy=$dir/copy-$r.evault
    t=$(ms_now); cp "$big" "$copy" || die "cp failed"; cp_ms=$(ms_since "$t")
    t=$(ms_now); sync "$copy" || sync; sync_ms=$(ms_since "$t")
    # The copy is a real vault of the same size, its data already on disk
    # (as a vault's is after SQLite's synchronous commits).
    t=$(ms_now)
    "$EVAULT" -f "$copy" shred --yes 2>"$dir/shred.err" ||
        { cat "$dir/shred.err" >&2; die "evault shred failed"; }
    shred_ms=$(ms_since "$t")
    if cmp -s -n 4096 "$big" "$copy"; then die "shred left the keyslot region unchanged"; fi
    echo "$cp_ms $sync_ms $shred_ms" >>"$dir/shred"
    rm -f "$copy"
done
cp_med=$(awk '{ print $1 }' "$dir/shred" | median)
cpsync_med=$(awk '{ print $1 + $2 }' "$dir/shred" | median)
shred_med=$(awk '{ print $3 }' "$dir/shred" | median)
say "shred, median of $SHRED_REPS on a vault of $((big_size / 1048576)) MiB:"
say "  evault shred --yes         $(fmt "$shred_med" '%8.1f') ms  (whole process: start, overwrite 4 KiB of keyslots, fsync)"
say "  cp (context)               $(fmt "$cp_med" '%8.1f') ms  (into the page cache)"
say "  cp + sync (context)        $(fmt "$cpsync_med" '%8.1f') ms  (to disk)"
say ""

# ---- 4. queries on a loaded vault ---------------------------------------------

Q_INCIDENTS=${BENCH_Q_INCIDENTS:-100000}
Q_ACTORS=${BENCH_Q_ACTORS:-300000}
Q_REPS=${BENCH_Q_REPS:-7}
BQUERY=$BUILD/bench/bench_query
$MAKE --no-print-directory BUILD="$BUILD" "$BQUERY" >"$dir/build-query.log" 2>&1 || {
    cat "$dir/build-query.log" >&2; die "build of bench_query failed"; }
note "loading $Q_INCIDENTS incidents and $Q_ACTORS actors for the query timings"
"$BQUERY" --dir "$dir" --incidents "$Q_INCIDENTS" --actors "$Q_ACTORS" \
    --reps "$Q_REPS" --keep >"$dir/query" ||
    { cat "$dir/query" >&2; die "bench_query failed"; }
qcol() { awk -v k="$1" -v c="$2" '$1 == k { print $c }' "$dir/query"; }
q_load_s=$(awk '$1 == "@qload" { printf "%.1f\n", $4 / 1000 }' "$dir/query")
q_mib=$(awk '$1 == "@qload" { printf "%d\n", $5 / 1048576 }' "$dir/query")
q_unlock=$(qcol @qunlock 2 | median)
q_month=$(qcol @qmonth 2 | median)
q_rare=$(qcol @qrare 2 | median)
q_common=$(qcol @qcommon 2 | median)
q_vault=$(qcol @qvault 2)
say "queries on a vault of $Q_INCIDENTS incidents and $Q_ACTORS actors ($q_mib MiB, loaded in $q_load_s s"
say "  through the schema's triggers), median of $Q_REPS; each query is the first after a fresh unlock:"
say "  unlock (vault_open, interactive KDF) $(fmt "$q_unlock" '%8.1f') ms"
say "  one month, start_date BETWEEN   $(fmt "$q_month" '%8.2f') ms  ($(qcol @qmonth 3 | tail -1) rows in the last month timed)"
say "  search, rare word (4 records)   $(fmt "$q_rare" '%8.2f') ms  ($(qcol @qrare 3 | tail -1) hits)"
say "  search, common word (context)   $(fmt "$q_common" '%8.2f') ms  ($(qcol @qcommon 3 | tail -1) hits shown of ~1 record in 8)"

# The real commands, whole process (start, unlock with the KDF, query,
# print), when they exist; the same process running `sql "SELECT 1"` is the
# baseline (start + unlock + nothing), so command minus baseline is the
# query and its output. Runs interleave so all three share the machine's
# mood; medians.
q_cli_base="" q_cli_list="" q_cli_search=""
if [ -n "$q_vault" ]; then
    have_list=0
    "$EVAULT" help incident >/dev/null 2>&1 && have_list=1
    : >"$dir/cli"
    cli_run() { # cli_run NAME ARGS...: append "NAME ms" or note a failure
        local name=$1 t
        shift
        t=$(ms_now)
        if "$EVAULT" -f "$q_vault" --passphrase-file "$q_vault.pass" "$@" \
            >"$dir/cli.out" 2>"$dir/cli.err"; then
            echo "$name $(ms_since "$t")" >>"$dir/cli"
        else
            note "evault $* failed: $(head -c 300 "$dir/cli.err")"
        fi
    }
    for i in $(seq 1 "$Q_REPS"); do
        cli_run base sql "SELECT 1"
        cli_run search search quetzalcoatlus
        [ "$have_list" = 1 ] && cli_run list incident list --since 2019-05-01 --until 2019-05-31
    done
    cli_med() { awk -v n="$1" '$1 == n { print $2 }' "$dir/cli" | median; }
    q_cli_base=$(cli_med base)
    q_cli_search=$(cli_med search)
    q_cli_list=$(cli_med list)
fi
minus_base() { awk -v a="$1" -v b="$q_cli_base" 'BEGIN { if (a == "" || b == "") exit; printf "%.1f\n", a - b }'; }
say "  whole commands (process start + unlock + query + output), median of $Q_REPS:"
say "    evault sql \"SELECT 1\" (baseline)               $(fmt "$q_cli_base" '%8.1f') ms"
say "    evault incident list --since/--until one month $(fmt "$q_cli_list" '%8.1f') ms  (minus baseline: $(fmt "$(minus_base "$q_cli_list")" '%.1f') ms)"
say "    evault search quetzalcoatlus                   $(fmt "$q_cli_search" '%8.1f') ms  (minus baseline: $(fmt "$(minus_base "$q_cli_search")" '%.1f') ms)"
say ""

# ---- summary ---------------------------------------------------------------

verdict() { # verdict VALUE OP LIMIT
    awk -v x="$1" -v op="$2" -v l="$3" 'BEGIN {
        if (x == "") { print "n/a"; exit }
        ok = (op == "<=") ? x <= l : (op == ">=") ? x >= l : x < l
        print ok ? "PASS" : "MISS" }'
}
say "== summary (medians; ratios from the same rounds) =="
printf '%-40s %12s %12s  %s\n' target measured wanted result
printf '%-40s %12s %12s  %s\n' "vault / plain SQLite, workload" \
    "$(fmt "$vault_ratio" '%.2fx')" "<= 1.30x" "$(verdict "$vault_ratio" '<=' 1.3)"
if [ "$have_cipher" = 1 ]; then
    printf '%-40s %12s %12s  %s\n' "SQLCipher / vault, workload" \
        "$(fmt "$cipher_speedup" '%.2fx')" ">= 2.00x" "$(verdict "$cipher_speedup" '>=' 2)"
    printf '%-40s %12s %12s  %s\n' "  same, SQLCipher defaults (1 KiB pages)" \
        "$(fmt "$cipher_dflt_speedup" '%.2fx')" ">= 2.00x" "$(verdict "$cipher_dflt_speedup" '>=' 2)"
else
    printf '%-40s %12s %12s  %s\n' "SQLCipher / vault, workload" "skipped" ">= 2.00x" "n/a"
fi
printf '%-40s %12s %12s  %s\n' "unlock minus KDF" \
    "$(fmt "$nokdf_med" '%.1f ms')" "< 20 ms" "$(verdict "$nokdf_med" '<' 20)"
printf '%-40s %12s %12s  %s\n' "evault shred --yes, $((big_size / 1048576)) MiB vault" \
    "$(fmt "$shred_med" '%.1f ms')" "< 1000 ms" "$(verdict "$shred_med" '<' 1000)"
printf '%-40s %12s %12s  %s\n' "cp of that file (context)" \
    "$(fmt "$cp_med" '%.1f ms')" "-" "-"
printf '%-40s %12s %12s  %s\n' "unlock, loaded vault (interactive KDF)" \
    "$(fmt "$q_unlock" '%.1f ms')" "-" "-"
printf '%-40s %12s %12s  %s\n' "month list, first query after unlock" \
    "$(fmt "$q_month" '%.2f ms')" "< 50 ms" "$(verdict "$q_month" '<' 50)"
printf '%-40s %12s %12s  %s\n' "rare-word search, first after unlock" \
    "$(fmt "$q_rare" '%.2f ms')" "< 50 ms" "$(verdict "$q_rare" '<' 50)"
printf '%-40s %12s %12s  %s\n' "  evault incident list, minus baseline" \
    "$(fmt "$(minus_base "$q_cli_list")" '%.1f ms')" "< 50 ms" "$(verdict "$(minus_base "$q_cli_list")" '<' 50)"
printf '%-40s %12s %12s  %s\n' "  evault search, minus baseline" \
    "$(fmt "$(minus_base "$q_cli_search")" '%.1f ms')" "< 50 ms" "$(verdict "$(minus_base "$q_cli_search")" '<' 50)"

# ---- 6. custody log: one entry's cost (bench/bench_custody.c) -------------
if "$MAKE" --no-print-directory BUILD="$BUILD" "$BUILD/bench/bench_custody" \
    >"$dir/build-custody.log" 2>&1 &&
    "$BUILD/bench/bench_custody" "$dir" >"$dir/custody"; then
    read -r _ _ c_entry _ c_add _ c_rec <"$dir/custody"
    printf '%-40s %12s %12s  %s\n' "custody entry (hash + sign + insert)" \
        "$(fmt "$c_entry" '%.3f ms')" "< 1 ms" "$(verdict "$c_entry" '<' 1)"
    printf '%-40s %12s %12s  %s\n' "  incident add with its entry (context)" \
        "$(fmt "$c_add" '%.2f ms')" "-" "-"
    printf '%-40s %12s %12s  %s\n' "  entry in its own commit (extract)" \
        "$(fmt "$c_rec" '%.2f ms')" "-" "-"
else
    note "the custody benchmark failed: $(tail -c 300 "$dir/build-custody.log")"
fi

# ---- 5. evidence store (bench/bench_store.sh prints its own summary) ------
BUILD="$BUILD" MAKE="$MAKE" BENCH_DIR="$parent" ./bench/bench_store.sh ||
    note "the evidence-store benchmark failed"

# ---- 7. handover bundles (bench/bench_bundle.sh prints its own summary) ---
BUILD="$BUILD" BENCH_DIR="$parent" ./bench/bench_bundle.sh ||
    note "the bundle benchmark failed"

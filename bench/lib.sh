# lib.sh: helpers shared by the benchmark scripts (sourced). BENCH_NAME
# names the script in messages.
note() { printf '%s: %s\n' "${BENCH_NAME:-bench}" "$*" >&2; }
die() { note "$*"; exit 1; }
# median of the numbers on standard input, one per line
median() {
    sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) exit;
              if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2];
              else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
now_ns() { date +%s%N; }
secs_since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'; }
# verdict VALUE LIMIT: PASS when VALUE <= LIMIT
verdict() { awk -v x="$1" -v l="$2" 'BEGIN { if (x == "") print "n/a"; else print (x <= l) ? "PASS" : "MISS" }'; }

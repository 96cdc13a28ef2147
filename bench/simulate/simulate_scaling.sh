#!/usr/bin/env bash
# Registers per second of a study-scale simulation at 1 and 2 threads, and
# peak memory against the number of registers (it should stay flat: each
# register is generated, estimated and discarded inside one task).
#   bench/simulate/simulate_scaling.sh [CWFX] [OUT.json]
# Each cell is one `cwfx simulate` process timed by /usr/bin/time -v.
set -euo pipefail
cwfx="${1:-build/release/tools/cwfx/cwfx}"
out="${2:-bench/simulate/results.json}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo -n '{"runs": [' > "$out"
first=1
for registers in 40 160; do
  for threads in 1 2; do
    /usr/bin/time -v "$cwfx" simulate --registers "$registers" --threads "$threads" --seed 11 \
      --out "$tmp/sim.h5" --overwrite --quiet --no-report 2> "$tmp/time.txt"
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tmp/time.txt" |
           awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    rss_kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time.txt")
    rate=$(awk -v r="$registers" -v w="$wall" 'BEGIN { printf "%.3f", r / w }')
    printf 'registers %4d  threads %d  wall %7.2f s  %6s registers/s  peak RSS %6.1f MiB\n' \
      "$registers" "$threads" "$wall" "$rate" "$(awk -v k="$rss_kib" 'BEGIN { print k / 1024 }')"
    [ $first -eq 1 ] || echo -n ', ' >> "$out"
    first=0
    echo -n "{\"registers\": $registers, \"threads\": $threads, \"seconds\": $wall, \"registers_per_second\": $rate, \"peak_rss_kib\": $rss_kib}" >> "$out"
  done
done
echo ']}' >> "$out"

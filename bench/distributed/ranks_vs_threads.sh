#!/usr/bin/env bash
# The cost of distribution on one machine: the same run as 1 rank x 1 thread,
# 1 rank x 2 threads (no MPI) and 2 ranks x 1 thread (mpirun, merge included).
#   bench/distributed/ranks_vs_threads.sh [CWFX_MPI_BINARY] [OUT.json]
# Needs cwfx-mpi (configure with -DCWFX_WITH_MPI=ON, as tools/test.sh does).
set -euo pipefail
cwfx="${1:-build/release/tools/cwfx/cwfx-mpi}"
out="${2:-bench/distributed/results.json}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$cwfx" generate --seed 20170507 --out "$tmp/reg.h5" >/dev/null
mpirun_="mpirun --allow-run-as-root --oversubscribe --mca btl self,vader"
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
echo -n '{"runs": [' > "$out"
first=1
for job in "replicate --scheme pairs --replications 600 --seed 1 --rank-draws 100 --no-report --quiet --data $tmp/reg.h5" \
           "simulate --registers 60 --seed 1 --no-report --quiet"; do
  name="${job%% *}"
  rows=$(echo "$job" | sed -E 's/.*--(replications|registers) ([0-9]+).*/\2/')
  for setup in "1x1" "1x2" "2x1"; do
    ranks="${setup%x*}"; threads="${setup#*x}"
    rm -f "$tmp/out.h5"*
    if [ "$ranks" = 1 ]; then
      s=$(seconds "$cwfx" $job --threads "$threads" --out "$tmp/out.h5")
    else
      s=$(seconds $mpirun_ -np "$ranks" "$cwfx" $job --threads "$threads" --out "$tmp/out.h5")
    fi
    rate=$(echo "scale=3; $rows / $s" | bc)
    printf '%-9s %s rank(s) x %s thread(s): %7.2f s, %8s rows/s\n' "$name" "$ranks" "$threads" "$s" "$rate"
    [ $first -eq 1 ] || echo -n ', ' >> "$out"
    first=0
    echo -n "{\"job\": \"$name\", \"rows\": $rows, \"ranks\": $ranks, \"threads\": $threads, \"seconds\": $s}" >> "$out"
  done
done
echo ']}' >> "$out"

#!/usr/bin/env bash
# Side by side with fixest: the same CSV, the whole process (read, fit,
# recover the effects), 2 threads each, runs alternating cwfx / fixest,
# medians of wall time and of peak RSS (GNU time's %M).
#
#   bash bench/peer/run.sh [--runs 3] [--sizes "1e6"] [--designs "easy difficult"]
#                          [--rlib /opt/peer-rlib] [--work /tmp/cwfx-peer]
#
# Needs build/release (cmake --build --preset release), /usr/bin/time, and
# fixest in a private R library (--rlib; fixest is built from its public
# repository for timing only and never enters this project). Prints one
# Markdown table; bench/peer/RESULTS.md keeps the figures of record.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
runs=3 sizes="1e6" designs="easy difficult" rlib=/opt/peer-rlib work=/tmp/cwfx-peer threads=2
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --sizes) sizes="$2"; shift 2 ;;
    --designs) designs="$2"; shift 2 ;;
    --rlib) rlib="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
cwfx="$here/build/release/tools/cwfx/cwfx"
panel="$here/build/release/bench/peer_panel"
[ -x "$panel" ] || panel="$(find "$here/build/release/bench" -name peer_panel -type f | head -1)"
[ -x "$cwfx" ] && [ -x "$panel" ] || { echo "run.sh: build the release preset first" >&2; exit 2; }
mkdir -p "$work"

# The designs of fixest's published benchmarks (../shared/ALGORITHMS.md),
# scaled with the row count: easy = many movers, 20 covariates at 1e6 and 10
# at 1e7; difficult = low mobility, 2 covariates.
panel_args() {  # design rows
  local rows; rows=$(python3 -c "print(int(float('$2')))")
  if [ "$1" = easy ]; then
    local k=20; [ "$rows" -ge 10000000 ] && k=10
    echo "--design easy --rows $rows --citizens $((rows / 5)) --caseworkers $((rows / 200 > 5000 ? rows / 500 : 5000)) --covariates $k"
  else
    echo "--design difficult --rows $rows --citizens $((rows / 20)) --caseworkers $((rows / 160)) --covariates 2"
  fi
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# timed LABEL COMMAND...: appends "seconds kib" to $work/LABEL.times
timed() {
  local label="$1"; shift
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" > "$work/$label.log" 2>&1 ||
    { echo "run.sh: $label failed:" >&2; tail -5 "$work/$label.log" >&2; exit 1; }
  cat "$work/time.txt" >> "$work/$label.times"
}

# cwfx runs twice: with the outputs fixest gives (coefficients with their
# standard errors, and the effects: --fe-std-errors none), which is the
# like-for-like ratio, and as by default (also the standard errors of every
# caseworker effect, which fixest does not compute).
echo "| panel | rows | fixest s | fixest GiB | cwfx s | cwfx GiB | speed ratio | memory ratio | cwfx default (+ effect SEs) s / GiB |"
echo "|---|---|---|---|---|---|---|---|---|"
for design in $designs; do
  for size in $sizes; do
    csv="$work/${design}_${size}.csv"
    [ -f "$csv" ] || "$panel" $(panel_args "$design" "$size") --seed 1 --out "$csv" > /dev/null
    xs=$(head -1 "$csv" | tr ',' '\n' | grep -E '^x[0-9]+$' | paste -sd, -)
    rm -f "$work"/cwfx.times "$work"/cwfx_default.times "$work"/fixest.times
    for _ in $(seq "$runs"); do
      rm -f "$work/out.h5"
      timed cwfx "$cwfx" estimate --data "$csv" --outcome y --covariates "$xs" --absorb caseworker,citizen \
        --threads "$threads" --fe-std-errors none --overwrite --out "$work/out.h5"
      timed fixest Rscript "$here/bench/peer/fixest_fit.R" "$csv" "$threads" "$rlib"
      timed cwfx_default "$cwfx" estimate --data "$csv" --outcome y --covariates "$xs" --absorb caseworker,citizen \
        --threads "$threads" --overwrite --out "$work/out.h5"
    done
    fs=$(cut -d' ' -f1 "$work/fixest.times" | median); fm=$(cut -d' ' -f2 "$work/fixest.times" | median)
    cs=$(cut -d' ' -f1 "$work/cwfx.times" | median); cm=$(cut -d' ' -f2 "$work/cwfx.times" | median)
    ds=$(cut -d' ' -f1 "$work/cwfx_default.times" | median); dm=$(cut -d' ' -f2 "$work/cwfx_default.times" | median)
    python3 - "$design" "$size" "$fs" "$fm" "$cs" "$cm" "$ds" "$dm" <<'PY'
import sys
d, n, fs, fm, cs, cm, ds, dm = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:])
g = 1024.0 * 1024.0
print(f"| {d} | {n} | {fs:.2f} | {fm / g:.2f} | {cs:.2f} | {cm / g:.2f} | {fs / cs:.2f}x | {cm / fm:.2f} "
      f"| {ds:.2f} / {dm / g:.2f} ({fs / ds:.2f}x) |")
PY
    for log in cwfx cwfx_default; do
      grep -E "^Backend|^Timings|^Peak|^Standard errors of" "$work/$log.log" | sed "s/^/    $log: /" | cut -c1-220 >&2
    done
  done
done

#!/usr/bin/env bash
# The simulation study of the issue note, end to end: installs, configures and
# builds as needed, then runs 500 synthetic registers with known truth on the
# default settings (the study's shape, ~23 citizens per caseworker, effect sd
# 8.4 pp) and a grid over the spread of the true effects, and writes
#   OUT_DIR/simulation.h5 / .html        (default settings, 500 registers)
#   OUT_DIR/simulation_grid.h5 / .html   (caseworker_effect_sd 0.04 .. 0.13)
#   tools/simulate.sh [OUT_DIR] [REGISTERS]    (defaults: out/, 500)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
out="${1:-out}"
registers="${2:-500}"
mkdir -p "$out"

bash tools/setup.sh
cwfx="build/release/tools/cwfx/cwfx"
"$cwfx" simulate --registers "$registers" --seed 1 --out "$out/simulation.h5" --overwrite
"$cwfx" simulate --registers "$registers" --seed 2 --grid caseworker_effect_sd=0.04,0.06,0.084,0.13 \
  --out "$out/simulation_grid.h5" --overwrite
echo
echo "simulate: open $out/simulation.html and $out/simulation_grid.html (self-contained pages)."

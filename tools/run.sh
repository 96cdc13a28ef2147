#!/usr/bin/env bash
# The main job, end to end: installs, configures and builds as needed, then
# generates the default synthetic register (the study's preset, seed 20170507)
# and runs the whole study of REPORT.md on it, with 1,000 pairs-bootstrap
# replications and 1,000 permutations.
#   tools/run.sh [OUT_DIR]      (default: out/)
# Writes OUT_DIR/register.h5 (with the true effects), OUT_DIR/results.h5,
# OUT_DIR/bootstrap.h5, OUT_DIR/permutation.h5 and OUT_DIR/report.html, and
# prints the study's summary.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
out="${1:-out}"
mkdir -p "$out"

bash tools/setup.sh
cwfx="build/release/tools/cwfx/cwfx"

"$cwfx" study --seed 20170507 --bootstrap 1000 --permutations 1000 --out "$out"
echo
echo "run: open $out/report.html in a browser (self-contained, no network needed);"
echo "     results in $out/results.h5, the synthetic register and its truth in $out/register.h5."
echo "     A single regression: $cwfx estimate --help"

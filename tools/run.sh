#!/usr/bin/env bash
# The main job, end to end: installs, configures and builds as needed, then
# generates the default synthetic register (the study's preset) and estimates
# the caseworker fixed effects on it.
#   tools/run.sh [OUT_DIR]      (default: out/)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
out="${1:-out}"
mkdir -p "$out"

bash tools/setup.sh
cwfx="build/release/tools/cwfx/cwfx"

"$cwfx" generate --seed 20170507 --out "$out/register.h5"
"$cwfx" generate --seed 20170507 --out "$out/register.csv"
echo "run: synthetic register written to $out/register.h5 and $out/register.csv"

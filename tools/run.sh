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

# The study's model on the whole register: the outcome on the register
# covariates and the citizen's B answers, with caseworker fixed effects and
# standard errors clustered by caseworker.
covariates="gender,age,ethnicity,civil_status,employment_history,benefit_history,education"
for i in $(seq 1 11); do covariates+=",somatic_$i"; done
for i in $(seq 1 10); do covariates+=",psych_$i"; done
covariates+=",medicine,doctor_visits"
for i in $(seq 1 11); do covariates+=",B$i"; done
"$cwfx" estimate --data "$out/register.h5" --outcome outcome --covariates "$covariates" \
  --absorb caseworker_id --cluster caseworker_id --out "$out/estimate.h5"
echo "run: register in $out/register.h5 (and .csv); estimates in $out/estimate.h5"

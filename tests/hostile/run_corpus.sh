#!/usr/bin/env bash
# Hostile-input corpus for the cwfx program (ctest: hostile_corpus).
#
#   tests/hostile/run_corpus.sh CWFX_BINARY WORKDIR [STRIDE]
#
# STRIDE (default 1) runs every STRIDE-th case only, the others SKIP: the
# sanitizer build (ctest, ASan+UBSan) runs every second case to keep CI
# within its time, the release build every case.
#
# Builds its own small fixtures in WORKDIR/fx (registers written by
# `cwfx generate`, a tiny hand-made register in every format the readers take,
# malformed files written with printf/awk/head/dd, .dta/.sav/.zsav/.xpt/
# .sas7bdat files written by make_stat_file.c through libreadstat, and HDF5
# registers with one defect each written by make_h5_file.c), then runs
# every case below, one cwfx process at a time. A case is
#
#   t NAME EXPECTED_EXIT STDERR_REGEX COMMAND
#
# (EXPECTED_EXIT: one code, or codes joined by '|' where the README leaves the
# choice open, e.g. '0|2|6' for numerically extreme data run through $FINITE,
# which turns "exit 0 with NaN/Inf in the results" into exit 70.
# STDERR_REGEX: extended, case-insensitive; '' for none. COMMAND runs in
# bash -c, in its own empty directory $O, with $CWFX, $F (the fixtures) and
# $EA (a valid estimate model) set). Optional settings for the next case only:
# PREP (commands run in $O before the case; they may populate it), ALLOW (a
# regex of paths in $O that a failing run may leave, e.g. resumable draw files),
# TO (the time limit, default 60 s) and CLEANUP (commands run in $O after the
# checks, e.g. to remove a big sparse input).
#
# For every case the runner checks:
#   (a) the exit code is the expected one;
#   (b) no crash (exit >= 128 = killed by a signal) and no hang (timeout: 124);
#   (c) no sanitizer report on stderr;
#   (d) every input is unchanged: the sha256 of each fixture the case names,
#       and type, mode, size, inode and mtime of every file in $F (an input
#       destroyed is restored for the next cases); inputs a case makes in $O
#       are covered by (e);
#   (e) a run that fails leaves $O exactly as it found it (no partial output;
#       ALLOW lists what the README documents as resumable) and says something
#       on stderr, and no run leaves a temporary file (*.tmp, write probe);
#   and, if given, that stderr matches STDERR_REGEX.
# Cases that need what a root user cannot be refused (an unreadable file, a
# read-only directory), or a device node that only root can make, print SKIP.
# One line per case (PASS/FAIL/SKIP name, exit code, expected), then a count;
# the script exits 1 if any case fails.
set -u
export LC_ALL=C

if [ $# -lt 2 ] || [ $# -gt 3 ] || ! [[ "${3:-1}" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 CWFX_BINARY WORKDIR [STRIDE]" >&2
  exit 2
fi
CWFX="$(readlink -f "$1")"
WORK="$2"
STRIDE="${3:-1}"
case_ordinal=0
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ ! -x "$CWFX" ]; then
  echo "$0: $1 is not an executable" >&2
  exit 2
fi
# WORKDIR is wiped: refuse a non-empty directory that is not ours.
if [ -d "$WORK" ] && [ -n "$(ls -A "$WORK" 2>/dev/null)" ] && [ ! -f "$WORK/.hostile_corpus" ]; then
  echo "$0: $WORK is not empty and not a corpus work directory; refusing to wipe it" >&2
  exit 2
fi
if [ -d "$WORK" ]; then
  chmod -R u+rwX "$WORK" 2>/dev/null
  rm -rf "$WORK"
fi
mkdir -p "$WORK/fx" "$WORK/cases" "$WORK/logs"
WORK="$(cd "$WORK" && pwd)"
touch "$WORK/.hostile_corpus"
F="$WORK/fx"
LOGS="$WORK/logs"
export CWFX F
# A valid estimate model on the hand-made register (base.*).
export EA="--outcome y --covariates x1,x2 --absorb cw --quiet"
# Study-model flags that keep the tiny generated registers usable and fast.
export SA="--min-citizens 2"

start_time=$SECONDS
n_pass=0
n_fail=0
n_skip=0
failed=()
pending=()
PREP=""
ALLOW=""
TO=60
CLEANUP=""
SNAP="$WORK/snap"
mkdir -p "$SNAP"
shopt -s nocasematch

# Microseconds since the epoch (into the variable named $1), without a fork
# where bash has EPOCHREALTIME.
now_us() {
  local t
  if [ -n "${EPOCHREALTIME:-}" ]; then t=${EPOCHREALTIME/[.,]/}; else t=$(($(date +%s%N) / 1000)); fi
  printf -v "$1" '%d' $((10#$t))
}

# slurp FILE VAR: the file's text into VAR (a builtin read: no fork).
slurp() {
  local text=""
  IFS= read -r -d '' text <"$1"
  printf -v "$2" '%s' "$text"
}

# Type, mode and content of everything under a directory (FIFOs and devices
# by type only: reading them would block or never end).
snapshot() {
  (
    cd "$1" || exit 0
    find . -mindepth 1 -printf '%y %m %p\n' | LC_ALL=C sort
    find . -mindepth 1 -type f -readable -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
  )
}

# The fixtures around a case: type, mode, size, inode and modification time of
# every file in $F (any write shows), and the sha256 of each fixture the case
# names ("$F/name" in its command or preparation).
fixture_snapshot() {
  local rest="$1" names=() name
  while [[ $rest =~ \$F/([A-Za-z0-9_.+-]+)(.*) ]]; do
    name="${BASH_REMATCH[1]}"
    rest="${BASH_REMATCH[2]}"
    if [ -f "$F/$name" ] && [ -r "$F/$name" ]; then names+=("$F/$name"); fi
  done
  find "$F" -mindepth 1 -printf '%y %m %s %i %T@ %P\n'
  if [ ${#names[@]} -gt 0 ]; then sha256sum "${names[@]}"; fi
}

has_entries() {  # has_entries DIR: true if DIR holds anything
  local entries
  entries=("$1"/* "$1"/.[!.]* "$1"/..?*)
  local e
  for e in "${entries[@]}"; do [ -e "$e" ] || [ -L "$e" ] && return 0; done
  return 1
}

skip() {
  n_skip=$((n_skip + 1))
  printf 'SKIP %s: %s\n' "$1" "$2"
  PREP=""; ALLOW=""; TO=60; CLEANUP=""
}

# t NAME EXPECTED REGEX COMMAND
t() {
  local name="$1" expect="$2" regex="$3" cmd="$4"
  case_ordinal=$((case_ordinal + 1))
  if [ $((case_ordinal % STRIDE)) -ne 0 ]; then
    skip "$name" "stride $STRIDE"
    return 0
  fi
  local O="$WORK/cases/$name"
  local out="$LOGS/$name.out" err="$LOGS/$name.err"
  local reasons=()
  if [ -e "$O" ]; then
    echo "corpus error: case name $name used twice" >&2
    exit 2
  fi
  mkdir "$O"
  if [ -n "$PREP" ]; then
    if ! (cd "$O" && export O && exec bash -c "$PREP") >"$LOGS/$name.prep" 2>&1; then
      reasons+=("its preparation failed (see $LOGS/$name.prep)")
    fi
  fi
  fixture_snapshot "$cmd $PREP" >"$SNAP/fx.before"
  local case_had_entries=0
  if has_entries "$O"; then
    case_had_entries=1
    snapshot "$O" >"$SNAP/case.before"
  else
    : >"$SNAP/case.before"
  fi
  local t0 t1 rc
  now_us t0
  (cd "$O" && export O && exec timeout -k 5 "$TO" bash -c "$cmd") >"$out" 2>"$err" </dev/null
  rc=$?
  now_us t1
  local errtext=""
  slurp "$err" errtext
  [[ "|$expect|" == *"|$rc|"* ]] || reasons+=("exit code $rc, expected $expect")
  if [ "$rc" = 124 ]; then reasons+=("HANG: killed after ${TO} s"); fi
  if [ "$rc" -ge 128 ]; then reasons+=("CRASH: killed by signal $((rc - 128))"); fi
  if [[ $errtext =~ ERROR:\ AddressSanitizer|runtime\ error:|LeakSanitizer|ThreadSanitizer|UndefinedBehaviorSanitizer ]]; then
    reasons+=("sanitizer report on stderr")
  fi
  if [ -n "$regex" ] && ! [[ $errtext =~ $regex ]]; then
    reasons+=("stderr does not match /$regex/")
  fi
  if [ "$rc" != 0 ] && [ -z "$errtext" ]; then
    reasons+=("failed without a message on stderr")
  fi
  fixture_snapshot "$cmd $PREP" >"$SNAP/fx.after"
  local fxb fxa
  slurp "$SNAP/fx.before" fxb
  slurp "$SNAP/fx.after" fxa
  if [ "$fxb" != "$fxa" ]; then
    reasons+=("INPUT CHANGED: $(diff "$SNAP/fx.before" "$SNAP/fx.after" | grep '^[<>] .' | awk '{print $NF}' | sort -u | head -4 | tr '\n' ' ')")
    restore_fixtures  # for the next cases
  fi
  # No run leaves a temporary file or write probe behind, whatever its outcome.
  if has_entries "$O"; then
    local temps
    find "$O" \( -name '*.tmp' -o -name '.cwfx-write-probe*' \) -newer "$SNAP/fx.before" -printf '%P ' >"$SNAP/temps"
    slurp "$SNAP/temps" temps
    if [ -n "$temps" ]; then reasons+=("temporary file left: $temps"); fi
  fi
  if [ "$rc" != 0 ] && [ "$rc" != 4 ]; then  # a failed run leaves $O as it was
    if [ $case_had_entries = 1 ] || has_entries "$O"; then
      snapshot "$O" >"$SNAP/case.after"
      local changed
      # Changed paths; a directory left empty (study's --out) is not a result.
      changed="$(diff "$SNAP/case.before" "$SNAP/case.after" | grep '^[<>] .' | awk '{print $NF}' | sort -u |
        while read -r p; do if [ -d "$O/$p" ] && ! has_entries "$O/$p"; then continue; fi; echo "$p"; done)"
      if [ -n "$ALLOW" ]; then changed="$(echo "$changed" | grep -Ev -- "$ALLOW")"; fi
      if [ -n "$changed" ]; then
        reasons+=("left or changed after failing: $(echo "$changed" | head -4 | tr '\n' ' ')")
      fi
    fi
  fi
  local cs=$(((t1 - t0) / 10000))
  local secs
  printf -v secs '%d.%02d' $((cs / 100)) $((cs % 100))
  if [ ${#reasons[@]} -eq 0 ]; then
    n_pass=$((n_pass + 1))
    printf 'PASS %s (exit %s, expected %s, %ss)\n' "$name" "$rc" "$expect" "$secs"
  else
    n_fail=$((n_fail + 1))
    failed+=("$name")
    if [ "$expect" = 6 ] || [ "$expect" = 7 ]; then pending+=("$name"); fi
    printf 'FAIL %s (exit %s, expected %s, %ss): %s\n' "$name" "$rc" "$expect" "$secs" "$(IFS=';'; echo "${reasons[*]}")"
    printf '     command: %s\n' "$cmd"
    head -c 600 "$err" | head -n 4 | sed 's/^/     stderr: /'
  fi
  if [ -n "$CLEANUP" ]; then (cd "$O" && bash -c "$CLEANUP") >/dev/null 2>&1; fi
  PREP=""; ALLOW=""; TO=60; CLEANUP=""
}

# $FINITE CMD...: runs CMD, passing its output on; a run that succeeds must
# print no NaN or Inf and drop no covariate as collinear (exit 70/71 if it does).
export FINITE="$WORK/finite.sh"
cat >"$FINITE" <<'FINITE_EOF'
#!/usr/bin/env bash
out="$("$@")"
rc=$?
printf '%s\n' "$out"
if [ $rc = 0 ]; then
  if grep -Eiwq '(nan|inf)' <<<"$out"; then
    echo "SILENTLY WRONG: exit 0 with NaN or Inf in the results:" >&2
    grep -Eiw '(nan|inf)' <<<"$out" | head -n 3 >&2
    exit 70
  fi
  if grep -Eiq 'dropped \(collinear\)' <<<"$out"; then
    echo "SILENTLY WRONG: exit 0 with a covariate dropped as collinear:" >&2
    grep -Ei 'collinear' <<<"$out" | head -n 2 >&2
    exit 71
  fi
fi
exit $rc
FINITE_EOF
chmod +x "$FINITE"

# ---------------------------------------------------------------- fixtures
fixture_log="$LOGS/fixtures.log"
die() { echo "corpus error: $*" >&2; echo "(see $fixture_log)" >&2; exit 2; }

# The hand-made register: 60 rows, 12 caseworkers (cw), 23 citizens (cit),
# 4 clusters (cl), weights 1..3, a text column.
awk 'BEGIN {
  print "id,cw,cit,y,x1,x2,w,cl,office"
  s = 12345
  for (i = 1; i <= 60; i++) {
    s = (s * 1103515245 + 12345) % 2147483648; u1 = s / 2147483648
    s = (s * 1103515245 + 12345) % 2147483648; u2 = s / 2147483648
    cw = (i % 12) + 1; cit = (i * i % 23) + 1
    x1 = (i * 37 % 101) / 10.0; x2 = 3 * u1
    y = 0.5 * x1 - 0.2 * x2 + 0.1 * cw + (u2 - 0.5)
    printf "%d,%d,%d,%.6f,%.4f,%.4f,%d,%d,office%d\n", i, cw, cit, y, x1, x2, 1 + i % 3, cw % 4, cw % 3
  }
}' >"$F/base.csv"
tr ',' '\t' <"$F/base.csv" >"$F/base.tsv"
cp "$F/base.csv" "$F/base.txt"

# ReadStat formats: make_stat_file.c, compiled here (libreadstat-dev is a build
# dependency of cwfx).
HAVE_STAT=1
if ! cc -O1 -o "$WORK/make_stat_file" "$HERE/make_stat_file.c" -lreadstat >>"$fixture_log" 2>&1; then
  HAVE_STAT=0
  echo "note: cannot compile make_stat_file.c (C compiler or libreadstat missing): .dta/.sav/.xpt/.sas7bdat cases skipped"
fi
STAT_EXTS="dta sav zsav xpt sas7bdat"
mkstat() {  # mkstat SRC.csv BASENAME: BASENAME.{dta,sav,xpt,sas7bdat} in $F
  [ $HAVE_STAT = 1 ] || return 0
  local e
  for e in $STAT_EXTS; do
    if ! "$WORK/make_stat_file" "$1" "$F/$2.$e" >>"$fixture_log" 2>&1; then
      rm -f "$F/$2.$e"  # ReadStat refuses some values in some formats (Inf in .dta)
      echo "note: ReadStat cannot write $2.$e; its case is skipped"
    fi
  done
}

# Hand-built HDF5 registers with one defect each: make_h5_file.c, compiled
# here against libhdf5 (a build dependency of cwfx).
HAVE_H5C=1
H5_KINDS="valid int_types vlen_text_id ragged huge_dim two_d compound nan_id inf_outcome bad_utf8_id ghost_column columns_int no_columns zero_rows external_link soft_loop"
# shellcheck disable=SC2046
if ! cc -O1 -o "$WORK/make_h5_file" "$HERE/make_h5_file.c" $(pkg-config --cflags --libs hdf5 2>/dev/null || echo -lhdf5) -lm \
  >>"$fixture_log" 2>&1; then
  HAVE_H5C=0
  echo "note: cannot compile make_h5_file.c (C compiler or libhdf5 missing): the hand-built HDF5 cases are skipped"
fi

# Variants of base.csv: modcsv NAME 'awk program' (fields split on commas).
modcsv() { awk -F, -v OFS=, "$2" "$F/base.csv" >"$F/$1" || die "modcsv $1"; }

# Registers with the study's columns, by cwfx itself.
"$CWFX" generate --preset large --responses 400 --seed 7 --out "$F/reg.h5" >>"$fixture_log" 2>&1 || die "generate reg.h5"
"$CWFX" generate --preset large --responses 400 --seed 7 --out "$F/reg.csv" >>"$fixture_log" 2>&1 || die "generate reg.csv"
"$CWFX" generate --preset large --responses 400 --seed 8 --out "$F/reg8.h5" >>"$fixture_log" 2>&1 || die "generate reg8.h5"
cp "$F/reg.h5" "$F/reg.hdf5"
# Results, draw and shard files.
"$CWFX" estimate --data "$F/base.csv" $EA --out "$F/est.h5" >>"$fixture_log" 2>&1 || die "estimate est.h5"
for i in 0 1 2; do
  "$CWFX" replicate --data "$F/reg.h5" $SA --replications 6 --seed 1 --shard "$i/3" --quiet --out "$F/rep.s$i.h5" \
    >>"$fixture_log" 2>&1 || die "replicate shard $i"
done
"$CWFX" replicate --data "$F/reg.h5" $SA --replications 6 --seed 2 --shard 2/3 --quiet --out "$F/rep_seed2.s2.h5" \
  >>"$fixture_log" 2>&1 || die "replicate shard seed 2"
"$CWFX" replicate --data "$F/reg.h5" $SA --replications 4 --seed 1 --quiet --no-report --out "$F/rep_full.h5" \
  >>"$fixture_log" 2>&1 || die "replicate full"
SIMA="--set num_citizens=100 --cross-fit-splits 0 --quiet"
export SIMA
for i in 0 1; do
  "$CWFX" simulate --registers 4 --seed 1 $SIMA --shard "$i/2" --out "$F/sim.s$i.h5" >>"$fixture_log" 2>&1 || die "simulate shard $i"
done
"$CWFX" simulate --registers 4 --seed 1 $SIMA --set num_citizens=120 --shard 1/2 --out "$F/sim_other.s1.h5" \
  >>"$fixture_log" 2>&1 || die "simulate other shard"
head -c "$(($(stat -c %s "$F/rep.s1.h5") / 2))" "$F/rep.s1.h5" >"$F/rep_trunc.s1.h5"

# Malformed CSV registers.
: >"$F/empty.csv"
head -n 1 "$F/base.csv" >"$F/header_only.csv"
printf '\n\n\n' >"$F/blank_lines.csv"
printf 'y\n' >"$F/one_column_header.csv"
modcsv ragged_short.csv 'NR == 8 { NF = 5 } 1'
modcsv ragged_long.csv 'NR == 8 { $0 = $0 ",extra" } 1'
modcsv miss_outcome.csv 'NR == 8 { $4 = "" } 1'
modcsv miss_id.csv 'NR == 8 { $2 = "" } 1'
modcsv miss_cov.csv 'NR == 8 { $5 = "" } 1'
modcsv miss_weight.csv 'NR == 8 { $7 = "" } 1'
modcsv miss_cluster.csv 'NR == 8 { $8 = "" } 1'
modcsv na_outcome.csv 'NR == 8 { $4 = "NA" } 1'
modcsv nan_outcome.csv 'NR == 8 { $4 = "NaN" } 1'
modcsv inf_outcome.csv 'NR == 8 { $4 = "inf" } 1'
modcsv neginf_cov.csv 'NR == 8 { $5 = "-Infinity" } 1'
modcsv e309_outcome.csv 'NR == 8 { $4 = "1e309" } 1'
modcsv e308_18_cov.csv 'NR == 8 { $6 = "1.8e308" } 1'
modcsv huge_outcome.csv 'NR > 1 { $4 = $4 * 1e307 } 1'
modcsv huge_cov.csv 'NR == 8 { $5 = "1e200" } 1'
modcsv tiny_outcome.csv 'NR > 1 { $4 = $4 * 1e-300 } 1'
# Numerically extreme but within the readers' own limit (|x| <= 1e100): the
# regression is scale-equivariant, so the answer exists in doubles.
modcsv scaled_1e99_1e-99.csv 'NR > 1 { $4 = $4 * 1e99; $5 = $5 * 1e-99 } 1'
modcsv scaled_1e-200.csv 'NR > 1 { $4 = $4 * 1e-200; $5 = $5 * 1e-200 } 1'
modcsv scaled_1e-60.csv 'NR > 1 { $4 = $4 * 1e-60; $5 = $5 * 1e-60; $6 = $6 * 1e-60 } 1'
modcsv scaled_outcome_1e99.csv 'NR > 1 { $4 = $4 * 1e99 } 1'
modcsv weights_1e-99_1e99.csv 'NR > 1 { $7 = (NR % 2) ? 1e-99 : 1e99 } 1'
modcsv w_negative.csv 'NR == 8 { $7 = "-1" } 1'
modcsv w_zero.csv 'NR == 8 { $7 = "0" } 1'
modcsv w_all_zero.csv 'NR > 1 { $7 = "0" } 1'
modcsv w_1e300.csv 'NR > 1 { $7 = "1e300" } 1'
modcsv w_text.csv 'NR == 8 { $7 = "heavy" } 1'
modcsv nonnum_outcome.csv 'NR == 8 { $4 = "abc" } 1'
modcsv nonnum_cov.csv 'NR == 8 { $5 = "1.2.3" } 1'
modcsv decimal_comma.csv 'NR == 8 { $5 = "\"1,5\"" } 1'
modcsv spaces_number.csv 'NR == 8 { $5 = " 3.5 " } 1'
printf '\xef\xbb\xbf' >"$F/bom.csv"
awk -F, -v OFS=, '{ print $4, $1, $2, $3, $5, $6, $7, $8, $9 }' "$F/base.csv" >>"$F/bom.csv"  # y first: the BOM must not stick to its name
sed 's/$/\r/' "$F/base.csv" >"$F/crlf.csv"
awk -F, -v OFS=, 'NR == 1 { print; next } { $9 = "\"" $9 ", north\"" } 1' "$F/base.csv" >"$F/quoted_comma.csv"
awk -F, -v OFS=, 'NR == 1 { print; next } { $9 = "\"" $9 "\nsecond line\"" } 1' "$F/base.csv" >"$F/quoted_newline.csv"
awk -F, -v OFS=, 'NR == 1 { print; next } { $9 = "\"say \"\"hi\"\"\"" } 1' "$F/base.csv" >"$F/quoted_quotes.csv"
awk -F, -v OFS=, 'NR == 1 { print; next } { $9 = "\"" $9 "\nsecond line\"" } NR == 8 { $4 = "abc" } 1' "$F/base.csv" >"$F/quoted_newline_bad_row7.csv"
sed 's/$/\r/' "$F/nonnum_outcome.csv" >"$F/crlf_bad_row7.csv"
# About 1.8 MB (the parallel reader cuts 1 MB chunks at line ends): every row
# has a quoted 20-line note with commas and quotes; row 1900's y is 'oops'.
awk 'BEGIN { print "id,cw,y,x1,note"; s = 1
  for (i = 1; i <= 2000; i++) {
    s = (s * 1103515245 + 12345) % 2147483648
    n = "\""; for (k = 0; k < 20; k++) n = n "text, with a comma and \"\"quotes\"\" on line " k "\n"; n = n "\""
    y = (i == 1900) ? "oops" : sprintf("%.5f", s / 2147483648 + (i % 13) * 0.1)
    printf "%d,%d,%s,%.3f,%s\n", i, i % 13, y, (i * 7 % 17) / 3, n } }' >"$F/chunked_quotes_bad_row1900.csv"
# About 1.5 MB: row 150's note is one quoted field holding 60,000 lines that
# look like rows; the register has exactly 300 rows at any thread count.
awk 'BEGIN { print "id,cw,y,x1,note"; s = 1
  for (i = 1; i <= 300; i++) {
    s = (s * 1103515245 + 12345) % 2147483648
    printf "%d,%d,%.5f,%.3f,", i, i % 13, s / 2147483648 + (i % 13) * 0.1, (i * 7 % 17) / 3
    if (i != 150) { print "plain"; continue }
    printf "\""; for (k = 0; k < 60000; k++) printf "\n%d,3,0.5,1.0,\"\"fake\"\"", k; print "\"" } }' >"$F/fake_rows_in_quotes.csv"
modcsv unterminated_quote.csv 'NR == 8 { $9 = "\"office" } 1'
modcsv quote_mid_field.csv 'NR == 8 { $5 = "3\"5" } 1'
awk -F, -v OFS=, 'NR == 8 { $4 = $4 "\0" } 1' "$F/base.csv" >"$F/nul_outcome.csv"
# Every row of caseworker 5 (the first is row 4) gets the hostile id, so that it
# reaches the results (a lone hostile id would be dropped as a singleton).
awk -F, -v OFS=, '$2 == 5 { $2 = "A\0B" } 1' "$F/base.csv" >"$F/nul_id.csv"
{ head -n 20 "$F/base.csv"; printf '\0\0\0\0\0\0\0\0\0\0\n'; tail -n +21 "$F/base.csv"; } >"$F/nul_line.csv"
modcsv bad_utf8_id.csv '$2 == 5 { $2 = "cw\377\376" } 1'
modcsv bad_utf8_cluster.csv '$8 == 1 { $8 = "c\300\200" } 1'
modcsv text_ids.csv 'NR > 1 { $2 = "caseworker-" $2 } 1'
modcsv long_line.csv 'NR == 8 { s = "x"; while (length(s) < 1000000) s = s s; $9 = s } 1'
modcsv long_junk_line.csv 'NR == 8 { s = "x"; while (length(s) < 1000000) s = s s; $0 = s } 1'
awk 'BEGIN { printf "id"; for (i = 0; i < 20000; i++) printf ",c%d", i; print ",y,x1,cw"
  for (k = 1; k <= 30; k++) { printf "%d", k; for (i = 0; i < 20000; i++) printf ",0"; print "," k % 7 "," k % 5 "," k % 4 } }' >"$F/wide.csv"
modcsv dup_column.csv 'NR == 1 { $5 = "y" } 1'
modcsv empty_name.csv 'NR == 1 { $6 = "" } 1'
modcsv trailing_comma.csv '{ $0 = $0 "," } 1'
modcsv const_outcome.csv 'NR > 1 { $4 = "1" } 1'
modcsv single_cw.csv 'NR > 1 { $2 = "7" } 1'
modcsv one_cluster.csv 'NR > 1 { $8 = "1" } 1'
modcsv collinear.csv 'NR == 1 { $6 = "x2"; print; next } { $6 = 2 * $5 } 1'
modcsv cov_const_in_cw.csv 'NR == 1 { print; next } { $5 = $2 * 3; $6 = $2 % 5 } 1'
modcsv cov_const.csv 'NR == 1 { print; next } { $5 = 4; $6 = 4 } 1'
head -n 2 "$F/base.csv" >"$F/one_row.csv"
head -n 3 "$F/base.csv" >"$F/two_rows.csv"
modcsv all_singletons.csv 'NR > 1 { $2 = NR } 1'
modcsv blank_line_mid.csv 'NR == 20 { print "" } 1'
mkdir -p "$F/dir.csv" "$F/dir.h5"
cp "$F/base.csv" "$F/csv_as.dta"
cp "$F/base.csv" "$F/csv_as.h5"
cp "$F/base.csv" "$F/base.xyz"
cp "$F/base.csv" "$F/noext"
cp "$F/est.h5" "$F/h5_as.csv"
ln -s /dev/zero "$F/zero.csv"
ln -s /dev/urandom "$F/urandom.h5"
ln -s "$F/base.csv" "$F/link.csv"
ln -s "$F/nowhere.csv" "$F/dangling.csv"
head -c 4096 /dev/zero >"$F/zeros.csv"
head -c 4096 /dev/zero >"$F/zeros.h5"
# Text and binary garbage in binary formats.
printf 'this is not a register\n' >"$F/text.h5"
awk 'BEGIN { srand(3); for (i = 0; i < 3000; i++) printf "%c", int(rand() * 256) }' >"$F/garbage.bin"
cp "$F/garbage.bin" "$F/garbage.h5"
for e in $STAT_EXTS; do
  : >"$F/empty.$e"
  printf 'this is not a %s file\n' "$e" >"$F/text.$e"
done
: >"$F/empty.h5"
# HDF5 registers, truncated and corrupted.
size=$(stat -c %s "$F/reg.h5")
head -c $((size / 2)) "$F/reg.h5" >"$F/trunc_half.h5"
head -c 2048 "$F/reg.h5" >"$F/trunc_2k.h5"
head -c $((size - 1)) "$F/reg.h5" >"$F/trunc_1byte.h5"
flip_byte() {  # flip_byte SRC DST OFFSET: DST = SRC with the byte at OFFSET inverted
  cp "$1" "$2"
  local b
  b=$(od -An -tu1 -j "$3" -N1 "$1" | tr -d ' ')
  printf "$(printf '\\%03o' $((255 - b)))" | dd of="$2" bs=1 seek="$3" conv=notrunc status=none
}
# The first 16 bytes of the chunk of response_id: 1.0, 2.0 as little-endian doubles.
off=$(LC_ALL=C grep -obUaP '\x00\x00\x00\x00\x00\x00\xf0\x3f\x00\x00\x00\x00\x00\x00\x00\x40' "$F/reg.h5" | head -n 1 | cut -d: -f1)
if [ -n "$off" ]; then
  flip_byte "$F/reg.h5" "$F/flip_data.h5" $((off + 6))
else
  echo "note: no response_id chunk found in reg.h5; the flipped-data case is skipped"
fi
flip_byte "$F/reg.h5" "$F/flip_signature.h5" 1
if [ $HAVE_H5C = 1 ]; then
  for k in $H5_KINDS; do
    "$WORK/make_h5_file" "$k" "$F/h5x_$k.h5" >>"$fixture_log" 2>&1 || die "make_h5_file $k"
  done
fi
# Estimate results (a wrong kind of HDF5 file) as a register.
cp "$F/est.h5" "$F/results_as_register.h5"
# ReadStat fixtures: valid and hostile.
mkstat "$F/base.csv" base
modcsv _stat_miss.csv 'NR == 8 { $4 = "" } 1'
mkstat "$F/_stat_miss.csv" miss_outcome
modcsv _stat_inf.csv 'NR == 8 { $4 = "inf" } 1'
mkstat "$F/_stat_inf.csv" inf_outcome
modcsv _stat_utf8.csv '$9 == "office1" { $9 = "of\377\376" } 1'  # first at row 3
mkstat "$F/_stat_utf8.csv" bad_utf8_id
head -n 1 "$F/base.csv" >"$F/_stat_header.csv"
mkstat "$F/_stat_header.csv" header_only
modcsv _stat_text_outcome.csv 'NR > 1 { $4 = "v" $4 } 1'
mkstat "$F/_stat_text_outcome.csv" text_outcome
if [ $HAVE_STAT = 1 ]; then
  for e in $STAT_EXTS; do
    s=$(stat -c %s "$F/base.$e")
    head -c $((s / 2)) "$F/base.$e" >"$F/trunc_half.$e"
    head -c 100 "$F/base.$e" >"$F/trunc_100.$e"
  done
  cp "$F/base.dta" "$F/dta_as.sav"
  cp "$F/base.sav" "$F/sav_as.dta"
fi
# Configuration files.
printf 'outcome = "y"\ncovariates = ["x1", "x2"]\nabsorb = ["cw"]\nquiet = true\n' >"$F/est.toml"
printf '[estimate]\noutcome = "y"\ncovariates = ["x1", "x2"]\nabsorb = ["cw"]\nquiet = true\n' >"$F/est_section.toml"
printf '[study]\noutcome = "y"\n' >"$F/wrong_section.toml"
printf 'outcome = "x1"\ncovariates = ["x2"]\nabsorb = ["cw"]\n' >"$F/est_other_outcome.toml"
printf 'outcome = "y"\nbogus_key = 3\n' >"$F/unknown_key.toml"
printf 'outcome = "y"\nmax-iterations = "lots"\n' >"$F/wrong_type.toml"
printf 'outcome = "y"\nthreads = -1\n' >"$F/negative.toml"
printf 'outcome = "y"\nquiet = 7\n' >"$F/switch_number.toml"
printf 'outcome = ["y", "x1"]\n' >"$F/list_for_scalar.toml"
printf 'covariates = [1, 2]\n' >"$F/list_of_numbers.toml"
printf 'outcome = "y"\noutcome = "x1"\n' >"$F/duplicate_key.toml"
printf 'outcome = "y\n' >"$F/syntax_quote.toml"
printf '[estimate\noutcome = "y"\n' >"$F/syntax_section.toml"
printf 'outcome "y"\n' >"$F/syntax_noequals.toml"
printf 'tolerance = 1e400\n' >"$F/overflow.toml"
printf 'outcome = "y"\nconfig = "est.toml"\n' >"$F/recursive.toml"
printf 'outcome = "y\0"\n' >"$F/nul.toml"
: >"$F/empty.toml"
cp "$F/garbage.bin" "$F/garbage.toml"
mkdir -p "$F/dir.toml"
printf 'min-citizens = 2\nno-corrections = true\nquiet = true\n' >"$F/study.toml"
printf 'scheme = "bayes"\nreplications = 3\nmin_citizens = 2\nquiet = true\n' >"$F/replicate.toml"
printf 'registers = 2\nset = ["num_citizens=100"]\ncross-fit-splits = 0\nquiet = true\n' >"$F/simulate.toml"
printf 'preset = "large"\nresponses = 80\n' >"$F/generate.toml"
printf 'quiet = true\n' >"$F/merge.toml"
printf 'replications = 0\n' >"$F/replicate_zero.toml"
printf 'registers = "many"\n' >"$F/simulate_bad.toml"
rm -f "$F"/_stat_*.csv
# The snapshot of the fixtures, to restore them if a case destroys one.
tar -C "$F" -cf "$WORK/fx.tar" . 2>>"$fixture_log" || die "tar fixtures"
restore_fixtures() {
  find "$F" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  tar -C "$F" -xf "$WORK/fx.tar"
}
echo "fixtures: $(find "$F" -mindepth 1 | wc -l) files in $F ($(du -sh "$F" | cut -f1))"

# Can this user be refused a read or a write? (root is not.)
touch "$WORK/probe_read"
chmod 000 "$WORK/probe_read"
if cat "$WORK/probe_read" >/dev/null 2>&1; then CAN_DENY=0; else CAN_DENY=1; fi
rm -f "$WORK/probe_read"

# ======================================================================
# Cases
# ======================================================================
# ------------------------------------------------- registers: CSV/TSV
t valid_csv 0 '' '"$CWFX" estimate --data "$F/base.csv" $EA --out "$O/out.h5" && test -s "$O/out.h5"'
t valid_tsv 0 '' '"$CWFX" estimate --data "$F/base.tsv" $EA --out "$O/out.h5" && test -s "$O/out.h5"'
t valid_txt 0 '' '"$CWFX" estimate --data "$F/base.txt" $EA --out "$O/out.h5"'
t valid_two_way_weights_cluster 0 '' '"$CWFX" estimate --data "$F/base.csv" --outcome y --covariates x1,x2 --absorb cw,cit --weights w --cluster cl --quiet --out "$O/out.h5"'
t csv_empty 2 'empty\.csv' '"$CWFX" estimate --data "$F/empty.csv" $EA --out "$O/out.h5"'
t csv_header_only 2 'header_only\.csv' '"$CWFX" estimate --data "$F/header_only.csv" $EA --out "$O/out.h5"'
t csv_blank_lines_only 2 'blank_lines\.csv' '"$CWFX" estimate --data "$F/blank_lines.csv" $EA --out "$O/out.h5"'
t csv_one_column_header 2 'one_column_header\.csv' '"$CWFX" estimate --data "$F/one_column_header.csv" $EA --out "$O/out.h5"'
t csv_ragged_short 2 'ragged_short\.csv.*row 7' '"$CWFX" estimate --data "$F/ragged_short.csv" $EA --out "$O/out.h5"'
t csv_ragged_long 2 'ragged_long\.csv.*row 7' '"$CWFX" estimate --data "$F/ragged_long.csv" $EA --out "$O/out.h5"'
t csv_missing_outcome 2 "miss_outcome\.csv.*row 7.*'y'" '"$CWFX" estimate --data "$F/miss_outcome.csv" $EA --out "$O/out.h5"'
t csv_missing_outcome_drop 0 '' '"$CWFX" estimate --data "$F/miss_outcome.csv" $EA --missing drop --out "$O/out.h5"'
t csv_missing_id 2 "miss_id\.csv.*row 7.*'cw'" '"$CWFX" estimate --data "$F/miss_id.csv" $EA --out "$O/out.h5"'
t csv_missing_covariate 2 "miss_cov\.csv.*row 7.*'x1'" '"$CWFX" estimate --data "$F/miss_cov.csv" $EA --out "$O/out.h5"'
t csv_missing_weight 2 "miss_weight\.csv.*row 7.*'w'" '"$CWFX" estimate --data "$F/miss_weight.csv" $EA --weights w --out "$O/out.h5"'
t csv_missing_cluster 2 "miss_cluster\.csv.*row 7.*'cl'" '"$CWFX" estimate --data "$F/miss_cluster.csv" $EA --cluster cl --out "$O/out.h5"'
t csv_missing_unused_column 0 '' '"$CWFX" estimate --data "$F/miss_weight.csv" $EA --out "$O/out.h5"'
t csv_na_outcome 2 "na_outcome\.csv.*row 7.*'y'" '"$CWFX" estimate --data "$F/na_outcome.csv" $EA --out "$O/out.h5"'
t csv_nan_outcome 2 "nan_outcome\.csv.*row 7.*'y'" '"$CWFX" estimate --data "$F/nan_outcome.csv" $EA --out "$O/out.h5"'
t csv_inf_outcome 2 "inf_outcome\.csv.*row 7.*'y'" '"$CWFX" estimate --data "$F/inf_outcome.csv" $EA --out "$O/out.h5"'
t csv_inf_outcome_drop 2 "inf_outcome\.csv.*row 7.*'y'" '"$CWFX" estimate --data "$F/inf_outcome.csv" $EA --missing drop --out "$O/out.h5"'
t csv_neginf_covariate 2 "neginf_cov\.csv.*row 7.*'x1'" '"$CWFX" estimate --data "$F/neginf_cov.csv" $EA --out "$O/out.h5"'
t csv_1e309_outcome 2 "e309_outcome\.csv.*row 7.*'y'" '"$CWFX" estimate --data "$F/e309_outcome.csv" $EA --out "$O/out.h5"'
t csv_1.8e308_covariate 2 "e308_18_cov\.csv.*row 7.*'x2'" '"$CWFX" estimate --data "$F/e308_18_cov.csv" $EA --out "$O/out.h5"'
t csv_huge_outcome 2 "huge_outcome\.csv.*'y'" '"$CWFX" estimate --data "$F/huge_outcome.csv" $EA --out "$O/out.h5"'
t csv_huge_covariate 2 "huge_cov\.csv.*row 7.*'x1'" '"$CWFX" estimate --data "$F/huge_cov.csv" $EA --out "$O/out.h5"'
t num_tiny_outcome_1e-300 '0|2|6' '' '"$FINITE" "$CWFX" estimate --data "$F/tiny_outcome.csv" --outcome y --covariates x1,x2 --absorb cw --out "$O/out.h5"'
t num_outcome_1e99_covariate_1e-99 '0|2|6' '' '"$FINITE" "$CWFX" estimate --data "$F/scaled_1e99_1e-99.csv" --outcome y --covariates x1,x2 --absorb cw,cit --cluster cl --out "$O/out.h5"'
t num_outcome_and_covariate_1e-200 '0|2|6' '' '"$FINITE" "$CWFX" estimate --data "$F/scaled_1e-200.csv" --outcome y --covariates x1,x2 --absorb cw,cit --cluster cl --out "$O/out.h5"'
t num_all_scaled_1e-60 '0|2|6' '' '"$FINITE" "$CWFX" estimate --data "$F/scaled_1e-60.csv" --outcome y --covariates x1,x2 --absorb cw --out "$O/out.h5"'
t num_outcome_1e99 '0|2|6' '' '"$FINITE" "$CWFX" estimate --data "$F/scaled_outcome_1e99.csv" --outcome y --covariates x1,x2 --absorb cw,cit --cluster cl --out "$O/out.h5"'
t num_weights_1e-99_and_1e99 '0|2|6' '' '"$FINITE" "$CWFX" estimate --data "$F/weights_1e-99_1e99.csv" --outcome y --covariates x1,x2 --absorb cw,cit --weights w --cluster cl --out "$O/out.h5"'
t csv_weight_negative 2 "w_negative\.csv.*row 7.*'w'" '"$CWFX" estimate --data "$F/w_negative.csv" $EA --weights w --out "$O/out.h5"'
t csv_weight_zero 2 "w_zero\.csv.*row 7.*'w'" '"$CWFX" estimate --data "$F/w_zero.csv" $EA --weights w --out "$O/out.h5"'
t csv_weight_all_zero 2 "w_all_zero\.csv.*'w'" '"$CWFX" estimate --data "$F/w_all_zero.csv" $EA --weights w --out "$O/out.h5"'
t csv_weight_1e300 2 "w_1e300\.csv.*'w'" '"$CWFX" estimate --data "$F/w_1e300.csv" $EA --weights w --cluster cl --out "$O/out.h5"'
t csv_weight_text 2 "w_text\.csv.*row 7.*'w'" '"$CWFX" estimate --data "$F/w_text.csv" $EA --weights w --out "$O/out.h5"'
t csv_nonnumeric_outcome 2 "nonnum_outcome\.csv.*row 7.*'y'" '"$CWFX" estimate --data "$F/nonnum_outcome.csv" $EA --out "$O/out.h5"'
t csv_nonnumeric_covariate 2 "nonnum_cov\.csv.*row 7.*'x1'" '"$CWFX" estimate --data "$F/nonnum_cov.csv" $EA --out "$O/out.h5"'
t csv_decimal_comma 2 "decimal_comma\.csv.*row 7.*'x1'" '"$CWFX" estimate --data "$F/decimal_comma.csv" $EA --out "$O/out.h5"'
t csv_text_outcome_column 2 "base\.csv.*'office'" '"$CWFX" estimate --data "$F/base.csv" --outcome office --covariates x1 --absorb cw --out "$O/out.h5"'
t csv_utf8_bom 0 '' '"$CWFX" estimate --data "$F/bom.csv" $EA --out "$O/out.h5"'
t csv_crlf 0 '' '"$CWFX" estimate --data "$F/crlf.csv" --outcome y --covariates x1,x2 --absorb cw,cit --cluster cl --quiet --out "$O/out.h5"'
t csv_quoted_commas 0 '' '"$CWFX" estimate --data "$F/quoted_comma.csv" $EA --out "$O/out.h5"'
t csv_quoted_newlines 0 '' '"$CWFX" estimate --data "$F/quoted_newline.csv" $EA --out "$O/out.h5"'
t csv_quoted_quotes 0 '' '"$CWFX" estimate --data "$F/quoted_quotes.csv" $EA --out "$O/out.h5"'
t csv_quoted_text_id 0 '' '"$CWFX" estimate --data "$F/quoted_comma.csv" --outcome y --covariates x1 --absorb office --out "$O/out.h5" --quiet'
t csv_quoted_newline_error_row 2 "quoted_newline_bad_row7\.csv.*row 7.*'y'" '"$CWFX" estimate --data "$F/quoted_newline_bad_row7.csv" $EA --out "$O/out.h5"'
t csv_crlf_error_row 2 "crlf_bad_row7\.csv.*row 7.*'y'.*'abc'" '"$CWFX" estimate --data "$F/crlf_bad_row7.csv" $EA --out "$O/out.h5"'
t csv_chunked_quotes_error_row_2_threads 2 "chunked_quotes_bad_row1900\.csv.*row 1900.*'y'" '"$CWFX" estimate --data "$F/chunked_quotes_bad_row1900.csv" --outcome y --covariates x1 --absorb cw --threads 2 --out "$O/out.h5"'
t csv_fake_rows_in_quotes_2_threads 0 '' '"$CWFX" estimate --data "$F/fake_rows_in_quotes.csv" --outcome y --covariates x1 --absorb cw --threads 2 --out "$O/out.h5" | grep -q "^Observations: 300$"'
t csv_unterminated_quote 2 'unterminated_quote\.csv.*row 7' '"$CWFX" estimate --data "$F/unterminated_quote.csv" $EA --out "$O/out.h5"'
t csv_quote_inside_number 2 "quote_mid_field\.csv.*row 7" '"$CWFX" estimate --data "$F/quote_mid_field.csv" $EA --out "$O/out.h5"'
t csv_nul_in_outcome 2 "nul_outcome\.csv.*row 7.*'y'" '"$CWFX" estimate --data "$F/nul_outcome.csv" $EA --out "$O/out.h5"'
t csv_nul_in_id 2 "nul_id\.csv.*row 4.*'cw'" '"$CWFX" estimate --data "$F/nul_id.csv" $EA --out "$O/out.h5"'
t csv_nul_line 2 'nul_line\.csv.*row 20' '"$CWFX" estimate --data "$F/nul_line.csv" $EA --out "$O/out.h5"'
t csv_invalid_utf8_id 2 "bad_utf8_id\.csv.*row 4.*'cw'" '"$CWFX" estimate --data "$F/bad_utf8_id.csv" $EA --out "$O/out.h5"'
t csv_invalid_utf8_cluster 2 "bad_utf8_cluster\.csv.*row 4.*'cl'" '"$CWFX" estimate --data "$F/bad_utf8_cluster.csv" $EA --cluster cl --out "$O/out.h5"'
t csv_text_ids 0 '' '"$CWFX" estimate --data "$F/text_ids.csv" --outcome y --covariates x1,x2 --absorb cw,cit --quiet --out "$O/out.h5"'
t csv_long_line_unused 0 '' '"$CWFX" estimate --data "$F/long_line.csv" $EA --out "$O/out.h5"'
t csv_long_junk_line 2 'long_junk_line\.csv.*row 7' '"$CWFX" estimate --data "$F/long_junk_line.csv" $EA --out "$O/out.h5"'
t csv_20000_columns 0 '' '"$CWFX" estimate --data "$F/wide.csv" --outcome y --covariates x1 --absorb cw --quiet --out "$O/out.h5"'
t csv_duplicate_column 2 "dup_column\.csv.*'y'" '"$CWFX" estimate --data "$F/dup_column.csv" $EA --out "$O/out.h5"'
t csv_empty_column_name 2 'empty_name\.csv' '"$CWFX" estimate --data "$F/empty_name.csv" $EA --out "$O/out.h5"'
t csv_trailing_comma_every_line 2 'trailing_comma\.csv.*(empty|10)' '"$CWFX" estimate --data "$F/trailing_comma.csv" $EA --out "$O/out.h5"'
t csv_spaces_around_number 0 '' '"$CWFX" estimate --data "$F/spaces_number.csv" $EA --out "$O/out.h5"'
t csv_blank_line_inside 2 'blank_line_mid\.csv.*row 19' '"$CWFX" estimate --data "$F/blank_line_mid.csv" $EA --out "$O/out.h5"'
t csv_column_missing 2 "base\.csv.*'nosuch'" '"$CWFX" estimate --data "$F/base.csv" --outcome nosuch --out "$O/out.h5"'
PREP='cp "$F/base.csv" commas.tsv'
t csv_as_tsv_columns_missing 2 "commas\.tsv.*'y'" '"$CWFX" estimate --data "$O/commas.tsv" $EA --out "$O/out.h5"'
t ext_csv_named_dta 2 'csv_as\.dta' '"$CWFX" estimate --data "$F/csv_as.dta" $EA --out "$O/out.h5"'
t ext_csv_named_h5 2 'csv_as\.h5' '"$CWFX" estimate --data "$F/csv_as.h5" $EA --out "$O/out.h5"'
t ext_h5_named_csv 2 'h5_as\.csv' '"$CWFX" estimate --data "$F/h5_as.csv" $EA --out "$O/out.h5"'
t ext_unknown 2 'base\.xyz' '"$CWFX" estimate --data "$F/base.xyz" $EA --out "$O/out.h5"'
t ext_none 2 'noext' '"$CWFX" estimate --data "$F/noext" $EA --out "$O/out.h5"'
t csv_all_zero_bytes 2 'zeros\.csv' '"$CWFX" estimate --data "$F/zeros.csv" $EA --out "$O/out.h5"'
t data_is_directory 2 'dir\.csv' '"$CWFX" estimate --data "$F/dir.csv" $EA --out "$O/out.h5"'
t data_dev_null 2 '/dev/null' '"$CWFX" estimate --data /dev/null $EA --out "$O/out.h5"'
TO=20
t data_dev_zero 2 '/dev/zero' '"$CWFX" estimate --data /dev/zero $EA --out "$O/out.h5"'
TO=20
t data_symlink_to_dev_zero 2 'zero\.csv' '"$CWFX" estimate --data "$F/zero.csv" $EA --out "$O/out.h5"'
TO=20
t data_symlink_to_dev_urandom 2 'urandom\.h5' '"$CWFX" estimate --data "$F/urandom.h5" $EA --out "$O/out.h5"'
# A sparse file of NUL bytes (no disk space): nothing in it can be a register,
# so it must be refused at once, not scanned (and held in memory) to its end.
PREP='truncate -s 512M zeros.csv'
TO=3
CLEANUP='rm -f zeros.csv'
t data_sparse_zeros_512mb_refused_quickly 2 'zeros\.csv' '"$CWFX" estimate --data "$O/zeros.csv" $EA --out "$O/out.h5"'
t data_symlink 0 '' '"$CWFX" estimate --data "$F/link.csv" $EA --out "$O/out.h5"'
t data_dangling_symlink 2 'dangling\.csv' '"$CWFX" estimate --data "$F/dangling.csv" $EA --out "$O/out.h5"'
t data_nonexistent 2 'nosuchfile\.csv' '"$CWFX" estimate --data "$F/nosuchfile.csv" $EA --out "$O/out.h5"'
t data_empty_name 2 '' '"$CWFX" estimate --data "" $EA --out "$O/out.h5"'
PREP='mkfifo p.csv'
t data_fifo 0 '' 'cat "$F/base.csv" >"$O/p.csv" & "$CWFX" estimate --data "$O/p.csv" $EA --out "$O/out.h5"; rc=$?; kill %1 2>/dev/null; exit $rc'
PREP='mkfifo p.csv'
t data_fifo_garbage 2 'p\.csv' 'cat "$F/garbage.bin" >"$O/p.csv" & "$CWFX" estimate --data "$O/p.csv" $EA --out "$O/out.h5"; rc=$?; kill %1 2>/dev/null; exit $rc'
PREP='mkfifo p.h5'
t data_fifo_h5 2 'p\.h5' '"$CWFX" estimate --data "$O/p.h5" $EA --out "$O/out.h5"'
t data_stdin 0 '' '"$CWFX" estimate --data - $EA --out "$O/out.h5" <"$F/base.csv"'
t data_stdin_pipe 0 '' 'cat "$F/crlf.csv" | "$CWFX" estimate --data - $EA --out "$O/out.h5"'
t data_stdin_empty 2 '' '"$CWFX" estimate --data - $EA --out "$O/out.h5" </dev/null'
t data_stdin_garbage 2 'binary data|row|column' '"$CWFX" estimate --data - $EA --out "$O/out.h5" <"$F/garbage.bin"'
t data_stdin_pipe_garbage 2 'binary data|row|column' 'cat "$F/garbage.bin" | "$CWFX" estimate --data - $EA --out "$O/out.h5"'
t data_stdin_pipe_missing_value 2 "row 7.*'y'" 'cat "$F/miss_outcome.csv" | "$CWFX" estimate --data - $EA --out "$O/out.h5"'
t study_data_stdin_pipe 0 '' 'cat "$F/reg.csv" | "$CWFX" study --data - $SA --no-corrections --quiet --out "$O/st"'
t replicate_data_stdin_pipe 0 '' 'cat "$F/reg.csv" | "$CWFX" replicate --data - $SA --replications 3 --quiet --no-report --out "$O/d.h5"'
t data_stdin_h5 2 '' '"$CWFX" estimate --data - $EA --out "$O/out.h5" <"$F/reg.h5"'
t data_stdin_missing_value 2 "row 7.*'y'" '"$CWFX" estimate --data - $EA --out "$O/out.h5" <"$F/miss_outcome.csv"'
if [ $CAN_DENY = 1 ]; then
  PREP='cp "$F/base.csv" locked.csv && chmod 000 locked.csv'
  t data_unreadable 2 'locked\.csv' '"$CWFX" estimate --data "$O/locked.csv" $EA --out "$O/out.h5"'
else
  skip data_unreadable "running as root: chmod 000 does not stop reads"
fi

# ------------------------------------------------- registers: HDF5
t valid_h5 0 '' '"$CWFX" estimate --data "$F/reg.h5" --outcome outcome --covariates age,B1 --absorb caseworker_id,citizen_id --quiet --out "$O/out.h5"'
t valid_hdf5_extension 0 '' '"$CWFX" estimate --data "$F/reg.hdf5" --outcome outcome --covariates age --absorb caseworker_id --quiet --out "$O/out.h5"'
t h5_empty 2 'empty\.h5' '"$CWFX" estimate --data "$F/empty.h5" $EA --out "$O/out.h5"'
t h5_text 2 'text\.h5' '"$CWFX" estimate --data "$F/text.h5" $EA --out "$O/out.h5"'
t h5_zero_bytes 2 'zeros\.h5' '"$CWFX" estimate --data "$F/zeros.h5" $EA --out "$O/out.h5"'
t h5_garbage 2 'garbage\.h5' '"$CWFX" estimate --data "$F/garbage.h5" $EA --out "$O/out.h5"'
t h5_truncated_half 2 'trunc_half\.h5' '"$CWFX" estimate --data "$F/trunc_half.h5" --outcome outcome --absorb caseworker_id --out "$O/out.h5"'
t h5_truncated_2k 2 'trunc_2k\.h5' '"$CWFX" estimate --data "$F/trunc_2k.h5" --outcome outcome --absorb caseworker_id --out "$O/out.h5"'
t h5_truncated_1_byte 2 'trunc_1byte\.h5' '"$CWFX" estimate --data "$F/trunc_1byte.h5" --outcome outcome --covariates age --absorb caseworker_id --out "$O/out.h5"'
if [ -f "$F/flip_data.h5" ]; then
  t h5_flipped_data_byte 2 'flip_data\.h5' '"$CWFX" estimate --data "$F/flip_data.h5" --outcome outcome --covariates response_id --absorb caseworker_id --out "$O/out.h5"'
  t h5_flipped_data_byte_study 2 'flip_data\.h5' '"$CWFX" study --data "$F/flip_data.h5" $SA --no-corrections --quiet --out "$O/st"'
else
  skip h5_flipped_data_byte "no data chunk located"
  skip h5_flipped_data_byte_study "no data chunk located"
fi
t h5_flipped_signature 2 'flip_signature\.h5' '"$CWFX" estimate --data "$F/flip_signature.h5" --outcome outcome --absorb caseworker_id --out "$O/out.h5"'
t h5_wrong_group 2 'nosuchgroup' '"$CWFX" estimate --data "$F/reg.h5" --group /nosuchgroup --outcome outcome --absorb caseworker_id --out "$O/out.h5"'
t h5_group_is_dataset 2 'register/outcome' '"$CWFX" estimate --data "$F/reg.h5" --group /register/outcome --outcome outcome --absorb caseworker_id --out "$O/out.h5"'
t h5_group_garbage 2 '' '"$CWFX" estimate --data "$F/reg.h5" --group "$(printf "/\377\001")" --outcome outcome --absorb caseworker_id --out "$O/out.h5"'
t h5_truth_group 0 '' '"$CWFX" estimate --data "$F/reg.h5" --group /truth/citizens --outcome true_effect --covariates readiness --quiet --out "$O/out.h5"'
t h5_results_file_as_register 2 'results_as_register\.h5' '"$CWFX" estimate --data "$F/results_as_register.h5" $EA --out "$O/out.h5"'
t h5_draw_file_as_register 2 'rep_full\.h5' '"$CWFX" estimate --data "$F/rep_full.h5" $EA --out "$O/out.h5"'
t h5_directory 2 'dir\.h5' '"$CWFX" estimate --data "$F/dir.h5" $EA --out "$O/out.h5"'
if [ $HAVE_H5C = 1 ]; then
  H="--outcome y --covariates x1 --absorb cw --quiet --out \"\$O/out.h5\""
  t h5x_valid 0 '' "\"\$CWFX\" estimate --data \"\$F/h5x_valid.h5\" $H"
  t h5x_integer_and_float32_columns 0 '' "\"\$CWFX\" estimate --data \"\$F/h5x_int_types.h5\" $H"
  t h5x_variable_length_text_ids 0 '' "\"\$CWFX\" estimate --data \"\$F/h5x_vlen_text_id.h5\" $H"
  t h5x_ragged_columns 2 "h5x_ragged\.h5.*'?x1" "\"\$CWFX\" estimate --data \"\$F/h5x_ragged.h5\" $H"
  t h5x_claims_10e12_rows 2 "h5x_huge_dim\.h5.*y" "\"\$CWFX\" estimate --data \"\$F/h5x_huge_dim.h5\" $H"
  t h5x_two_dimensional_column 2 "h5x_two_d\.h5.*x1" "\"\$CWFX\" estimate --data \"\$F/h5x_two_d.h5\" $H"
  t h5x_compound_column 2 "h5x_compound\.h5.*x1" "\"\$CWFX\" estimate --data \"\$F/h5x_compound.h5\" $H"
  t h5x_nan_id 2 "h5x_nan_id\.h5.*row 7.*'cw'" "\"\$CWFX\" estimate --data \"\$F/h5x_nan_id.h5\" $H"
  t h5x_inf_outcome 2 "h5x_inf_outcome\.h5.*row 7.*'y'" "\"\$CWFX\" estimate --data \"\$F/h5x_inf_outcome.h5\" $H"
  t h5x_invalid_utf8_id 2 "h5x_bad_utf8_id\.h5.*row 4.*'cw'" "\"\$CWFX\" estimate --data \"\$F/h5x_bad_utf8_id.h5\" $H"
  t h5x_listed_column_without_dataset 2 "h5x_ghost_column\.h5.*ghost" '"$CWFX" estimate --data "$F/h5x_ghost_column.h5" --outcome ghost --covariates x1 --absorb cw --quiet --out "$O/out.h5"'
  t h5x_columns_attribute_not_text 2 "h5x_columns_int\.h5.*columns" "\"\$CWFX\" estimate --data \"\$F/h5x_columns_int.h5\" $H"
  t h5x_empty_group 2 "h5x_no_columns\.h5" "\"\$CWFX\" estimate --data \"\$F/h5x_no_columns.h5\" $H"
  t h5x_zero_rows 2 "h5x_zero_rows\.h5" "\"\$CWFX\" estimate --data \"\$F/h5x_zero_rows.h5\" $H"
  t h5x_dangling_external_link 2 "h5x_external_link\.h5.*y" "\"\$CWFX\" estimate --data \"\$F/h5x_external_link.h5\" $H"
  t h5x_soft_link_loop 2 "h5x_soft_loop\.h5.*y" "\"\$CWFX\" estimate --data \"\$F/h5x_soft_loop.h5\" $H"
else
  skip h5x_cases "make_h5_file.c could not be compiled"
fi
t h5_missing_column 2 "reg\.h5.*'nosuch'" '"$CWFX" estimate --data "$F/reg.h5" --outcome nosuch --absorb caseworker_id --out "$O/out.h5"'

# ------------------------------------------------- registers: ReadStat formats
if [ $HAVE_STAT = 1 ]; then
  for e in $STAT_EXTS; do
    t "valid_$e" 0 '' '"$CWFX" estimate --data "$F/base.'"$e"'" $EA --weights w --cluster cl --out "$O/out.h5"'
    t "${e}_same_estimates_as_csv" 0 '' 'a=$("$CWFX" estimate --data "$F/base.csv" --outcome y --covariates x1,x2 --absorb cw,office --cluster cl --out "$O/a.h5" | grep -E "^(x1|x2) ") && b=$("$CWFX" estimate --data "$F/base.'"$e"'" --outcome y --covariates x1,x2 --absorb cw,office --cluster cl --out "$O/b.h5" | grep -E "^(x1|x2) ") && [ -n "$a" ] && [ "$a" = "$b" ]'
    t "${e}_empty" 2 "empty\\.$e" '"$CWFX" estimate --data "$F/empty.'"$e"'" $EA --out "$O/out.h5"'
    t "${e}_text" 2 "text\\.$e" '"$CWFX" estimate --data "$F/text.'"$e"'" $EA --out "$O/out.h5"'
    t "${e}_truncated_half" 2 "trunc_half\\.$e" '"$CWFX" estimate --data "$F/trunc_half.'"$e"'" $EA --out "$O/out.h5"'
    t "${e}_truncated_100_bytes" 2 "trunc_100\\.$e" '"$CWFX" estimate --data "$F/trunc_100.'"$e"'" $EA --out "$O/out.h5"'
    t "${e}_header_only" 2 "header_only\\.$e" '"$CWFX" estimate --data "$F/header_only.'"$e"'" $EA --out "$O/out.h5"'
    t "${e}_missing_outcome" 2 "miss_outcome\\.$e.*row 7.*'y'" '"$CWFX" estimate --data "$F/miss_outcome.'"$e"'" $EA --out "$O/out.h5"'
    t "${e}_missing_outcome_drop" 0 '' '"$CWFX" estimate --data "$F/miss_outcome.'"$e"'" $EA --missing drop --out "$O/out.h5"'
    if [ ! -f "$F/inf_outcome.$e" ]; then skip "${e}_inf_outcome" "ReadStat does not write Inf to .$e"
    elif [ "$e" = xpt ]; then skip "${e}_inf_outcome" "SAS transport has no Inf: ReadStat stores the largest IBM number (7.2e75), a finite value"
    else
    t "${e}_inf_outcome" 2 "inf_outcome\\.$e.*row 7.*'y'" '"$CWFX" estimate --data "$F/inf_outcome.'"$e"'" $EA --out "$O/out.h5"'
    fi
    t "${e}_invalid_utf8_id" 2 "bad_utf8_id\\.$e.*row 3.*'office'" '"$CWFX" estimate --data "$F/bad_utf8_id.'"$e"'" --outcome y --covariates x1 --absorb office --out "$O/out.h5"'
    t "${e}_text_outcome" 2 "text_outcome\\.$e.*'y'" '"$CWFX" estimate --data "$F/text_outcome.'"$e"'" $EA --out "$O/out.h5"'
    t "${e}_column_missing" 2 "base\\.$e.*'nosuch'" '"$CWFX" estimate --data "$F/base.'"$e"'" --outcome nosuch --out "$O/out.h5"'
  done
  t ext_dta_named_sav 2 'dta_as\.sav' '"$CWFX" estimate --data "$F/dta_as.sav" $EA --out "$O/out.h5"'
  t ext_sav_named_dta 2 'sav_as\.dta' '"$CWFX" estimate --data "$F/sav_as.dta" $EA --out "$O/out.h5"'
  t study_on_dta_without_study_columns 2 "base\\.dta.*(caseworker_id|citizen_id|response_id|column)" '"$CWFX" study --data "$F/base.dta" --quiet --out "$O/st"'
else
  skip readstat_formats "make_stat_file.c could not be compiled"
fi

# ------------------------------------------------- model mistakes (estimate)
t model_outcome_among_covariates 2 "'y'" '"$CWFX" estimate --data "$F/base.csv" --outcome y --covariates x1,y --absorb cw --out "$O/out.h5"'
t model_outcome_absorbed 2 "'y'" '"$CWFX" estimate --data "$F/base.csv" --outcome y --covariates x1 --absorb cw,y --out "$O/out.h5"'
t model_outcome_as_weights 2 "'y'" '"$CWFX" estimate --data "$F/base.csv" $EA --weights y --out "$O/out.h5"'
t model_covariate_also_absorbed 2 "'x1'" '"$CWFX" estimate --data "$F/base.csv" --outcome y --covariates x1,x2 --absorb cw,x1 --out "$O/out.h5"'
t model_covariate_twice 2 "'x1'" '"$CWFX" estimate --data "$F/base.csv" --outcome y --covariates x1,x1 --absorb cw --out "$O/out.h5"'
t model_absorb_twice 2 "'cw'" '"$CWFX" estimate --data "$F/base.csv" --outcome y --covariates x1 --absorb cw,cw --out "$O/out.h5"'
t model_weights_column_also_covariate 0 '' '"$CWFX" estimate --data "$F/base.csv" --outcome y --covariates x1,w --absorb cw --weights w --out "$O/out.h5"'
t model_empty_covariate_name_ignored 0 '' '"$CWFX" estimate --data "$F/base.csv" --outcome y --covariates x1,,x2 --absorb cw --out "$O/out.h5"'
t model_constant_outcome 2 "const_outcome\.csv.*'y'" '"$CWFX" estimate --data "$F/const_outcome.csv" $EA --out "$O/out.h5"'
t model_collinear_pair_dropped 0 '' '"$CWFX" estimate --data "$F/collinear.csv" --outcome y --covariates x1,x2 --absorb cw --out "$O/out.h5" | grep -i "collinear.*x2\|x2.*collinear"'
t model_all_covariates_collinear_with_fe 2 'collinear.*x1' '"$CWFX" estimate --data "$F/cov_const_in_cw.csv" --outcome y --covariates x1,x2 --absorb cw --out "$O/out.h5"'
t model_constant_covariates_no_fe 2 'collinear.*x1' '"$CWFX" estimate --data "$F/cov_const.csv" --outcome y --covariates x1,x2 --out "$O/out.h5"'
t model_single_caseworker 2 "single_cw\.csv.*'cw'" '"$CWFX" estimate --data "$F/single_cw.csv" $EA --out "$O/out.h5"'
t model_single_caseworker_cluster_by_it 2 "'cw'" '"$CWFX" estimate --data "$F/single_cw.csv" $EA --cluster cw --out "$O/out.h5"'
t model_one_observation 2 'one_row\.csv' '"$CWFX" estimate --data "$F/one_row.csv" $EA --out "$O/out.h5"'
t model_two_observations 2 'two_rows\.csv' '"$CWFX" estimate --data "$F/two_rows.csv" $EA --out "$O/out.h5"'
t model_all_singletons 2 'all_singletons\.csv' '"$CWFX" estimate --data "$F/all_singletons.csv" $EA --out "$O/out.h5"'
t model_one_cluster 2 "one_cluster\.csv.*'cl'" '"$CWFX" estimate --data "$F/one_cluster.csv" $EA --cluster cl --out "$O/out.h5"'
t model_unknown_outcome 2 "'nosuch'" '"$CWFX" estimate --data "$F/base.csv" --outcome nosuch --covariates x1 --absorb cw --out "$O/out.h5"'
t model_unknown_covariate 2 "'nosuch'" '"$CWFX" estimate --data "$F/base.csv" --outcome y --covariates x1,nosuch --absorb cw --out "$O/out.h5"'
t model_unknown_absorb 2 "'nosuch'" '"$CWFX" estimate --data "$F/base.csv" --outcome y --covariates x1 --absorb nosuch --out "$O/out.h5"'
t model_unknown_cluster 2 "'nosuch'" '"$CWFX" estimate --data "$F/base.csv" $EA --cluster nosuch --out "$O/out.h5"'
t model_unknown_weights 2 "'nosuch'" '"$CWFX" estimate --data "$F/base.csv" $EA --weights nosuch --out "$O/out.h5"'
t model_unknown_r2_without 2 "'cit'" '"$CWFX" estimate --data "$F/base.csv" $EA --r2-without cit --out "$O/out.h5"'
t model_text_weights 2 "'office'" '"$CWFX" estimate --data "$F/base.csv" $EA --weights office --out "$O/out.h5"'
t model_vcov_cluster_without_cluster 2 'cluster' '"$CWFX" estimate --data "$F/base.csv" $EA --vcov cluster --out "$O/out.h5"'
t model_no_absorb 0 '' '"$CWFX" estimate --data "$F/base.csv" --outcome y --covariates x1,x2 --quiet --out "$O/out.h5"'
t model_no_covariates 0 '' '"$CWFX" estimate --data "$F/base.csv" --outcome y --absorb cw,cit --quiet --out "$O/out.h5"'
t model_nothing_but_outcome 0 '' '"$CWFX" estimate --data "$F/base.csv" --outcome y --quiet --out "$O/out.h5"'
t model_continuous_absorbed 2 'x2' '"$CWFX" estimate --data "$F/base.csv" --outcome y --covariates x1 --absorb x2 --out "$O/out.h5"'
t model_max_iterations_1_not_converged 4 'converge' '"$CWFX" estimate --data "$F/base.csv" --outcome y --covariates x1,x2 --absorb cw,cit --absorb-method iterative --max-iterations 1 --quiet --out "$O/out.h5"; rc=$?; test -s "$O/out.h5" || exit 99; exit $rc'
t model_recovery_cholmod 0 '' '"$CWFX" estimate --data "$F/base.csv" --outcome y --covariates x1 --absorb cw,cit --recovery cholmod --quiet --out "$O/out.h5"'
t model_recovery_sweeps 0 '' '"$CWFX" estimate --data "$F/base.csv" --outcome y --covariates x1 --absorb cw,cit --recovery sweeps --quiet --out "$O/out.h5"'
t model_compare_recoveries 0 '' '"$CWFX" estimate --data "$F/base.csv" --outcome y --covariates x1 --absorb cw,cit --compare-recoveries --quiet --out "$O/out.h5"'
t model_direct_one_factor 0 '' '"$CWFX" estimate --data "$F/base.csv" $EA --absorb-method direct --out "$O/out.h5"'
t model_largest_component 0 '' '"$CWFX" estimate --data "$F/base.csv" --outcome y --covariates x1 --absorb cw,cit --largest-component --residuals --quiet --out "$O/out.h5"'

# ------------------------------------------------- flags
B="\"\$CWFX\" estimate --data \"\$F/base.csv\" \$EA --out \"\$O/out.h5\""
# Two factors solved iteratively, where the tolerance matters (a tolerance >= 1
# stops before the first iteration and reports it converged).
B2="\"\$CWFX\" estimate --data \"\$F/base.csv\" --outcome y --covariates x1,x2 --absorb cw,cit --absorb-method iterative --quiet --out \"\$O/out.h5\""
for v in -1 0 1e12 18446744073709551616 abc nan inf; do
  t "flag_tolerance_$v" 2 'tolerance' "$B2 --tolerance $v"
done
t flag_tolerance_1e-12 0 '' "$B2 --tolerance 1e-12"
for v in -1 0 1e12 18446744073709551616 abc 2.5; do
  t "flag_max_iterations_$v" 2 'max-iterations' "$B --max-iterations $v"
done
for v in -1 100000 1025 18446744073709551616 abc 1.5; do
  t "flag_threads_$v" 2 'threads' "$B --threads $v"
done
t flag_threads_1 0 '' "$B --threads 1"
t flag_threads_1024 0 '' "$B --threads 1024"
for v in -1 0 7 1e12 100001; do
  t "flag_fe_projections_$v" 2 'projections' "$B --fe-std-error-projections $v"
done
t flag_vcov_bogus 2 'vcov' "$B --vcov bogus"
t flag_missing_bogus 2 'missing' "$B --missing maybe"
t flag_unknown_estimate 2 'bogus' "$B --bogus"
t flag_stray_positional 2 'stray' "$B stray"
t flag_out_twice 2 'out' "$B --out \"\$O/other.h5\""
t flag_missing_data 2 'data' '"$CWFX" estimate $EA --out "$O/out.h5"'
t flag_missing_out 2 'out' '"$CWFX" estimate --data "$F/base.csv" $EA'
t flag_missing_outcome 2 'outcome' '"$CWFX" estimate --data "$F/base.csv" --out "$O/out.h5"'
t flag_no_subcommand 2 '' '"$CWFX"'
t flag_unknown_subcommand 2 '' '"$CWFX" bogus'
for c in estimate study replicate simulate merge generate; do
  t "help_$c" 0 '' "\"\$CWFX\" $c --help | grep -q -- --out"
done
# generate
t generate_small 0 '' '"$CWFX" generate --preset large --responses 80 --out "$O/g.h5" && test -s "$O/g.h5"'
for v in -1 18446744073709551616 abc 1.5; do
  t "flag_generate_seed_$v" 2 'seed' '"$CWFX" generate --preset large --responses 80 --seed '"$v"' --out "$O/g.h5"'
done
t flag_generate_seed_max 0 '' '"$CWFX" generate --preset large --responses 80 --seed 18446744073709551615 --out "$O/g.h5"'
for v in -1 0 abc 1e12; do
  t "flag_generate_responses_$v" 2 'responses' '"$CWFX" generate --preset large --responses '"$v"' --out "$O/g.h5"'
done
TO=30
t flag_generate_responses_10e12 2 'responses' '"$CWFX" generate --preset large --responses 1000000000000 --out "$O/g.h5"'
t flag_generate_preset_bogus 2 'preset' '"$CWFX" generate --preset bogus --out "$O/g.h5"'
t flag_generate_out_bad_extension 2 'g\.xyz' '"$CWFX" generate --preset large --responses 80 --out "$O/g.xyz"'
t flag_generate_unknown 2 'bogus' '"$CWFX" generate --bogus --out "$O/g.h5"'
# replicate
R='"$CWFX" replicate --data "$F/reg.h5" $SA --quiet --no-report --out "$O/d.h5"'
t replicate_small 0 '' "$R --replications 5 && test -s \"\$O/d.h5\""
for s in bayes wild permute; do
  t "replicate_scheme_$s" 0 '' "$R --replications 3 --scheme $s"
done
t replicate_wild_webb 0 '' "$R --replications 3 --scheme wild --weights webb"
for v in -1 0 10000001 1e12 18446744073709551616 abc; do
  t "flag_replications_$v" 2 'replications' "$R --replications $v"
done
for v in -1 18446744073709551616 abc; do
  t "flag_replicate_seed_$v" 2 'seed' "$R --replications 3 --seed $v"
done
t flag_replicate_seed_max 0 '' "$R --replications 3 --seed 18446744073709551615"
for v in 99 1000001 -5; do
  t "flag_rank_draws_$v" 2 'rank-draws' "$R --replications 3 --rank-draws $v"
done
for v in 3/2 2/2 0/0 -1/2 a/b 1/ /2 1/2/3 0/-1 0/18446744073709551617; do
  t "flag_shard_$(echo "$v" | tr '/' '_')" 2 'shard' "$R --replications 4 --shard $v"
done
t flag_replicate_scheme_bogus 2 'scheme' "$R --replications 3 --scheme bogus"
t flag_replicate_weights_bogus 2 'weights' "$R --replications 3 --scheme wild --weights bogus"
t flag_replicate_strata_unknown 2 'nosuch' "$R --replications 3 --scheme permute --strata nosuch"
t flag_replicate_min_citizens_negative 2 'min-citizens' "$R --replications 3 --min-citizens -1"
t flag_replicate_unknown 2 'bogus' "$R --replications 3 --bogus"
t flag_replicate_missing_out 2 'out' '"$CWFX" replicate --data "$F/reg.h5" $SA --replications 3'
t flag_replicate_resume_and_overwrite 2 'resume|overwrite' "$R --replications 3 --resume --overwrite"
t replicate_everything_restricted_away 2 '' '"$CWFX" replicate --data "$F/reg.h5" --min-citizens 100000 --replications 3 --quiet --no-report --out "$O/d.h5"'
t replicate_register_without_study_columns 2 "base\.csv.*'?(caseworker_id|citizen_id|response_id|job_centre_id)" '"$CWFX" replicate --data "$F/base.csv" --replications 3 --quiet --out "$O/d.h5"'
t replicate_covariate_unknown 2 "'nosuch'" "$R --replications 3 --covariates age,nosuch"
# study
S='"$CWFX" study --data "$F/reg.h5" $SA --no-corrections --quiet --out "$O/st"'
t study_small 0 '' "$S && test -s \"\$O/st/results.h5\" && test -s \"\$O/st/report.html\""
t study_small_with_corrections 0 '' '"$CWFX" study --data "$F/reg.csv" $SA --cross-fit-splits 4 --quiet --out "$O/st"'
t study_bootstrap_permutations 0 '' "$S --bootstrap 3 --permutations 3"
for v in -1 10000001 18446744073709551616 abc; do
  t "flag_study_bootstrap_$v" 2 'bootstrap' "$S --bootstrap $v"
done
t flag_study_permutations_huge 2 'permutations' "$S --permutations 10000001"
t flag_study_cross_fit_negative 2 'cross-fit' "$S --cross-fit-splits -1"
t flag_study_replication_seed_negative 2 'seed' "$S --bootstrap 2 --replication-seed -1"
t flag_study_unknown 2 'bogus' "$S --bogus"
t study_everything_restricted_away 2 '' '"$CWFX" study --data "$F/reg.h5" --min-citizens 100000 --no-corrections --quiet --out "$O/st"'
t study_register_without_study_columns 2 "base\.csv" '"$CWFX" study --data "$F/base.csv" --quiet --out "$O/st"'
PREP='awk -F, -v OFS=, "NR > 1 { \$3 = 1 } 1" "$F/reg.csv" >one_cw.csv'
t study_single_caseworker 2 'caseworker' '"$CWFX" study --data "$O/one_cw.csv" --min-citizens 1 --no-corrections --quiet --out "$O/st"'
# simulate
M='"$CWFX" simulate --seed 1 $SIMA --no-report --out "$O/sim.h5"'
t simulate_small 0 '' "$M --registers 2 && test -s \"\$O/sim.h5\""
t simulate_grid 0 '' "$M --registers 2 --grid sorting=-0.2,0.2"
for v in -1 0 10000001 abc; do
  t "flag_registers_$v" 2 'registers' "$M --registers $v"
done
t flag_simulate_inner_bootstrap_huge 2 'inner-bootstrap' "$M --registers 1 --inner-bootstrap 10000001"
t flag_simulate_grid_unknown_param 2 'bogus' "$M --registers 2 --grid bogus=1,2"
t flag_simulate_grid_no_values 2 'sorting' "$M --registers 2 --grid sorting="
t flag_simulate_grid_no_equals 2 'sorting' "$M --registers 2 --grid sorting"
t flag_simulate_grid_text_value 2 'sorting' "$M --registers 2 --grid sorting=a,b"
t flag_simulate_set_unknown 2 'bogus' "$M --registers 2 --set bogus=1"
t flag_simulate_set_negative_citizens 2 'num_citizens' "$M --registers 2 --set num_citizens=-5"
t flag_simulate_set_zero_citizens 2 'num_citizens' "$M --registers 2 --set num_citizens=0"
t flag_simulate_set_nan 2 'caseworker_effect_sd' "$M --registers 2 --set caseworker_effect_sd=nan"
t flag_simulate_set_inf 2 'outcome_noise_sd' "$M --registers 2 --set outcome_noise_sd=inf"
t flag_simulate_set_negative_sd 2 'caseworker_effect_sd' "$M --registers 2 --set caseworker_effect_sd=-1"
TO=30
t flag_simulate_set_huge_citizens 2 'num_citizens' "$M --registers 1 --set num_citizens=1e12"
t flag_simulate_preset_bogus 2 'preset' "$M --registers 2 --preset bogus"
t flag_simulate_unknown 2 'bogus' "$M --registers 2 --bogus"
# Thread counts and seeds of every command that takes them.
for c in study replicate simulate generate; do
  case $c in
    study) base='"$CWFX" study --data "$F/reg.h5" $SA --no-corrections --quiet --out "$O/st"'; seeds="--seed --replication-seed" ;;
    replicate) base="$R --replications 3"; seeds="--seed --register-seed" ;;
    simulate) base="$M --registers 1"; seeds="--seed" ;;
    generate) base='"$CWFX" generate --preset large --responses 80 --out "$O/g.h5"'; seeds="--seed" ;;
  esac
  for v in -1 100000 abc; do t "range_${c}_threads_$v" 2 'threads' "$base --threads $v"; done
  for sf in $seeds; do
    for v in -1 18446744073709551616; do t "range_${c}_${sf#--}_$v" 2 "${sf#--}" "$base $sf $v"; done
  done
done
for v in -1 1e12 abc; do
  t "flag_study_min_citizens_$v" 2 'min-citizens' "$S --min-citizens $v"
  t "flag_study_min_responses_$v" 2 'min-responses' "$S --min-responses $v"
  t "flag_study_max_iterations_$v" 2 'max-iterations' "$S --max-iterations $v"
done
t flag_study_tolerance_0 2 'tolerance' "$S --tolerance 0"
t flag_study_cross_fit_huge 2 'cross-fit' "$S --cross-fit-splits 100000000000"
t flag_study_categorical_unknown 2 "'nosuch'" "$S --categorical nosuch"
t flag_study_absorb_extra_unknown 2 "'nosuch'" "$S --absorb-extra nosuch"
t flag_simulate_inner_permutations_negative 2 'inner-permutations' "$M --registers 1 --inner-permutations -1"
t flag_simulate_cross_fit_huge 2 'cross-fit' "$M --registers 1 --cross-fit-splits 100000000000"
t flag_simulate_shard_3_2 2 'shard' "$M --registers 4 --shard 3/2"
# merge
t flag_merge_no_shards 2 'shards' '"$CWFX" merge --out "$O/m.h5"'
t flag_merge_unknown 2 'bogus' '"$CWFX" merge --bogus --out "$O/m.h5" "$F/rep.s0.h5"'

# ------------------------------------------------- configuration files
C='"$CWFX" estimate --data "$F/base.csv" --out "$O/out.h5"'
t config_estimate 0 '' "$C --config \"\$F/est.toml\""
t config_estimate_section 0 '' "$C --config \"\$F/est_section.toml\""
t config_wrong_section 2 'wrong_section\.toml' "$C --config \"\$F/wrong_section.toml\""
t config_flag_overrides 0 '' "$C --config \"\$F/est_other_outcome.toml\" --outcome y | grep -q 'Dependent variable: y\$'"
t config_unknown_key 2 'unknown_key\.toml.*bogus_key' "$C --config \"\$F/unknown_key.toml\""
t config_wrong_type 2 'wrong_type\.toml.*max-iterations' "$C --config \"\$F/wrong_type.toml\""
t config_negative_threads 2 'negative\.toml.*threads' "$C --config \"\$F/negative.toml\""
t config_switch_given_number 2 'switch_number\.toml.*quiet' "$C --config \"\$F/switch_number.toml\""
t config_list_for_scalar 2 'list_for_scalar\.toml.*outcome' "$C --config \"\$F/list_for_scalar.toml\""
t config_list_of_numbers 2 "list_of_numbers\.toml|'1'" "$C --outcome y --config \"\$F/list_of_numbers.toml\""
t config_duplicate_key 2 'duplicate_key\.toml.*outcome' "$C --config \"\$F/duplicate_key.toml\""
t config_syntax_unterminated_quote 2 'syntax_quote\.toml' "$C --config \"\$F/syntax_quote.toml\""
t config_syntax_section 2 'syntax_section\.toml' "$C --config \"\$F/syntax_section.toml\""
t config_syntax_no_equals 2 'syntax_noequals\.toml' "$C --outcome y --config \"\$F/syntax_noequals.toml\""
t config_number_overflow 2 'overflow\.toml.*tolerance' "$C --outcome y --config \"\$F/overflow.toml\""
t config_recursive 2 'recursive\.toml.*config' "$C --config \"\$F/recursive.toml\""
t config_nul_byte 2 'nul\.toml' "$C --config \"\$F/nul.toml\""
t config_empty 0 '' "$C \$EA --config \"\$F/empty.toml\""
t config_binary_garbage 2 'garbage\.toml' "$C \$EA --config \"\$F/garbage.toml\""
t config_missing_file 2 'nosuch\.toml' "$C \$EA --config \"\$F/nosuch.toml\""
t config_directory 2 'dir\.toml' "$C \$EA --config \"\$F/dir.toml\""
TO=20
t config_dev_zero 2 '/dev/zero' "$C \$EA --config /dev/zero"
t config_is_the_register 2 'base\.csv' "$C \$EA --config \"\$F/base.csv\""
t config_no_file_name 2 'config' "$C \$EA --config"
t config_study 0 '' '"$CWFX" study --data "$F/reg.h5" --config "$F/study.toml" --out "$O/st"'
t config_replicate 0 '' '"$CWFX" replicate --data "$F/reg.h5" --config "$F/replicate.toml" --no-report --out "$O/d.h5"'
t config_replicate_flag_overrides 0 '' '"$CWFX" replicate --data "$F/reg.h5" --config "$F/replicate_zero.toml" $SA --replications 2 --quiet --no-report --out "$O/d.h5"'
t config_replicate_zero_replications 2 'replications' '"$CWFX" replicate --data "$F/reg.h5" --config "$F/replicate_zero.toml" $SA --quiet --out "$O/d.h5"'
t config_simulate 0 '' '"$CWFX" simulate --config "$F/simulate.toml" --seed 1 --no-report --out "$O/sim.h5"'
t config_simulate_wrong_type 2 'simulate_bad\.toml.*registers' '"$CWFX" simulate --config "$F/simulate_bad.toml" --seed 1 --out "$O/sim.h5"'
t config_generate 0 '' '"$CWFX" generate --config "$F/generate.toml" --out "$O/g.h5"'
t config_merge 0 '' '"$CWFX" merge --config "$F/merge.toml" --out "$O/m.h5" "$F/rep.s0.h5" "$F/rep.s1.h5" "$F/rep.s2.h5"'
t config_for_other_subcommand 2 'replicate\.toml.*(scheme|replications)' "$C \$EA --config \"\$F/replicate.toml\""
# A configuration file named like an output's temporary file or journal is an
# input like any other: it must survive (exit 98 if it did not).
PREP='cp "$F/est.toml" out.h5.tmp'
t config_named_like_output_temp 2 'temporary file' '"$CWFX" estimate --data "$F/base.csv" --config "$O/out.h5.tmp" --out "$O/out.h5"; rc=$?; cmp -s "$O/out.h5.tmp" "$F/est.toml" || exit 98; exit $rc'
PREP='cp "$F/replicate.toml" d.h5.journal'
t config_named_like_journal 2 'journal' '"$CWFX" replicate --data "$F/reg.h5" --config "$O/d.h5.journal" --no-report --out "$O/d.h5"; rc=$?; cmp -s "$O/d.h5.journal" "$F/replicate.toml" || exit 98; exit $rc'

# ------------------------------------------------- paths
PREP='cp "$F/base.csv" in.csv'
t path_out_is_data 2 'in\.csv' '"$CWFX" estimate --data "$O/in.csv" $EA --out "$O/in.csv"'
PREP='cp "$F/reg.h5" reg.h5'
t path_out_is_data_h5 2 'reg\.h5' '"$CWFX" estimate --data "$O/reg.h5" --outcome outcome --absorb caseworker_id --out "$O/reg.h5" --overwrite'
PREP='cp "$F/reg.h5" reg.h5 && ln -s reg.h5 link.h5'
t path_out_is_data_symlink 2 'link\.h5|reg\.h5' '"$CWFX" estimate --data "$O/reg.h5" --outcome outcome --absorb caseworker_id --out "$O/link.h5" --overwrite'
PREP='cp "$F/reg.h5" reg.h5 && ln reg.h5 hard.h5'
t path_out_is_data_hardlink 2 'hard\.h5|reg\.h5' '"$CWFX" estimate --data "$O/reg.h5" --outcome outcome --absorb caseworker_id --out "$O/hard.h5" --overwrite'
PREP='cp "$F/reg.h5" reg.h5 && mkdir sub'
t path_out_is_data_other_spelling 2 'reg\.h5' '"$CWFX" estimate --data "$O/reg.h5" --outcome outcome --absorb caseworker_id --out "$O/sub/../reg.h5" --overwrite'
PREP='cp "$F/est.toml" c.toml'
t path_out_is_config 2 'c\.toml' '"$CWFX" estimate --data "$F/base.csv" --config "$O/c.toml" --out "$O/c.toml" --overwrite'
PREP='cp "$F/reg.h5" reg.h5'
t path_replicate_out_is_data 2 'reg\.h5' '"$CWFX" replicate --data "$O/reg.h5" $SA --replications 3 --quiet --out "$O/reg.h5" --overwrite'
PREP='cp "$F/reg.h5" reg.h5'
t path_report_is_out 2 'd\.h5' '"$CWFX" replicate --data "$F/reg.h5" $SA --replications 3 --quiet --out "$O/d.h5" --report "$O/d.h5"'
PREP='cp "$F/reg.h5" reg.h5'
t path_report_is_data 2 'reg\.h5' '"$CWFX" replicate --data "$O/reg.h5" $SA --replications 3 --quiet --out "$O/d.h5" --report "$O/reg.h5" --overwrite'
t path_report_is_journal 2 'journal' '"$CWFX" replicate --data "$F/reg.h5" $SA --replications 3 --quiet --out "$O/d.h5" --report "$O/d.h5.journal"'
t path_simulate_report_is_out 2 'sim\.h5' '"$CWFX" simulate --registers 2 --seed 1 $SIMA --out "$O/sim.h5" --report "$O/sim.h5"'
PREP='mkdir st && cp "$F/reg.h5" st/results.h5'
t path_study_data_is_its_results 2 'results\.h5' '"$CWFX" study --data "$O/st/results.h5" $SA --no-corrections --quiet --out "$O/st" --overwrite'
PREP='cp "$F/reg.h5" reg.h5'
t path_study_out_is_data_file 2 'reg\.h5' '"$CWFX" study --data "$O/reg.h5" $SA --no-corrections --quiet --out "$O/reg.h5"'
PREP='cp "$F/rep.s0.h5" "$F/rep.s1.h5" "$F/rep.s2.h5" .'
t path_merge_out_is_shard 2 'rep\.s0\.h5' '"$CWFX" merge --out "$O/rep.s0.h5" --overwrite "$O/rep.s0.h5" "$O/rep.s1.h5" "$O/rep.s2.h5"'
t path_generate_out_is_missing_dir 2 'nodir' '"$CWFX" generate --preset large --responses 80 --out "$O/nodir/g.csv"'
t path_out_nonexistent_dir 2 'nodir' '"$CWFX" estimate --data "$F/base.csv" $EA --out "$O/nodir/out.h5"'
t path_study_out_creates_parents 0 '' '"$CWFX" study --data "$F/reg.h5" $SA --no-corrections --quiet --out "$O/nodir/deeper/st"'
PREP='mkdir sub'
t path_out_is_directory 2 'sub' '"$CWFX" estimate --data "$F/base.csv" $EA --out "$O/sub"'
PREP='mkdir sub'
t path_out_is_directory_overwrite 2 'sub' '"$CWFX" estimate --data "$F/base.csv" $EA --out "$O/sub" --overwrite'
t path_out_trailing_slash 2 'out\.h5' '"$CWFX" estimate --data "$F/base.csv" $EA --out "$O/out.h5/"'
t path_out_empty 2 'out' '"$CWFX" estimate --data "$F/base.csv" $EA --out ""'
t study_out_empty 2 '' '"$CWFX" study --data "$F/reg.h5" $SA --no-corrections --quiet --out ""'
t simulate_out_empty 2 '' '"$CWFX" simulate --registers 1 --seed 1 $SIMA --out ""'
t merge_out_empty 2 '' '"$CWFX" merge --quiet --out "" "$F/rep.s0.h5" "$F/rep.s1.h5" "$F/rep.s2.h5"'
# The longest legal file name (255 bytes) is a legal output; 300 bytes is not.
t path_out_name_255_bytes 0 '' '"$CWFX" estimate --data "$F/base.csv" $EA --out "$O/$(printf "a%.0s" $(seq 252)).h5"'
t path_out_name_300_bytes 2 'too long' '"$CWFX" estimate --data "$F/base.csv" $EA --out "$O/$(printf "a%.0s" $(seq 297)).h5"'
PREP='mkfifo out.h5'
t path_out_is_fifo_overwrite 2 'out\.h5' '"$CWFX" estimate --data "$F/base.csv" $EA --out "$O/out.h5" --overwrite'
if mknod "$WORK/probe_dev" c 1 3 2>/dev/null; then
  rm -f "$WORK/probe_dev"
  PREP='mknod null c 1 3'
  t path_out_is_device_overwrite 2 'null' '"$CWFX" estimate --data "$F/base.csv" $EA --out "$O/null" --overwrite'
else
  skip path_out_is_device_overwrite "cannot create a device node here"
fi
PREP='cp "$F/est.h5" out.h5'
t path_existing_out_no_overwrite 2 'out\.h5.*overwrite' '"$CWFX" estimate --data "$F/base.csv" $EA --out "$O/out.h5"'
PREP='cp "$F/est.h5" out.h5 && echo old >out.h5'
t path_existing_out_overwrite 0 '' '"$CWFX" estimate --data "$F/base.csv" $EA --out "$O/out.h5" --overwrite && ! grep -q old "$O/out.h5"'
PREP='mkdir st && echo old >st/results.h5'
t path_study_existing_results 2 'results\.h5' '"$CWFX" study --data "$F/reg.h5" $SA --no-corrections --quiet --out "$O/st"'
PREP='cp "$F/reg.csv" g.csv'
t path_generate_existing_csv 2 'g\.csv' '"$CWFX" generate --preset large --responses 80 --out "$O/g.csv"'
PREP='echo keep >g.truth_citizens.csv'
t path_generate_existing_sidecar 2 'g\.truth_citizens\.csv' '"$CWFX" generate --preset large --responses 80 --out "$O/g.csv"'
PREP='cp "$F/rep_full.h5" d.h5'
t path_replicate_existing_no_resume 2 'd\.h5.*(resume|overwrite)' '"$CWFX" replicate --data "$F/reg.h5" $SA --replications 4 --quiet --out "$O/d.h5"'
PREP='cp "$F/rep_full.h5" d.h5'
t path_replicate_existing_overwrite 0 '' '"$CWFX" replicate --data "$F/reg.h5" $SA --replications 3 --quiet --no-report --out "$O/d.h5" --overwrite'
PREP='cp "$F/rep.s0.h5" m.h5'
t path_merge_existing_out 2 'm\.h5' '"$CWFX" merge --out "$O/m.h5" "$F/rep.s0.h5" "$F/rep.s1.h5" "$F/rep.s2.h5"'
PREP='ln -s "$F/base.csv" out.h5.tmp'
t path_stale_temp_symlink_to_input 2 'temporary file' '"$CWFX" estimate --data "$F/base.csv" $EA --out "$O/out.h5"'
PREP='ln -s "$F/reg.h5" d.h5.journal'
t path_stale_journal_symlink_to_input 2 'journal' '"$CWFX" replicate --data "$F/reg.h5" $SA --replications 3 --quiet --no-report --out "$O/d.h5"'
if [ $CAN_DENY = 1 ]; then
  PREP='mkdir ro && chmod 555 ro'
  t path_out_read_only_dir 2 'ro' '"$CWFX" estimate --data "$F/base.csv" $EA --out "$O/ro/out.h5"'
  PREP='mkdir ro && chmod 555 ro'
  t path_study_out_read_only_dir 2 'ro' '"$CWFX" study --data "$F/reg.h5" $SA --no-corrections --quiet --out "$O/ro/st"'
else
  skip path_out_read_only_dir "running as root: a read-only directory still takes files"
  skip path_study_out_read_only_dir "running as root: a read-only directory still takes files"
fi

# ------------------------------------------------- full disk (RLIMIT_FSIZE; write() gets EFBIG)
FULL='ulimit -f 8; trap "" XFSZ; exec'   # 8 KiB per file
DISK='(no space|space left|too large|full|write)'
t disk_full_estimate 7 "out\.h5.*$DISK|$DISK.*out\.h5" "$FULL \"\$CWFX\" estimate --data \"\$F/reg.h5\" --outcome outcome --covariates age,B1 --absorb caseworker_id --quiet --out \"\$O/out.h5\""
# 16 KiB: the results without residuals (about 14 KB) fit, with them (20 KB) not.
t disk_full_estimate_residuals 7 "out\.h5.*$DISK|$DISK.*out\.h5" "ulimit -f 16; trap '' XFSZ; exec \"\$CWFX\" estimate --data \"\$F/reg.h5\" --outcome outcome --covariates age,B1 --absorb caseworker_id --residuals --quiet --out \"\$O/out.h5\""
PREP='cp "$F/est.h5" out.h5'
t disk_full_estimate_overwrite_keeps_old 7 "$DISK" "$FULL \"\$CWFX\" estimate --data \"\$F/reg.h5\" --outcome outcome --covariates age,B1 --absorb caseworker_id --residuals --quiet --overwrite --out \"\$O/out.h5\""
PREP='mkdir st'
t disk_full_study 7 "$DISK" "$FULL \"\$CWFX\" study --data \"\$F/reg.h5\" \$SA --no-corrections --quiet --out \"\$O/st\""
ALLOW='^\./d\.h5(\.journal)?$'
t disk_full_replicate 7 "d\.h5.*$DISK|$DISK.*d\.h5" "$FULL \"\$CWFX\" replicate --data \"\$F/reg.h5\" \$SA --replications 5 --quiet --no-report --out \"\$O/d.h5\""
# 40 KiB: the draw file (about 14 KB) fits, the report (about 140 KB) does not.
ALLOW='^\./d\.h5(\.journal)?$'
t disk_full_replicate_report 7 "$DISK" "ulimit -f 40; trap '' XFSZ; exec \"\$CWFX\" replicate --data \"\$F/reg.h5\" \$SA --replications 3 --quiet --out \"\$O/d.h5\""
ALLOW='^\./sim\.h5(\.journal)?$'
t disk_full_simulate 7 "$DISK" "ulimit -f 2; trap '' XFSZ; exec \"\$CWFX\" simulate --registers 2 --seed 1 \$SIMA --no-report --out \"\$O/sim.h5\""
t disk_full_generate_h5 7 "$DISK" "$FULL \"\$CWFX\" generate --preset large --responses 400 --out \"\$O/g.h5\""
t disk_full_generate_csv 7 "$DISK" "$FULL \"\$CWFX\" generate --preset large --responses 400 --out \"\$O/g.csv\""
t disk_full_merge 7 "$DISK" "ulimit -f 4; trap '' XFSZ; exec \"\$CWFX\" merge --quiet --out \"\$O/m.h5\" \"\$F/rep.s0.h5\" \"\$F/rep.s1.h5\" \"\$F/rep.s2.h5\""

# ------------------------------------------------- replication runs, resume, merge
PREP='cp "$F/rep_full.h5" d.h5'
t resume_complete_run 0 '' '"$CWFX" replicate --data "$F/reg.h5" $SA --replications 4 --seed 1 --quiet --no-report --resume --out "$O/d.h5"'
PREP='cp "$F/rep_full.h5" d.h5'
t resume_grow_run 0 '' '"$CWFX" replicate --data "$F/reg.h5" $SA --replications 6 --seed 1 --quiet --no-report --resume --out "$O/d.h5"'
t resume_nonexistent_run 2 'd\.h5' '"$CWFX" replicate --data "$F/reg.h5" $SA --replications 4 --quiet --resume --out "$O/d.h5"'
PREP='cp "$F/rep_full.h5" d.h5'
t resume_other_seed 2 'seed' '"$CWFX" replicate --data "$F/reg.h5" $SA --replications 4 --seed 2 --quiet --resume --out "$O/d.h5"'
PREP='cp "$F/rep_full.h5" d.h5'
t resume_other_data 2 'd\.h5|reg8\.h5|data' '"$CWFX" replicate --data "$F/reg8.h5" $SA --replications 4 --seed 1 --quiet --resume --out "$O/d.h5"'
PREP='cp "$F/rep_full.h5" d.h5'
t resume_other_scheme 2 'scheme|d\.h5' '"$CWFX" replicate --data "$F/reg.h5" $SA --replications 4 --seed 1 --scheme bayes --quiet --resume --out "$O/d.h5"'
PREP='cp "$F/rep_full.h5" d.h5'
t resume_fewer_replications 2 'replications' '"$CWFX" replicate --data "$F/reg.h5" $SA --replications 2 --seed 1 --quiet --resume --out "$O/d.h5"'
PREP='cp "$F/est.h5" d.h5'
t resume_foreign_file 2 'd\.h5' '"$CWFX" replicate --data "$F/reg.h5" $SA --replications 4 --quiet --resume --out "$O/d.h5"'
PREP='cp "$F/base.csv" d.h5'
t resume_non_hdf5_file 2 'd\.h5' '"$CWFX" replicate --data "$F/reg.h5" $SA --replications 4 --quiet --resume --out "$O/d.h5"'
PREP='cp "$F/garbage.bin" d.h5.journal'
t resume_garbage_journal 2 'journal' '"$CWFX" replicate --data "$F/reg.h5" $SA --replications 4 --quiet --resume --out "$O/d.h5"'
t simulate_resume_nonexistent 2 'sim\.h5' '"$CWFX" simulate --registers 2 --seed 1 $SIMA --resume --out "$O/sim.h5"'
ALLOW='^\./d\.h5(\.journal)?$'
t replicate_interrupted_sigint 5 '' 'set -m; "$CWFX" replicate --data "$F/reg.h5" $SA --replications 200000 --threads 1 --quiet --no-report --out "$O/d.h5" & pid=$!; for i in $(seq 300); do [ -e "$O/d.h5.journal" ] && break; sleep 0.05; done; sleep 0.2; kill -INT $pid; wait $pid'
ALLOW='^\./d\.h5(\.journal)?$'
t replicate_interrupted_sigterm 5 '' '"$CWFX" replicate --data "$F/reg.h5" $SA --replications 200000 --threads 1 --quiet --no-report --out "$O/d.h5" & pid=$!; for i in $(seq 300); do [ -e "$O/d.h5.journal" ] && break; sleep 0.05; done; sleep 0.2; kill -TERM $pid; wait $pid'
PREP='"$CWFX" replicate --data "$F/reg.h5" $SA --replications 3000 --threads 1 --quiet --no-report --out d.h5 & pid=$!; for i in $(seq 300); do [ -e d.h5.journal ] && break; sleep 0.02; done; kill -KILL $pid; wait $pid; test -e d.h5.journal'
t replicate_resume_after_kill_9 0 '' '"$CWFX" replicate --data "$F/reg.h5" $SA --replications 3000 --threads 1 --quiet --no-report --resume --out "$O/d.h5" && test ! -e "$O/d.h5.journal"'
t merge_replicate_shards 0 '' '"$CWFX" merge --quiet --out "$O/m.h5" "$F/rep.s2.h5" "$F/rep.s0.h5" "$F/rep.s1.h5" && test -s "$O/m.h5"'
t merge_simulate_shards 0 '' '"$CWFX" merge --quiet --out "$O/m.h5" "$F/sim.s0.h5" "$F/sim.s1.h5"'
t merge_missing_shard 2 'shard|rep\.s2' '"$CWFX" merge --quiet --out "$O/m.h5" "$F/rep.s0.h5" "$F/rep.s1.h5"'
t merge_nonexistent_shard 2 'rep\.s9\.h5' '"$CWFX" merge --quiet --out "$O/m.h5" "$F/rep.s0.h5" "$F/rep.s1.h5" "$F/rep.s9.h5"'
t merge_shard_twice 2 'rep\.s1\.h5' '"$CWFX" merge --quiet --out "$O/m.h5" "$F/rep.s0.h5" "$F/rep.s1.h5" "$F/rep.s1.h5" "$F/rep.s2.h5"'
t merge_shard_other_seed 2 'rep_seed2\.s2\.h5' '"$CWFX" merge --quiet --out "$O/m.h5" "$F/rep.s0.h5" "$F/rep.s1.h5" "$F/rep_seed2.s2.h5"'
t merge_shard_other_config 2 'sim_other\.s1\.h5' '"$CWFX" merge --quiet --out "$O/m.h5" "$F/sim.s0.h5" "$F/sim_other.s1.h5"'
t merge_replicate_with_simulate 2 'sim\.s1\.h5|rep\.s1\.h5' '"$CWFX" merge --quiet --out "$O/m.h5" "$F/rep.s0.h5" "$F/sim.s1.h5"'
t merge_foreign_hdf5 2 'est\.h5' '"$CWFX" merge --quiet --out "$O/m.h5" "$F/rep.s0.h5" "$F/est.h5"'
t merge_register_as_shard 2 'reg\.h5' '"$CWFX" merge --quiet --out "$O/m.h5" "$F/reg.h5"'
t merge_non_hdf5 2 'base\.csv' '"$CWFX" merge --quiet --out "$O/m.h5" "$F/rep.s0.h5" "$F/base.csv"'
t merge_truncated_shard 2 'rep_trunc\.s1\.h5' '"$CWFX" merge --quiet --out "$O/m.h5" "$F/rep.s0.h5" "$F/rep_trunc.s1.h5" "$F/rep.s2.h5"'
t merge_directory 2 'dir\.h5' '"$CWFX" merge --quiet --out "$O/m.h5" "$F/rep.s0.h5" "$F/dir.h5"'
TO=20
t merge_dev_zero 2 '/dev/zero' '"$CWFX" merge --quiet --out "$O/m.h5" "$F/rep.s0.h5" /dev/zero'
PREP='ln -s "$F/rep.s1.h5" again.h5'
t merge_shard_twice_via_symlink 2 'rep\.s1\.h5|again\.h5' '"$CWFX" merge --quiet --out "$O/m.h5" "$F/rep.s0.h5" "$F/rep.s1.h5" "$O/again.h5" "$F/rep.s2.h5"'
PREP='ln -s "$F/rep.s0.h5" link.h5'
t merge_out_is_shard_via_symlink 2 'link\.h5|rep\.s0\.h5' '"$CWFX" merge --quiet --overwrite --out "$O/link.h5" "$F/rep.s0.h5" "$F/rep.s1.h5" "$F/rep.s2.h5"'
PREP='"$CWFX" replicate --data "$F/reg.h5" $SA --replications 300000 --seed 1 --shard 2/3 --threads 1 --quiet --out s2.h5 & pid=$!; for i in $(seq 300); do [ -e s2.h5.journal ] && break; sleep 0.02; done; kill -KILL $pid; wait $pid; test -e s2.h5.journal'
t merge_incomplete_shard 2 's2\.h5' '"$CWFX" merge --quiet --out "$O/m.h5" "$F/rep.s0.h5" "$F/rep.s1.h5" "$O/s2.h5"'
PREP='cp "$F/rep.s0.h5" s0.h5'
t resume_shard_with_other_shard 2 'shard' '"$CWFX" replicate --data "$F/reg.h5" $SA --replications 6 --seed 1 --shard 1/3 --quiet --resume --out "$O/s0.h5"'
t merge_unsharded_file 2 'rep_full\.h5' '"$CWFX" merge --quiet --out "$O/m.h5" "$F/rep_full.h5" "$F/rep.s1.h5"'

# ======================================================================
elapsed=$((SECONDS - start_time))
total=$((n_pass + n_fail))
echo
echo "hostile corpus: $total cases, $n_pass passed, $n_fail failed, $n_skip skipped (${elapsed} s)"
if [ $n_fail -gt 0 ]; then
  echo "failed: ${failed[*]}"
  if [ ${#pending[@]} -gt 0 ]; then echo "of which expecting exit code 6 or 7: ${pending[*]}"; fi
  echo "logs: $LOGS"
  exit 1
fi
exit 0

#!/usr/bin/env bash
# Bounded fuzzing: builds the libFuzzer targets (fuzz/, clang with ASan and
# UBSan) and runs each for SECONDS (default 30) from the seed corpus in
# fuzz/corpus/. New inputs go to build/fuzz/corpus/, never into the repository.
# A finding stops the run with libFuzzer's report and the crashing input
# (build/fuzz/findings/); exit 1.
#   tools/fuzz.sh [SECONDS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
seconds="${1:-30}"

[ -f build/fuzz/CMakeCache.txt ] || cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"

mkdir -p build/fuzz/findings
status=0
for target in csv:csv_reader_fuzzer config:config_file_fuzzer; do
  corpus="${target%%:*}"
  binary="build/fuzz/fuzz/${target##*:}"
  work="build/fuzz/corpus/$corpus"
  mkdir -p "$work"
  echo "fuzz: ${target##*:} for ${seconds} s"
  if ! ASAN_OPTIONS=detect_leaks=1 "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix=build/fuzz/findings/ -print_final_stats=1 "$work" "fuzz/corpus/$corpus" \
      >"build/fuzz/${target##*:}.log" 2>&1; then
    echo "fuzz: ${target##*:} found a problem:" >&2
    tail -40 "build/fuzz/${target##*:}.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::new_units_added" "build/fuzz/${target##*:}.log" | sed 's/^/fuzz:   /'
  fi
done
exit $status

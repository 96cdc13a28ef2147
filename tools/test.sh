#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds the release preset and
# runs every test, then the same suite under AddressSanitizer+UBSan, then a
# bounded libFuzzer run of the CSV reader and the config-file parser.
# The release tree is configured with -DCWFX_WITH_MPI=ON here, so that it also
# builds cwfx-mpi (the same program with Open MPI; cwfx itself stays without)
# and its tests: mpirun with 1, 2 and 3 ranks against one process.
#   tools/test.sh            release (with the MPI tests) + asan + 30 s per fuzz target
#   tools/test.sh --quick    release only
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
jobs="$(nproc)"

bash tools/setup.sh
cmake -S . -B build/release -DCWFX_WITH_MPI=ON >/dev/null
cmake --build --preset release -j "$jobs"
ctest --preset release

if [ "${1:-}" != "--quick" ]; then
  [ -f build/asan/CMakeCache.txt ] || cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$jobs"
  ctest --preset asan
  bash tools/fuzz.sh "${CWFX_FUZZ_SECONDS:-30}"
fi

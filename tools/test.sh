#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds the release preset and
# runs every test, then the same suite under AddressSanitizer+UBSan.
# Then the MPI build (cwfx with Open MPI) and its tests: mpirun with 1, 2 and
# 3 ranks against one process.
#   tools/test.sh            release + asan + mpi
#   tools/test.sh --quick    release only
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
jobs="$(nproc)"

bash tools/setup.sh
ctest --preset release

if [ "${1:-}" != "--quick" ]; then
  [ -f build/asan/CMakeCache.txt ] || cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$jobs"
  ctest --preset asan
  [ -f build/mpi/CMakeCache.txt ] || cmake --preset mpi >/dev/null
  cmake --build --preset mpi --target cwfx mpi_test -j "$jobs"
  ctest --preset mpi
fi

#!/usr/bin/env bash
# Installs the Debian packages cwfx needs (idempotent), then configures and
# builds the release preset. Fast and quiet when everything is already there.
#   tools/setup.sh            install + configure + build (release)
#   tools/setup.sh --deps     install only
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

packages=(
  build-essential cmake ninja-build pkg-config
  libtbb-dev libeigen3-dev libsuitesparse-dev libhdf5-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev librandom123-dev libreadstat-dev nlohmann-json3-dev hdf5-tools
  libopenmpi-dev openmpi-bin libopenblas-dev libopenblas0-pthread
  libxxhash-dev libfast-float-dev
  clang libclang-rt-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "${1:-}" = "--deps" ]; then exit 0; fi

preset="${CWFX_PRESET:-release}"
cd "$here"
if [ ! -f "build/$preset/CMakeCache.txt" ]; then
  cmake --preset "$preset" >/dev/null
fi
cmake --build --preset "$preset" -j "$(nproc)"

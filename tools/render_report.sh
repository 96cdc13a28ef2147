#!/usr/bin/env bash
# Renders an HTML report to PNG in headless Chromium, so the report's look can
# be checked (by eye or by a reviewer) on every change that touches it.
#
#   tools/render_report.sh REPORT.html OUT.png [WIDTHxHEIGHT]
#
# Installs Debian's chromium if it is missing (apt-get install -y chromium;
# apt-get update only if that fails). The page is loaded from file:// with
# networking features off; the report needs no network.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 REPORT.html OUT.png [WIDTHxHEIGHT]" >&2
  exit 2
fi
report="$1"
out="$2"
size="${3:-1400x5000}"
width="${size%x*}"
height="${size#*x}"

if [[ ! -f "$report" ]]; then
  echo "$0: no such report: $report" >&2
  exit 2
fi

find_chromium() {
  for c in chromium chromium-browser; do
    if command -v "$c" >/dev/null 2>&1; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

if ! browser="$(find_chromium)"; then
  sudo_cmd=""
  if [[ "$(id -u)" -ne 0 ]]; then sudo_cmd="sudo"; fi
  echo "$0: installing chromium (Debian package)..." >&2
  if ! DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y chromium >&2; then
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get update >&2
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y chromium >&2
  fi
  browser="$(find_chromium)"
fi

abs_report="$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
mkdir -p "$(dirname "$out")"
abs_out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT

"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars \
  --screenshot="$abs_out" --window-size="${width},${height}" "file://${abs_report}" >&2 2>/dev/null || true

if [[ ! -s "$abs_out" ]]; then
  echo "$0: chromium produced no screenshot" >&2
  exit 1
fi
echo "$abs_out"

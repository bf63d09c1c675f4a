#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (test/browser) when it is missing: `npm run setup:browser`,
# which .ci/run calls before `npm test`. The tests never install anything; without Chromium they are skipped
# (and fail under CI). Idempotent: does nothing when /usr/bin/chromium (or $CHROMIUM_PATH) already exists.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo -n"
else
  echo "ensure-chromium: $CHROMIUM is missing and neither root nor sudo is available" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium
if [ ! -x "$CHROMIUM" ]; then
  echo "ensure-chromium: installed chromium but $CHROMIUM is still missing" >&2
  exit 1
fi
"$CHROMIUM" --version || true

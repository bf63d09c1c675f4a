#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (test/browser) when it is missing: `npm run setup:browser`,
# which .ci/run calls before `npm test`. The tests never install anything; without Chromium they are skipped
# (and fail under CI). Idempotent: does nothing when /usr/bin/chromium (or $CHROMIUM_PATH) already exists.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
apt_install ensure-chromium chromium
if [ ! -x "$CHROMIUM" ]; then
  echo "ensure-chromium: installed chromium but $CHROMIUM is still missing" >&2
  exit 1
fi
"$CHROMIUM" --version || true

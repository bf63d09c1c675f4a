#!/usr/bin/env bash
# Installs Debian's curl and jq when missing: the README's walkthrough uses them, and
# test/e2e/walkthrough.test.ts runs it as written. .ci/run calls this before `npm test`. Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"
missing=()
for tool in curl jq; do
  [ -x "/usr/bin/$tool" ] || missing+=("$tool")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
apt_install ensure-walkthrough-tools "${missing[@]}"
for tool in "${missing[@]}"; do
  if [ ! -x "/usr/bin/$tool" ]; then
    echo "ensure-walkthrough-tools: installed $tool but /usr/bin/$tool is still missing" >&2
    exit 1
  fi
done

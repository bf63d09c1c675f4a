#!/usr/bin/env bash
# Installs Debian's curl and jq when missing: the README's walkthrough uses them, and
# test/e2e/walkthrough.test.ts runs it as written. .ci/run calls this before `npm test`. Idempotent.
set -euo pipefail
missing=()
for tool in curl jq; do
  [ -x "/usr/bin/$tool" ] || missing+=("$tool")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo -n"
else
  echo "ensure-walkthrough-tools: ${missing[*]} missing and neither root nor sudo is available" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
for tool in "${missing[@]}"; do
  if [ ! -x "/usr/bin/$tool" ]; then
    echo "ensure-walkthrough-tools: installed $tool but /usr/bin/$tool is still missing" >&2
    exit 1
  fi
done

#!/usr/bin/env bash
# Installs Debian's nginx when missing (its build includes ngx_http_auth_request_module):
# test/e2e/nginx-auth-request.test.ts runs docs/examples/nginx/tokenladder-auth.conf in front of a real
# `tokenladder serve`, as the current user in a directory of its own (no root, no system service).
# .ci/run calls this before `npm test`. Idempotent; never starts the system's nginx service.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"
has_auth_request() {
  [ -x /usr/sbin/nginx ] && /usr/sbin/nginx -V 2>&1 | grep -q -- '--with-http_auth_request_module'
}
if has_auth_request; then
  exit 0
fi
apt_install ensure-nginx nginx
if ! has_auth_request; then
  echo "ensure-nginx: installed nginx but /usr/sbin/nginx is missing or lacks the auth_request module" >&2
  exit 1
fi

#!/usr/bin/env bash
# Installs, from Debian, what the verification snippets in docs/examples/verify/ need when missing:
# Python's PyJWT (python3-jwt, python3-cryptography) and jwcrypto (python3-jwcrypto) for
# /usr/bin/python3, Go with go-jose v2, and a JDK 17. test/e2e/verify-other-languages.test.ts runs the snippets as written. .ci/run calls this
# before `npm test`. Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"
missing=()
/usr/bin/python3 -c 'import jwt, cryptography; jwt.PyJWKClient' >/dev/null 2>&1 ||
  missing+=(python3 python3-jwt python3-cryptography)
/usr/bin/python3 -c 'import jwcrypto.jwt' >/dev/null 2>&1 || missing+=(python3-jwcrypto)
[ -x /usr/bin/go ] || missing+=(golang-go)
[ -d /usr/share/gocode/src/gopkg.in/square/go-jose.v2/jwt ] ||
  missing+=(golang-gopkg-square-go-jose.v2-dev)
{ [ -x /usr/bin/java ] && [ -x /usr/bin/javac ]; } || missing+=(openjdk-17-jdk-headless)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
apt_install ensure-verifier-toolchains "${missing[@]}"
fail() {
  echo "ensure-verifier-toolchains: installed ${missing[*]} but $1" >&2
  exit 1
}
/usr/bin/python3 -c 'import jwt, cryptography; jwt.PyJWKClient' >/dev/null 2>&1 ||
  fail "/usr/bin/python3 still cannot import jwt (PyJWT) with cryptography"
/usr/bin/python3 -c 'import jwcrypto.jwt' >/dev/null 2>&1 || fail "/usr/bin/python3 still cannot import jwcrypto"
[ -x /usr/bin/go ] || fail "/usr/bin/go is still missing"
[ -d /usr/share/gocode/src/gopkg.in/square/go-jose.v2/jwt ] || fail "go-jose v2 is still missing"
[ -x /usr/bin/java ] && [ -x /usr/bin/javac ] || fail "java or javac is still missing"

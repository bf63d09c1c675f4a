#!/usr/bin/python3
"""Verifies a tokenladder Base-Token with PyJWT (Debian: python3-jwt, python3-cryptography).

Usage: python3 verify.py <issuer> <base_uuid> <token>
Prints the token's sub and exits 0 when it is valid; prints one line saying why and exits 1 when not.
Revocation is not checked here: see docs/revocation.md for the feed a verifier must also follow.
"""
import json
import sys
import urllib.request

import jwt

ACCEPTED = ("EdDSA", "ES256")  # what this program verifies; each key in the JWKS names its own


def signing_key(issuer: str, kid: str) -> dict:
    """The JWK named kid in the issuer's JWKS."""
    url = issuer.rstrip("/") + "/.well-known/jwks.json"
    with urllib.request.urlopen(url, timeout=10) as response:
        keys = [key for key in json.load(response)["keys"] if key.get("kid") == kid]
    if len(keys) != 1:
        raise jwt.InvalidTokenError(f"no key {kid!r} in the JWKS")
    return keys[0]


def verify(issuer: str, base_uuid: str, token: str) -> str:
    # PyJWT does not check typ: do it first, before anything else about the token is trusted.
    header = jwt.get_unverified_header(token)
    if header.get("typ") != "at+jwt":
        raise jwt.InvalidTokenError(f"typ is {header.get('typ')!r}, not 'at+jwt'")
    key = signing_key(issuer, header.get("kid"))
    # The algorithm is the key's own (its JWK alg), never taken from the token: the header must agree.
    alg = key.get("alg")
    if alg not in ACCEPTED:
        raise jwt.InvalidTokenError(f"key alg is {alg!r}, not one of {ACCEPTED}")
    if header.get("alg") != alg:
        raise jwt.InvalidTokenError(f"alg is {header.get('alg')!r}, but the key is for {alg!r}")
    claims = jwt.decode(
        token,
        jwt.PyJWK(key, alg).key,
        algorithms=[alg],
        audience="urn:tokenladder:base:" + base_uuid,  # aud names the one base the token is for
        issuer=issuer,
        options={"require": ["exp", "iat", "iss", "aud", "sub"]},  # exp is checked, with no leeway
    )
    return claims["sub"]


def main() -> int:
    if len(sys.argv) != 4:
        print("usage: verify.py <issuer> <base_uuid> <token>", file=sys.stderr)
        return 2
    try:
        print(verify(*sys.argv[1:]))
        return 0
    except Exception as error:  # one line, whatever went wrong (bad token, unreachable JWKS)
        print(f"rejected: {type(error).__name__}: {error}".replace("\n", " "))
        return 1


if __name__ == "__main__":
    sys.exit(main())

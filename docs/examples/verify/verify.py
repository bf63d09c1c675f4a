#!/usr/bin/python3
"""Verifies a tokenladder Base-Token with PyJWT (Debian: python3-jwt, python3-cryptography).

Usage: python3 verify.py <issuer> <base_uuid> <token>
Prints the token's sub and exits 0 when it is valid; prints one line saying why and exits 1 when not.
Revocation is not checked here: see docs/revocation.md for the feed a verifier must also follow.
"""
import sys

import jwt


def verify(issuer: str, base_uuid: str, token: str) -> str:
    # PyJWT does not check typ: do it first, before anything else about the token is trusted.
    header = jwt.get_unverified_header(token)
    if header.get("typ") != "at+jwt":
        raise jwt.InvalidTokenError(f"typ is {header.get('typ')!r}, not 'at+jwt'")
    if header.get("alg") != "EdDSA":
        raise jwt.InvalidTokenError(f"alg is {header.get('alg')!r}, not 'EdDSA'")
    # The key named by kid, from the issuer's JWKS (PyJWKClient caches the set).
    key = jwt.PyJWKClient(issuer.rstrip("/") + "/.well-known/jwks.json").get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        key.key,
        algorithms=["EdDSA"],  # pinned: never taken from the token
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

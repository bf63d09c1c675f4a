#!/usr/bin/python3
"""Verifies a tokenladder Base-Token with jwcrypto (Debian: python3-jwcrypto).

Usage: python3 verify_jwcrypto.py <issuer> <base_uuid> <token>
Prints the token's sub and exits 0 when it is valid; prints one line saying why and exits 1 when not.
Revocation is not checked here: see docs/revocation.md for the feed a verifier must also follow.
"""
import json
import sys
import urllib.request

from jwcrypto import jwk, jws, jwt

ACCEPTED = ("EdDSA", "ES256")  # what this program verifies; each key in the JWKS names its own


def signing_key(issuer: str, kid: str) -> dict:
    """The JWK named kid in the issuer's JWKS."""
    url = issuer.rstrip("/") + "/.well-known/jwks.json"
    with urllib.request.urlopen(url, timeout=10) as response:
        keys = [key for key in json.load(response)["keys"] if key.get("kid") == kid]
    if len(keys) != 1:
        raise ValueError(f"no key {kid!r} in the JWKS")
    return keys[0]


def verify(issuer: str, base_uuid: str, token: str) -> str:
    # Read the header (nothing verified yet) and check typ first, before anything else is trusted.
    unverified = jws.JWS()
    unverified.deserialize(token)
    header = unverified.jose_header
    if header.get("typ") != "at+jwt":
        raise ValueError(f"typ is {header.get('typ')!r}, not 'at+jwt'")
    key = signing_key(issuer, header.get("kid"))
    # The algorithm is the key's own (its JWK alg), never taken from the token: the header must agree.
    alg = key.get("alg")
    if alg not in ACCEPTED:
        raise ValueError(f"key alg is {alg!r}, not one of {ACCEPTED}")
    if header.get("alg") != alg:
        raise ValueError(f"alg is {header.get('alg')!r}, but the key is for {alg!r}")
    verified = jwt.JWT(
        algs=[alg],
        check_claims={
            "iss": issuer,
            "aud": "urn:tokenladder:base:" + base_uuid,  # the one base the token is for
            "exp": None,  # required, and checked
            "sub": None,
        },
    )
    verified.leeway = 0  # jwcrypto allows a minute past exp by default
    verified.deserialize(token, jwk.JWK(**key))
    return json.loads(verified.claims)["sub"]


def main() -> int:
    if len(sys.argv) != 4:
        print("usage: verify_jwcrypto.py <issuer> <base_uuid> <token>", file=sys.stderr)
        return 2
    try:
        print(verify(*sys.argv[1:]))
        return 0
    except Exception as error:  # one line, whatever went wrong (bad token, unreachable JWKS)
        print(f"rejected: {type(error).__name__}: {error}".replace("\n", " "))
        return 1


if __name__ == "__main__":
    sys.exit(main())

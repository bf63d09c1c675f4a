// Verifies a tokenladder Base-Token with go-jose v2 (Debian: golang-gopkg-square-go-jose.v2-dev).
//
// Usage: go run verify.go <issuer> <base_uuid> <token>
// Prints the token's sub and exits 0 when it is valid; prints one line saying why and exits 1 when
// not. Revocation is not checked here: see docs/revocation.md for the feed a verifier must also follow.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"gopkg.in/square/go-jose.v2"
	"gopkg.in/square/go-jose.v2/jwt"
)

// What this program verifies; each key in the JWKS names its own.
var accepted = map[string]bool{"EdDSA": true, "ES256": true}

func verify(issuer, baseUUID, token string) (string, error) {
	parsed, err := jwt.ParseSigned(token)
	if err != nil {
		return "", fmt.Errorf("not a signed JWT: %v", err)
	}
	if len(parsed.Headers) != 1 {
		return "", fmt.Errorf("expected one signature, got %d", len(parsed.Headers))
	}
	header := parsed.Headers[0]
	// go-jose does not check typ: do it first, before anything else about the token is trusted.
	if typ := header.ExtraHeaders[jose.HeaderType]; typ != "at+jwt" {
		return "", fmt.Errorf("typ is %v, not at+jwt", typ)
	}
	key, err := signingKey(issuer, header.KeyID)
	if err != nil {
		return "", err
	}
	// The algorithm is the key's own (its JWK alg), never taken from the token: the header must agree.
	if !accepted[key.Algorithm] {
		return "", fmt.Errorf("key alg is %q, not EdDSA or ES256", key.Algorithm)
	}
	if header.Algorithm != key.Algorithm {
		return "", fmt.Errorf("alg is %q, but the key is for %q", header.Algorithm, key.Algorithm)
	}
	var claims jwt.Claims
	if err := parsed.Claims(key.Key, &claims); err != nil {
		return "", fmt.Errorf("signature: %v", err)
	}
	// Issuer, audience (the one base the token is for) and exp, with no leeway (Validate allows a
	// minute).
	audience := jwt.Audience{"urn:tokenladder:base:" + baseUUID}
	expected := jwt.Expected{Issuer: issuer, Audience: audience, Time: time.Now()}
	if err := claims.ValidateWithLeeway(expected, 0); err != nil {
		return "", err
	}
	if claims.Expiry == nil {
		return "", fmt.Errorf("no exp claim")
	}
	if claims.Subject == "" {
		return "", fmt.Errorf("no sub claim")
	}
	return claims.Subject, nil
}

// signingKey fetches the issuer's JWKS and returns the key named kid.
func signingKey(issuer, kid string) (*jose.JSONWebKey, error) {
	client := http.Client{Timeout: 10 * time.Second}
	response, err := client.Get(strings.TrimRight(issuer, "/") + "/.well-known/jwks.json")
	if err != nil {
		return nil, fmt.Errorf("JWKS: %v", err)
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("JWKS: HTTP %d", response.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(response.Body).Decode(&set); err != nil {
		return nil, fmt.Errorf("JWKS: %v", err)
	}
	keys := set.Key(kid)
	if len(keys) != 1 || !keys[0].IsPublic() {
		return nil, fmt.Errorf("no public key %q in the JWKS", kid)
	}
	return &keys[0], nil
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: verify <issuer> <base_uuid> <token>")
		os.Exit(2)
	}
	sub, err := verify(os.Args[1], os.Args[2], os.Args[3])
	if err != nil {
		fmt.Println("rejected: " + strings.ReplaceAll(err.Error(), "\n", " "))
		os.Exit(1)
	}
	fmt.Println(sub)
}

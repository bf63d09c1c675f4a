// Verifies a tokenladder Base-Token with the JDK alone (17 or later: its built-in Ed25519 and ECDSA), no jar.
//
// Usage: java Verify.java <issuer> <base_uuid> <token>
// Prints the token's sub and exits 0 when it is valid; prints one line saying why and exits 1 when
// not. Revocation is not checked here: see docs/revocation.md for the feed a verifier must also follow.
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public class Verify {
  static final class Rejected extends Exception {
    Rejected(String reason) {
      super(reason);
    }
  }

  /** A public key from the JWKS and the one algorithm it is for (its JWK alg). */
  record Key(String alg, PublicKey key) {}

  /** What this program verifies, each with the JDK's name for it (ES256: r || s, as JWS encodes it). */
  static final Map<String, String> SIGNATURES = Map.of("EdDSA", "Ed25519", "ES256", "SHA256withECDSAinP1363Format");

  static String verify(String issuer, String baseUuid, String token) throws Exception {
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3) throw new Rejected("not a JWS compact token (expected 3 parts)");
    Map<String, Object> header = object(Json.parse(base64url(parts[0], "header")), "header");
    // Check typ first, before anything else about the token is trusted.
    if (!"at+jwt".equals(header.get("typ"))) throw new Rejected("typ is " + header.get("typ") + ", not at+jwt");
    if (!(header.get("kid") instanceof String kid)) throw new Rejected("no kid in the header");
    Key key = signingKey(issuer, kid);
    // The algorithm is the key's own (its JWK alg), never taken from the token: the header must agree.
    if (!key.alg().equals(header.get("alg")))
      throw new Rejected("alg is " + header.get("alg") + ", but the key is for " + key.alg());

    Signature verifier = Signature.getInstance(SIGNATURES.get(key.alg()));
    verifier.initVerify(key.key());
    verifier.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
    if (!verifier.verify(base64url(parts[2], "signature"))) throw new Rejected("signature does not verify");

    Map<String, Object> claims = object(Json.parse(base64url(parts[1], "payload")), "payload");
    if (!issuer.equals(claims.get("iss"))) throw new Rejected("iss is " + claims.get("iss") + ", not " + issuer);
    String audience = "urn:tokenladder:base:" + baseUuid; // the one base the token is for
    Object aud = claims.get("aud");
    boolean audOk = audience.equals(aud) || (aud instanceof List<?> list && list.contains(audience));
    if (!audOk) throw new Rejected("aud is " + aud + ", not " + audience);
    if (!(claims.get("exp") instanceof Double exp)) throw new Rejected("no numeric exp claim");
    double now = System.currentTimeMillis() / 1000.0;
    if (now >= exp) throw new Rejected("token expired (exp " + exp.longValue() + ")");
    if (!(claims.get("sub") instanceof String sub) || sub.isEmpty()) throw new Rejected("no sub claim");
    return sub;
  }

  /** The key named kid in the issuer's JWKS: Ed25519 (alg EdDSA) or P-256 (alg ES256). */
  static Key signingKey(String issuer, String kid) throws Exception {
    String url = issuer.replaceAll("/+$", "") + "/.well-known/jwks.json";
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build();
    HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) throw new Rejected("JWKS: HTTP " + response.statusCode());
    Object keys = object(Json.parse(response.body()), "JWKS").get("keys");
    if (!(keys instanceof List<?> list)) throw new Rejected("JWKS: no keys array");
    for (Object entry : list) {
      if (!(entry instanceof Map<?, ?> jwk) || !kid.equals(jwk.get("kid"))) continue;
      Object alg = jwk.get("alg");
      if ("EdDSA".equals(alg) && "OKP".equals(jwk.get("kty")) && "Ed25519".equals(jwk.get("crv")))
        return new Key("EdDSA", ed25519(coordinate(jwk, "x", kid)));
      if ("ES256".equals(alg) && "EC".equals(jwk.get("kty")) && "P-256".equals(jwk.get("crv")))
        return new Key("ES256", p256(coordinate(jwk, "x", kid), coordinate(jwk, "y", kid)));
      throw new Rejected("key " + kid + " is not an EdDSA (Ed25519) or ES256 (P-256) key");
    }
    throw new Rejected("no key " + kid + " in the JWKS");
  }

  /** A 32-byte public key member (Ed25519's x; P-256's x and y). */
  static byte[] coordinate(Map<?, ?> jwk, String name, String kid) throws Rejected {
    if (!(jwk.get(name) instanceof String text)) throw new Rejected("key " + kid + " has no " + name);
    byte[] raw = base64url(text, "JWKS key");
    if (raw.length != 32) throw new Rejected("key " + kid + ": " + name + " is not 32 bytes");
    return raw;
  }

  static PublicKey ed25519(byte[] x) throws Exception {
    // SubjectPublicKeyInfo for Ed25519 (RFC 8410): a fixed 12-byte prefix, then the raw key.
    byte[] der = new byte[44];
    byte[] prefix = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
    System.arraycopy(prefix, 0, der, 0, 12);
    System.arraycopy(x, 0, der, 12, 32);
    return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
  }

  static PublicKey p256(byte[] x, byte[] y) throws Exception {
    AlgorithmParameters curve = AlgorithmParameters.getInstance("EC");
    curve.init(new ECGenParameterSpec("secp256r1"));
    ECPoint point = new ECPoint(new BigInteger(1, x), new BigInteger(1, y));
    ECPublicKeySpec spec = new ECPublicKeySpec(point, curve.getParameterSpec(ECParameterSpec.class));
    return KeyFactory.getInstance("EC").generatePublic(spec);
  }

  static byte[] base64url(String text, String what) throws Rejected {
    if (!text.matches("[A-Za-z0-9_-]*")) throw new Rejected(what + " is not base64url");
    try {
      return Base64.getUrlDecoder().decode(text);
    } catch (IllegalArgumentException error) {
      throw new Rejected(what + " is not base64url");
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> object(Object value, String what) throws Rejected {
    if (!(value instanceof Map)) throw new Rejected(what + " is not a JSON object");
    return (Map<String, Object>) value;
  }

  /** A strict JSON reader: objects (duplicate names refused), arrays, strings, numbers (as Double), literals. */
  static final class Json {
    private final String text;
    private int at;
    private int depth;

    private Json(String text) {
      this.text = text;
    }

    static Object parse(byte[] utf8) throws Rejected {
      return parse(new String(utf8, StandardCharsets.UTF_8));
    }

    static Object parse(String text) throws Rejected {
      Json json = new Json(text);
      Object value = json.value();
      json.space();
      if (json.at != text.length()) throw new Rejected("JSON: trailing characters");
      return value;
    }

    private Object value() throws Rejected {
      space();
      if (at >= text.length()) throw new Rejected("JSON: unexpected end");
      char c = text.charAt(at);
      if (c == '{' || c == '[') {
        if (++depth > 32) throw new Rejected("JSON: nested too deeply");
        Object result = c == '{' ? object() : array();
        depth--;
        return result;
      }
      if (c == '"') return string();
      if (text.startsWith("true", at)) return literal("true", Boolean.TRUE);
      if (text.startsWith("false", at)) return literal("false", Boolean.FALSE);
      if (text.startsWith("null", at)) return literal("null", null);
      return number();
    }

    private Object literal(String word, Object value) {
      at += word.length();
      return value;
    }

    private Map<String, Object> object() throws Rejected {
      Map<String, Object> result = new LinkedHashMap<>();
      at++;
      space();
      if (peek('}')) return result;
      do {
        space();
        if (at >= text.length() || text.charAt(at) != '"') throw new Rejected("JSON: expected a name");
        String name = string();
        space();
        expect(':');
        if (result.containsKey(name)) throw new Rejected("JSON: duplicate name " + name);
        result.put(name, value());
        space();
      } while (peek(','));
      expect('}');
      return result;
    }

    private List<Object> array() throws Rejected {
      List<Object> result = new ArrayList<>();
      at++;
      space();
      if (peek(']')) return result;
      do result.add(value());
      while (peekAfterSpace(','));
      space();
      expect(']');
      return result;
    }

    private String string() throws Rejected {
      StringBuilder out = new StringBuilder();
      at++;
      while (true) {
        if (at >= text.length()) throw new Rejected("JSON: unterminated string");
        char c = text.charAt(at++);
        if (c == '"') return out.toString();
        if (c < 0x20) throw new Rejected("JSON: control character in a string");
        if (c != '\\') {
          out.append(c);
          continue;
        }
        if (at >= text.length()) throw new Rejected("JSON: unterminated string");
        char e = text.charAt(at++);
        switch (e) {
          case '"', '\\', '/' -> out.append(e);
          case 'b' -> out.append('\b');
          case 'f' -> out.append('\f');
          case 'n' -> out.append('\n');
          case 'r' -> out.append('\r');
          case 't' -> out.append('\t');
          case 'u' -> {
            if (at + 4 > text.length() || !text.substring(at, at + 4).matches("[0-9A-Fa-f]{4}"))
              throw new Rejected("JSON: bad \\u escape");
            out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
            at += 4;
          }
          default -> throw new Rejected("JSON: bad escape");
        }
      }
    }

    private Double number() throws Rejected {
      int start = at;
      while (at < text.length() && "+-0123456789.eE".indexOf(text.charAt(at)) >= 0) at++;
      String digits = text.substring(start, at);
      if (!digits.matches("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?"))
        throw new Rejected("JSON: unexpected character at " + start);
      return Double.valueOf(digits);
    }

    private void space() {
      while (at < text.length() && " \t\r\n".indexOf(text.charAt(at)) >= 0) at++;
    }

    private boolean peek(char c) {
      if (at < text.length() && text.charAt(at) == c) {
        at++;
        return true;
      }
      return false;
    }

    private boolean peekAfterSpace(char c) {
      space();
      return peek(c);
    }

    private void expect(char c) throws Rejected {
      if (!peek(c)) throw new Rejected("JSON: expected " + c);
    }
  }

  public static void main(String[] args) {
    if (args.length != 3) {
      System.err.println("usage: java Verify.java <issuer> <base_uuid> <token>");
      System.exit(2);
    }
    try {
      System.out.println(verify(args[0], args[1], args[2]));
    } catch (Rejected rejected) {
      System.out.println("rejected: " + rejected.getMessage().replace('\n', ' '));
      System.exit(1);
    } catch (Exception error) { // unreachable JWKS, a key the JDK refuses, …
      System.out.println("rejected: " + error.toString().replace('\n', ' '));
      System.exit(1);
    }
  }
}

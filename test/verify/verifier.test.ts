import { describe, it, expect } from 'vitest';
import { UnsecuredJWT, base64url, exportSPKI, generateSecret } from 'jose';
import {
  BaseTokenError,
  baseAudience,
  createBaseTokenVerifier,
  type BaseTokenErrorCode,
  type BaseTokenVerifierOptions,
  type VerifyOptions,
} from '../../src/verify';
import {
  BASE_A,
  BASE_B,
  ISSUER,
  LIFETIME,
  NOW,
  NOW_S,
  claims,
  createTestKey,
  defaultHeader,
  jwksOf,
  rejection,
  sign,
  signHs256,
  signRaw,
} from './helpers';

const key = await createTestKey();
const otherKey = await createTestKey();

function verifier(overrides: Partial<BaseTokenVerifierOptions> = {}) {
  return createBaseTokenVerifier({ issuer: ISSUER, jwks: jwksOf(key), currentDate: () => NOW, ...overrides });
}
const defaultVerifier = verifier();

/** verify(token) (for BASE_A unless opts say otherwise) must fail with exactly `code` (and a 401/503 status to match). */
async function expectCode(
  token: string,
  code: BaseTokenErrorCode,
  v = defaultVerifier,
  opts: VerifyOptions = { baseUuid: BASE_A },
) {
  const error = await rejection(v.verify(token, opts));
  expect(error).toBeInstanceOf(BaseTokenError);
  expect((error as BaseTokenError).code).toBe(code);
  expect((error as BaseTokenError).status).toBe(code === 'jwks_unavailable' ? 503 : 401);
  expect((error as BaseTokenError).message).not.toContain(token.slice(0, 16));
}

const signed = (c: Record<string, unknown>) => sign(key, { claims: claims(c) });
const withHeader = (h: Record<string, unknown>) => sign(key, { header: h });

describe('valid Base-Tokens', () => {
  it('returns exactly the contract claims in a fresh frozen object', async () => {
    const result = await defaultVerifier.verify(await sign(key), { baseUuid: BASE_A });
    expect(result).toEqual(claims());
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.isFrozen(result)).toBe(true);
  });

  it('drops unknown claims and ignores __proto__/constructor claims (J-27)', async () => {
    const payload = JSON.stringify(claims()).replace(
      /^\{/,
      '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}},"extra":"y",',
    );
    const result = await defaultVerifier.verify(await signRaw(key, defaultHeader(key), payload), {
      baseUuid: BASE_A,
    });
    expect(Object.keys(result).sort()).toEqual(Object.keys(claims()).sort());
    expect('admin' in result).toBe(false);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it.each(['r', 'rw', 'admin'])('accepts permission %s', async (permission) => {
    const result = await defaultVerifier.verify(await signed({ permission }), { baseUuid: BASE_A });
    expect(result.permission).toBe(permission);
  });

  it('accepts account_token and an empty token_name', async () => {
    const result = await defaultVerifier.verify(
      await signed({ token_type: 'account_token', token_name: '' }),
      {
        baseUuid: BASE_A,
      },
    );
    expect(result.token_type).toBe('account_token');
  });

  it('takes the audience from options, per call audience, or an upper-case baseUuid', async () => {
    const token = await sign(key);
    await expect(verifier({ audience: baseAudience(BASE_A) }).verify(token)).resolves.toMatchObject({
      sub: 'user-1',
    });
    await expect(
      verifier({ audience: [baseAudience(BASE_B), baseAudience(BASE_A)] }).verify(token),
    ).resolves.toBeTruthy();
    await expect(defaultVerifier.verify(token, { audience: baseAudience(BASE_A) })).resolves.toBeTruthy();
    await expect(defaultVerifier.verify(token, { baseUuid: BASE_A.toUpperCase() })).resolves.toBeTruthy();
  });

  it('accepts a public CryptoKey as key source', async () => {
    const v = verifier({ jwks: undefined, key: key.publicKey });
    await expect(v.verify(await sign(key), { baseUuid: BASE_A })).resolves.toBeTruthy();
    await expectCode(await sign(otherKey, { header: { kid: key.kid } }), 'token_signature_invalid', v);
  });
});

const pem = await exportSPKI(key.publicKey);
const hmacKey = await generateSecret('HS256');

describe('construction (fail closed on bad configuration)', () => {
  // Deliberately ill-typed options, as plain JavaScript callers could pass them.
  const bad: Record<string, Record<string, unknown>> = {
    'no key source': { jwks: undefined },
    'two key sources': { key: key.publicKey },
    'byte key': { jwks: undefined, key: new TextEncoder().encode(pem) },
    'PEM string key': { jwks: undefined, key: pem },
    'JWK object as key': { jwks: undefined, key: key.jwk },
    'HMAC secret CryptoKey': { jwks: undefined, key: hmacKey },
    'private CryptoKey': { jwks: undefined, key: key.privateKey },
    'HS256 algorithm': { algorithms: ['HS256'] },
    'none algorithm': { algorithms: ['none'] },
    'EdDSA + HS512 algorithms': { algorithms: ['EdDSA', 'HS512'] },
    'empty algorithms': { algorithms: [] },
    'JWKS with a private key': { jwks: { keys: [{ ...key.jwk, d: 'AAAA' }] } },
    'JWKS with a symmetric key': { jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } },
    'not a JWKS': { jwks: { keys: 'x' } },
    'empty issuer': { issuer: '' },
    'jwksOptions without jwksUrl': { jwksOptions: { cacheMaxAge: 1 } },
    'negative lifetime': { lifetimeSeconds: -1 },
    'NaN clock tolerance': { clockToleranceSeconds: Number.NaN },
    'empty audience list': { audience: [] },
  };
  it.each(Object.entries(bad))('rejects %s with a TypeError', (_name, overrides) => {
    expect(() => verifier(overrides as Partial<BaseTokenVerifierOptions>)).toThrow(TypeError);
  });

  it('throws TypeError when no audience is known at all', async () => {
    await expect(defaultVerifier.verify(await sign(key))).rejects.toThrow(TypeError);
    await expect(defaultVerifier.verify(await sign(key), {})).rejects.toThrow(TypeError);
  });

  it('throws TypeError when both audience and baseUuid are given', async () => {
    const call = defaultVerifier.verify(await sign(key), {
      audience: baseAudience(BASE_A),
      baseUuid: BASE_A,
    });
    await expect(call).rejects.toThrow(TypeError);
  });

  it('treats a baseUuid that is no UUID as an audience mismatch, not a crash', async () => {
    await expectCode(await sign(key), 'token_audience_mismatch', defaultVerifier, {
      baseUuid: '../../etc/passwd',
    });
  });
});

describe('algorithm attacks', () => {
  it('J-01 alg none: unsigned token and none with a junk signature', async () => {
    await expectCode(new UnsecuredJWT(claims()).encode(), 'token_malformed');
    const none = { ...defaultHeader(key), alg: 'none' };
    await expectCode(
      `${base64url.encode(JSON.stringify(none))}.${base64url.encode(JSON.stringify(claims()))}.`,
      'token_malformed',
    );
    await expectCode(
      `${base64url.encode(JSON.stringify(none))}.${base64url.encode(JSON.stringify(claims()))}.AAAA`,
      'token_signature_invalid',
    );
  });

  it.each(['noNE', 'None', 'NONE', 'none '])('J-02 alg %j is rejected', async (alg) => {
    await expectCode(await signRaw(key, { ...defaultHeader(key), alg }, claims()), 'token_signature_invalid');
  });

  it('J-03 HS256 forged with the public key as HMAC secret (raw x, JWK JSON, SPKI PEM)', async () => {
    const secrets = [
      base64url.decode(key.jwk.x!),
      new TextEncoder().encode(JSON.stringify(key.jwk)),
      new TextEncoder().encode(pem),
    ];
    const header = { ...defaultHeader(key), alg: 'HS256' };
    for (const secret of secrets) {
      const forged = await signHs256(secret, header, claims({ permission: 'admin' }));
      await expectCode(forged, 'token_signature_invalid');
      await expectCode(forged, 'token_signature_invalid', verifier({ jwks: undefined, key: key.publicKey }));
    }
  });

  it('J-04 ES256/RS256 header over an EdDSA signature', async () => {
    const narrow = verifier({ algorithms: ['EdDSA'] });
    for (const alg of ['ES256', 'RS256']) {
      const token = await signRaw(key, { ...defaultHeader(key), alg }, claims());
      await expectCode(token, 'token_signature_invalid', narrow);
      // The default accepts all three algorithms: JWK kty/alg pinning refuses it.
      await expectCode(token, 'token_key_unknown');
    }
  });

  it('J-05 alg Ed25519 while the JWK says EdDSA; accepted once a key with alg Ed25519 is published', async () => {
    const token = await signRaw(key, { ...defaultHeader(key), alg: 'Ed25519' }, claims());
    await expectCode(token, 'token_signature_invalid');
    await expectCode(token, 'token_key_unknown', verifier({ algorithms: ['EdDSA', 'Ed25519'] }));
    const rotated = verifier({
      algorithms: ['EdDSA', 'Ed25519'],
      jwks: { keys: [{ ...key.jwk, alg: 'Ed25519' }] },
    });
    await expect(rotated.verify(token, { baseUuid: BASE_A })).resolves.toBeTruthy();
  });
});

describe('kid and header attacks', () => {
  it.each([
    ['path traversal', '../../../../dev/null'],
    ['SQL', "' OR '1'='1"],
    ['NUL', '\u0000'],
    ['10 KB string', 'a'.repeat(10_240)],
    ['42 chars', 'a'.repeat(42)],
    ['number', 123],
    ['object', { a: 1 }],
  ])('J-07 kid %s is rejected before key lookup', async (_name, kid) => {
    await expectCode(await withHeader({ kid }), 'token_malformed');
  });

  it('J-07 a well-formed but unknown kid is token_key_unknown', async () => {
    await expectCode(await sign(otherKey), 'token_key_unknown');
  });

  it('J-08 token without kid, with one key and with two keys (rotation)', async () => {
    const token = await withHeader({ kid: undefined });
    await expectCode(token, 'token_malformed');
    await expectCode(token, 'token_malformed', verifier({ jwks: jwksOf(key, otherKey) }));
  });

  it('J-08 both keys of a rotation overlap verify by kid', async () => {
    const v = verifier({ jwks: jwksOf(key, otherKey) });
    await expect(v.verify(await sign(key), { baseUuid: BASE_A })).resolves.toBeTruthy();
    await expect(v.verify(await sign(otherKey), { baseUuid: BASE_A })).resolves.toBeTruthy();
  });

  it.each(['jku', 'x5u'])('J-10 %s header is refused outright', async (name) => {
    await expectCode(await withHeader({ [name]: 'https://attacker.example/jwks.json' }), 'token_malformed');
  });

  it('J-09/J-10 embedded jwk and x5c headers are refused', async () => {
    await expectCode(
      await sign(otherKey, { header: { kid: key.kid, jwk: otherKey.jwk } }),
      'token_malformed',
    );
    await expectCode(await withHeader({ x5c: ['MIIB'] }), 'token_malformed');
  });

  it.each([
    ['crit ["foo"]', { crit: ['foo'], foo: true }],
    ['crit ["exp"]', { crit: ['exp'] }],
    ['crit []', { crit: [] }],
    ['b64:false', { crit: ['b64'], b64: false }],
  ])('J-11 %s is rejected', async (_name, extra) => {
    await expectCode(await signRaw(key, { ...defaultHeader(key), ...extra }, claims()), 'token_malformed');
  });

  it('J-18 typ JWT and missing typ are rejected; application/AT+JWT is accepted', async () => {
    await expectCode(await withHeader({ typ: 'JWT' }), 'token_type_invalid');
    await expectCode(await withHeader({ typ: undefined }), 'token_type_invalid');
    const normalised = await withHeader({ typ: 'application/AT+JWT' });
    await expect(defaultVerifier.verify(normalised, { baseUuid: BASE_A })).resolves.toBeTruthy();
  });
});

describe('issuer and audience', () => {
  it.each([
    ['wrong', 'http://evil.example'],
    ['trailing slash', `${ISSUER}/`],
    ['https vs http', ISSUER.replace('http:', 'https:')],
    ['missing', undefined],
  ])('J-12 iss %s', async (_name, iss) => {
    await expectCode(await signed({ iss }), 'token_issuer_mismatch');
  });

  it('J-13 token for base A used at base B', async () => {
    await expectCode(await sign(key), 'token_audience_mismatch', defaultVerifier, { baseUuid: BASE_B });
  });

  it('J-13 aud missing or an array (even one containing the base)', async () => {
    await expectCode(await signed({ aud: undefined }), 'token_audience_mismatch');
    await expectCode(await signed({ aud: [baseAudience(BASE_A)] }), 'token_audience_mismatch');
    await expectCode(
      await signed({ aud: [baseAudience(BASE_A), baseAudience(BASE_B)] }),
      'token_audience_mismatch',
    );
  });

  it('J-13 base_uuid inconsistent with aud', async () => {
    await expectCode(await signed({ base_uuid: BASE_B }), 'token_claims_invalid');
  });
});

describe('time claims (clock frozen at NOW, tolerance 30 s)', () => {
  it('J-14 exp 31 s ago is expired, 10 s ago is within tolerance', async () => {
    await expectCode(await signed({ exp: NOW_S - 31 }), 'token_expired');
    await expect(
      defaultVerifier.verify(await signed({ exp: NOW_S - 10 }), { baseUuid: BASE_A }),
    ).resolves.toBeTruthy();
  });

  it('J-14 exp as string or missing', async () => {
    await expectCode(await signed({ exp: String(NOW_S + 60) }), 'token_claims_invalid');
    await expectCode(await signed({ exp: undefined }), 'token_claims_invalid');
  });

  it('J-15 nbf 60 s ahead is rejected, 20 s ahead accepted', async () => {
    await expectCode(await signed({ nbf: NOW_S + 60 }), 'token_not_yet_valid');
    await expect(
      defaultVerifier.verify(await signed({ nbf: NOW_S + 20 }), { baseUuid: BASE_A }),
    ).resolves.toBeTruthy();
    await expectCode(await signed({ nbf: String(NOW_S) }), 'token_claims_invalid');
  });

  it('J-16 iat an hour ahead; iat 4 days old with a still-valid exp; iat missing', async () => {
    await expectCode(
      await signed({ iat: NOW_S + 3600, exp: NOW_S + 3600 + LIFETIME }),
      'token_not_yet_valid',
    );
    await expectCode(await signed({ iat: NOW_S - 4 * 86_400, exp: NOW_S + 3600 }), 'token_expired');
    await expectCode(await signed({ iat: undefined }), 'token_claims_invalid');
    await expectCode(await signed({ iat: '1' }), 'token_claims_invalid');
  });

  it('J-16 lifetimeSeconds is the maximum token age', async () => {
    const token = await signed({ iat: NOW_S - 3601, exp: NOW_S + 3600 });
    await expectCode(token, 'token_expired', verifier({ lifetimeSeconds: 3600, clockToleranceSeconds: 0 }));
  });

  it('J-17 verifier clock skew ±29 s accepted, ±31 s rejected', async () => {
    const token = await signed({ iat: NOW_S, exp: NOW_S + LIFETIME });
    const at = (offset: number) => verifier({ currentDate: () => new Date(NOW.getTime() + offset * 1000) });
    await expect(at(-29).verify(token, { baseUuid: BASE_A })).resolves.toBeTruthy();
    await expectCode(token, 'token_not_yet_valid', at(-31));
    await expect(at(LIFETIME + 29).verify(token, { baseUuid: BASE_A })).resolves.toBeTruthy();
    await expectCode(token, 'token_expired', at(LIFETIME + 31));
  });
});

describe('structure and encoding', () => {
  it('J-20 stripped, missing, truncated and cut signatures', async () => {
    const token = await sign(key);
    const [h, p, s] = token.split('.') as [string, string, string];
    await expectCode(`${h}.${p}.`, 'token_malformed');
    await expectCode(`${h}.${p}`, 'token_malformed');
    await expectCode(`${h}.${p}.${s.slice(0, -1)}`, 'token_malformed'); // impossible base64url length
    await expectCode(`${h}.${p}.${s.slice(0, -2)}`, 'token_signature_invalid');
    await expectCode(token.slice(0, -10), 'token_signature_invalid');
  });

  it('J-21 payload edited with the original signature', async () => {
    const [h, , s] = (await signed({ permission: 'r' })).split('.');
    for (const edit of [{ sub: 'admin', permission: 'r' }, { permission: 'rw' }, { permission: 'admin' }]) {
      const payload = base64url.encode(JSON.stringify(claims(edit)));
      await expectCode(`${h}.${payload}.${s}`, 'token_signature_invalid');
    }
  });

  it('J-22 non-canonical base64url sibling of the last signature char is rejected', async () => {
    const token = await sign(key);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(token.at(-1)!) | 1]!;
    await expectCode(token.slice(0, -1) + sibling, 'token_malformed');
  });

  it.each([
    ['= padding', (t: string) => `${t}=`],
    ['+ (base64, not base64url)', (t: string) => `${t.slice(0, -1)}+`],
    ['/ (base64, not base64url)', (t: string) => `${t.slice(0, -1)}/`],
    ['leading space', (t: string) => ` ${t}`],
    ['trailing newline', (t: string) => `${t}\n`],
    ['unicode', (t: string) => t.replace(/\.[A-Za-z]/, '.é')],
    ['four segments', (t: string) => `${t}.AAAA`],
  ])('J-23 %s is rejected before jose', async (_name, mutate) => {
    const token = await sign(key);
    expect(mutate(token)).not.toBe(token);
    await expectCode(mutate(token), 'token_malformed');
  });

  it('J-24 JWS JSON serialisation and 5-part JWE', async () => {
    const [protectedHeader, payload, signature] = (await sign(key)).split('.');
    await expectCode(JSON.stringify({ protected: protectedHeader, payload, signature }), 'token_malformed');
    await expectCode(
      'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA',
      'token_malformed',
    );
  });

  it.each([
    ['payload "hello"', defaultHeader, 'hello'],
    ['payload [1,2]', defaultHeader, '[1,2]'],
    ['payload invalid UTF-8', defaultHeader, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
    ['header not JSON', () => '{"alg":', JSON.stringify(claims())],
    ['header an array', () => '["EdDSA"]', JSON.stringify(claims())],
  ] as const)('J-25 %s', async (_name, header, payload) => {
    await expectCode(await signRaw(key, header(key), payload), 'token_malformed');
  });

  it('J-25 alg missing', async () => {
    await expectCode(await signRaw(key, { kid: key.kid, typ: 'at+jwt' }, claims()), 'token_malformed');
  });

  it('J-28 a validly signed token over 4096 chars is rejected by length', async () => {
    const token = await signed({ token_name: 'x'.repeat(4000) });
    expect(token.length).toBeGreaterThan(4096);
    await expectCode(token, 'token_malformed');
  });
});

describe('J-35 custom claim types and values', () => {
  it.each([
    ['permission superuser', { permission: 'superuser' }],
    ['permission missing', { permission: undefined }],
    ['permission RW (case)', { permission: 'RW' }],
    ['sub empty', { sub: '' }],
    ['sub number', { sub: 42 }],
    ['sub missing', { sub: undefined }],
    ['client_id number', { client_id: 123 }],
    ['client_id empty', { client_id: '' }],
    ['client_id missing', { client_id: undefined }],
    ['jti empty', { jti: '' }],
    ['jti missing', { jti: undefined }],
    ['token_type bogus', { token_type: 'base_token' }],
    ['token_type missing', { token_type: undefined }],
    ['token_name number', { token_name: 5 }],
    ['token_name missing', { token_name: undefined }],
    ['base_uuid missing', { base_uuid: undefined }],
    ['base_uuid not a UUID', { base_uuid: 'base-a' }],
    ['gen a string', { gen: '7' }],
    ['gen negative', { gen: -1 }],
    ['gen a fraction', { gen: 1.5 }],
    ['gen null', { gen: null }],
  ])('%s', async (_name, overrides) => {
    await expectCode(await signed(overrides), 'token_claims_invalid');
  });

  it('base_uuid in upper case (with a matching aud) is rejected', async () => {
    const upper = BASE_A.toUpperCase();
    const token = await signed({ base_uuid: upper, aud: `urn:tokenladder:base:${upper}` });
    await expectCode(
      token,
      'token_claims_invalid',
      verifier({ audience: `urn:tokenladder:base:${upper}` }),
      {},
    );
  });
});

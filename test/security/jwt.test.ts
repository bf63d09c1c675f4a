// Catalog §2a: JWT attacks, run against both places that verify tokenladder's JWTs:
// - the verifier library (`tokenladder/verify`) configured with the running service's JWKS and issuer,
//   on Base-Tokens forged with the service's own signing key (so only the attacked property is wrong);
// - the service itself, which verifies its temporary API-Tokens (SeaTable's temp-api-token, a JWT) at
//   GET /api/v2.1/dtable/app-access-token/: SeaTable's 401 shape over HTTP, nothing written, and the
//   domain error code from exchangeTempApiToken.
// Every other route takes opaque tokens only and answers any JWT with 401 wrong_token_type (J-33).
// test/verify/verifier.test.ts holds the library's finer-grained table against a synthetic key.
import { Hono } from 'hono';
import { base64url, exportSPKI, importJWK, UnsecuredJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  BaseTokenError,
  createBaseTokenVerifier,
  type BaseTokenErrorCode,
  type BaseTokenVerifier,
} from '../../src/verify';
import { baseTokenAuth, requireWrite } from '../../src/verify/hono';
import { exchangeTempApiToken } from '../../src/tokens/temp-api-tokens';
import { createTestKey, signHs256, signRaw, startJwksServer, type TestKey } from '../verify/helpers';
import {
  claimsOf,
  expectAppError,
  expectRejected,
  expectSeatableRejected,
  SEATABLE_INVALID_TOKEN,
  world,
  type World,
} from './helpers';

type Fields = Record<string, unknown>;
type Kind = 'base' | 'temp';

const INVALID_HEADER = { detail: 'Invalid token header. No credentials provided.' };

let w: World;
/** The service's current signing key, shaped like the verifier tests' TestKey. */
let serverKey: TestKey;
let otherKey: TestKey;
let jwks: { keys: JWK[] };
let verifier: BaseTokenVerifier;
let genuine: Record<Kind, { token: string; header: Fields; claims: Fields }>;
let nowS: number;

beforeAll(async () => {
  w = await world();
  const current = await w.t.deps.keys.current();
  jwks = (await w.t.call('GET', '/.well-known/jwks.json')).body;
  const jwk = jwks.keys.find((key) => key.kid === current.kid)!;
  serverKey = {
    privateKey: current.privateKey,
    publicKey: (await importJWK(jwk, 'EdDSA')) as CryptoKey,
    jwk,
    kid: current.kid,
  };
  otherKey = await createTestKey();
  verifier = createBaseTokenVerifier({
    issuer: w.t.deps.config.issuer,
    jwks,
    currentDate: () => new Date(w.t.clock.now()),
    cache: false,
  });
  const temp = await w.t.call(
    'GET',
    `/api/v2.1/workspace/${await w.workspaceOf(w.alice)}/dtable/A/temp-api-token/`,
    { token: w.alice.token },
  );
  expect(temp.status).toBe(200);
  const headerOf = (token: string) =>
    JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as Fields;
  genuine = {
    base: { token: w.baseTokenA, header: headerOf(w.baseTokenA), claims: claimsOf(w.baseTokenA) },
    temp: {
      token: temp.body.api_token,
      header: headerOf(temp.body.api_token),
      claims: claimsOf(temp.body.api_token),
    },
  };
  nowS = Math.floor(w.t.clock.now() / 1000);
});

/** Merges overrides; an override of `undefined` removes the field. */
function merge(defaults: Fields, overrides: Fields): Fields {
  const out: Fields = { ...defaults, ...overrides };
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete out[name];
  return out;
}

const b64 = (value: Fields | string) =>
  base64url.encode(typeof value === 'string' ? value : JSON.stringify(value));

/** What a case builds its token from: a genuine token of the kind under attack, and ways to re-sign it. */
interface Forge {
  kind: Kind;
  genuine: string;
  header: Fields;
  claims: Fields;
  now: number;
  /** Genuine header/claims with overrides, signed with the service's key (or `key`). */
  sign(header?: Fields, claims?: Fields, key?: TestKey): Promise<string>;
  /** Verbatim header/payload text, signed with the service's key. */
  raw(header: Fields | string, payload: Fields | string | Uint8Array): Promise<string>;
}

function forge(kind: Kind): Forge {
  const { token, header, claims } = genuine[kind];
  return {
    kind,
    genuine: token,
    header,
    claims,
    now: nowS,
    sign: (h = {}, c = {}, key = serverKey) => signRaw(key, merge(header, h), merge(claims, c)),
    raw: (h, p) => signRaw(serverKey, h, p),
  };
}

interface JwtCase {
  id: string;
  name: string;
  /** The token under attack; `kind` says which genuine token it starts from. */
  make: (f: Forge) => Promise<string> | string;
  /** Expected verifier error code (Base-Token variant); omitted when the case does not apply to the library. */
  verifier?: BaseTokenErrorCode;
  /** Expected domain code of the service's temporary-token check; omitted when it does not apply. */
  service?: 'token_invalid' | 'token_expired';
  /** The service's HTTP answer when not SeaTable's plain "Invalid token" (a malformed header). */
  serviceHttp?: { status: number; body: unknown };
}

const none = (f: Forge, signature: string) =>
  `${b64({ ...f.header, alg: 'none' })}.${b64(f.claims)}.${signature}`;
const aud = (kind: Kind, base: string) =>
  kind === 'base' ? `urn:tokenladder:base:${base}` : 'urn:tokenladder:temp-api-token';

const cases: JwtCase[] = [
  {
    id: 'J-01',
    name: 'alg none, empty signature (UnsecuredJWT)',
    make: (f) => new UnsecuredJWT(f.claims).encode(),
    verifier: 'token_malformed',
    service: 'token_invalid',
  },
  {
    id: 'J-01',
    name: 'alg none with our header, empty signature',
    make: (f) => none(f, ''),
    verifier: 'token_malformed',
    service: 'token_invalid',
  },
  {
    id: 'J-01',
    name: 'alg none with a junk signature',
    make: (f) => none(f, 'AAAA'),
    verifier: 'token_signature_invalid',
    service: 'token_invalid',
  },
  ...['noNE', 'None', 'NONE', 'none '].map(
    (alg): JwtCase => ({
      id: 'J-02',
      name: `alg ${JSON.stringify(alg)}`,
      make: (f) => f.sign({ alg }),
      verifier: 'token_signature_invalid',
      service: 'token_invalid',
    }),
  ),
  ...(['raw x', 'JWK JSON', 'SPKI PEM'] as const).map(
    (form): JwtCase => ({
      id: 'J-03',
      name: `HS256 forged with the public key as HMAC secret (${form})`,
      make: async (f) => {
        const secret =
          form === 'raw x'
            ? base64url.decode(serverKey.jwk.x!)
            : new TextEncoder().encode(
                form === 'JWK JSON' ? JSON.stringify(serverKey.jwk) : await exportSPKI(serverKey.publicKey),
              );
        return signHs256(secret, { ...f.header, alg: 'HS256' }, { ...f.claims, permission: 'rw' });
      },
      verifier: 'token_signature_invalid',
      service: 'token_invalid',
    }),
  ),
  ...['ES256', 'RS256'].map(
    (alg): JwtCase => ({
      id: 'J-04',
      name: `header alg ${alg} over an EdDSA signature`,
      make: (f) => f.sign({ alg }),
      // Both are accepted algorithms by default now: the key's JWK alg (EdDSA) refuses it.
      verifier: 'token_key_unknown',
      service: 'token_invalid',
    }),
  ),
  {
    id: 'J-05',
    name: 'alg Ed25519 while the published JWK says EdDSA',
    make: (f) => f.sign({ alg: 'Ed25519' }),
    verifier: 'token_signature_invalid',
    service: 'token_invalid',
  },
  {
    id: 'J-06',
    name: 'unknown (well-formed) kid',
    make: (f) => f.sign({ kid: base64url.encode(crypto.getRandomValues(new Uint8Array(32))) }),
    verifier: 'token_key_unknown',
    service: 'token_invalid',
  },
  ...(
    [
      ['path traversal', '../../../../dev/null'],
      ['SQL', "' OR '1'='1"],
      ['NUL', '\u0000'],
      ['number', 123],
      ['object', { a: 1 }],
    ] as const
  ).map(
    (pair): JwtCase => ({
      id: 'J-07',
      name: `kid ${pair[0]}`,
      make: (f) => f.sign({ kid: pair[1] }),
      verifier: 'token_malformed',
      service: 'token_invalid',
    }),
  ),
  {
    id: 'J-07',
    name: 'kid 10 KB string',
    make: (f) => f.sign({ kid: 'a'.repeat(10_240) }),
    verifier: 'token_malformed',
    service: 'token_invalid',
    serviceHttp: { status: 401, body: INVALID_HEADER },
  },
  {
    id: 'J-08',
    name: 'no kid (signed with the real key)',
    make: (f) => f.sign({ kid: undefined }),
    verifier: 'token_malformed',
    service: 'token_invalid',
  },
  {
    id: 'J-09',
    name: 'attacker key with an embedded jwk header and our kid',
    make: (f) => f.sign({ jwk: otherKey.jwk }, {}, otherKey),
    verifier: 'token_malformed',
    service: 'token_invalid',
  },
  ...['jku', 'x5u'].map(
    (name): JwtCase => ({
      id: 'J-10',
      name: `${name} pointing at an attacker host, attacker-signed`,
      make: (f) => f.sign({ [name]: 'https://attacker.example/jwks.json' }, {}, otherKey),
      verifier: 'token_malformed',
      service: 'token_invalid',
    }),
  ),
  {
    id: 'J-10',
    name: 'x5c chain, attacker-signed',
    make: (f) => f.sign({ x5c: ['MIIB'] }, {}, otherKey),
    verifier: 'token_malformed',
    service: 'token_invalid',
  },
  ...(
    [
      ['crit ["foo"]', { crit: ['foo'], foo: true }],
      ['crit ["exp"]', { crit: ['exp'] }],
      ['crit []', { crit: [] }],
      ['b64:false', { crit: ['b64'], b64: false }],
    ] as const
  ).map(
    (pair): JwtCase => ({
      id: 'J-11',
      name: pair[0],
      make: (f) => f.sign(pair[1]),
      verifier: 'token_malformed',
      service: 'token_invalid',
    }),
  ),
  ...(
    [
      ['wrong', 'http://evil.example'],
      ['trailing slash', 'http://tokenladder.test/'],
      ['https vs http', 'https://tokenladder.test'],
      ['missing', undefined],
    ] as const
  ).map(
    (pair): JwtCase => ({
      id: 'J-12',
      name: `iss ${pair[0]}`,
      make: (f) => f.sign({}, { iss: pair[1] }),
      verifier: 'token_issuer_mismatch',
      service: 'token_invalid',
    }),
  ),
  {
    id: 'J-13',
    name: 'aud missing',
    make: (f) => f.sign({}, { aud: undefined }),
    verifier: 'token_audience_mismatch',
    service: 'token_invalid',
  },
  {
    id: 'J-13',
    name: 'aud an array containing the right audience',
    make: (f) => f.sign({}, { aud: [f.claims.aud, 'urn:x'] }),
    verifier: 'token_audience_mismatch',
  },
  {
    id: 'J-13',
    name: 'aud of another base (A token at base B)',
    make: (f) => f.sign({}, { aud: aud('base', w.baseB) }),
    verifier: 'token_audience_mismatch',
    service: 'token_invalid',
  },
  {
    id: 'J-14',
    name: 'exp 31 s ago',
    make: (f) => f.sign({}, { exp: f.now - 31 }),
    verifier: 'token_expired',
    service: 'token_expired',
  },
  {
    id: 'J-14',
    name: 'exp as a string',
    make: (f) => f.sign({}, { exp: String(f.now + 60) }),
    verifier: 'token_claims_invalid',
    service: 'token_invalid',
  },
  {
    id: 'J-14',
    name: 'exp absent',
    make: (f) => f.sign({}, { exp: undefined }),
    verifier: 'token_claims_invalid',
    service: 'token_invalid',
  },
  {
    id: 'J-15',
    name: 'nbf 60 s in the future',
    make: (f) => f.sign({}, { nbf: f.now + 60 }),
    verifier: 'token_not_yet_valid',
    service: 'token_invalid',
  },
  {
    id: 'J-16',
    name: 'iat an hour in the future',
    make: (f) => f.sign({}, { iat: f.now + 3600, exp: f.now + 7200 }),
    verifier: 'token_not_yet_valid',
    service: 'token_invalid',
  },
  {
    id: 'J-16',
    name: 'iat older than the lifetime with a still-valid exp',
    make: (f) => f.sign({}, { iat: f.now - (f.kind === 'base' ? 4 * 86400 : 2 * 3600), exp: f.now + 600 }),
    verifier: 'token_expired',
    service: 'token_expired',
  },
  {
    id: 'J-18',
    name: 'typ JWT',
    make: (f) => f.sign({ typ: 'JWT' }),
    verifier: 'token_type_invalid',
    service: 'token_invalid',
  },
  {
    id: 'J-18',
    name: 'typ missing',
    make: (f) => f.sign({ typ: undefined }),
    verifier: 'token_type_invalid',
    service: 'token_invalid',
  },
  {
    id: 'J-19',
    name: 'the other kind of token from the same issuer',
    make: (f) => genuine[f.kind === 'base' ? 'temp' : 'base'].token,
    verifier: 'token_type_invalid',
    service: 'token_invalid',
  },
  {
    id: 'J-20',
    name: 'signature stripped (h.p.)',
    make: (f) => `${f.genuine.split('.').slice(0, 2).join('.')}.`,
    verifier: 'token_malformed',
    service: 'token_invalid',
  },
  {
    id: 'J-20',
    name: 'signature missing (h.p)',
    make: (f) => f.genuine.split('.').slice(0, 2).join('.'),
    verifier: 'token_malformed',
    service: 'token_invalid',
  },
  {
    id: 'J-20',
    name: 'signature truncated by two chars',
    make: (f) => f.genuine.slice(0, -2),
    verifier: 'token_signature_invalid',
    service: 'token_invalid',
  },
  {
    id: 'J-20',
    name: 'token cut by 10 chars',
    make: (f) => f.genuine.slice(0, -10),
    verifier: 'token_signature_invalid',
    service: 'token_invalid',
  },
  ...(
    [
      ['sub → the admin', { sub: 'admin' }],
      ['permission changed', { permission: 'changed' }],
      ['permission → admin', { permission: 'admin' }],
    ] as const
  ).map(
    (pair): JwtCase => ({
      id: 'J-21',
      name: `payload edited (${pair[0]}) with the original signature`,
      make: (f) => {
        const [h, , s] = f.genuine.split('.');
        return `${h}.${b64(merge(f.claims, pair[1]))}.${s}`;
      },
      verifier: 'token_signature_invalid',
      service: 'token_invalid',
    }),
  ),
  {
    id: 'J-23',
    name: '= padding',
    make: (f) => `${f.genuine}=`,
    verifier: 'token_malformed',
    service: 'token_invalid',
  },
  {
    id: 'J-23',
    name: '+ instead of - (base64, not base64url)',
    // The same bytes in base64's alphabet; a token without any - or _ (a random signature has none ~6% of
    // the time) gets a + in place of its last character instead, so the case never sends the genuine token.
    make: (f) =>
      /[-_]/.test(f.genuine)
        ? f.genuine.replace(/-|_/, (c) => (c === '-' ? '+' : '/'))
        : `${f.genuine.slice(0, -1)}+`,
    verifier: 'token_malformed',
    service: 'token_invalid',
  },
  {
    id: 'J-23',
    name: 'leading space',
    make: (f) => ` ${f.genuine}`,
    verifier: 'token_malformed',
    service: 'token_invalid',
    serviceHttp: { status: 401, body: INVALID_HEADER },
  },
  {
    id: 'J-23',
    name: 'a Latin-1 letter inside',
    make: (f) => f.genuine.replace(/\.[A-Za-z]/, '.é'),
    verifier: 'token_malformed',
    service: 'token_invalid',
    serviceHttp: { status: 401, body: INVALID_HEADER },
  },
  {
    id: 'J-23',
    name: 'four segments',
    make: (f) => `${f.genuine}.AAAA`,
    verifier: 'token_malformed',
    service: 'token_invalid',
  },
  {
    id: 'J-24',
    name: 'JWS JSON serialisation',
    make: (f) => {
      const [protectedHeader, payload, signature] = f.genuine.split('.');
      return JSON.stringify({ protected: protectedHeader, payload, signature });
    },
    verifier: 'token_malformed',
    service: 'token_invalid',
    serviceHttp: { status: 401, body: INVALID_HEADER },
  },
  {
    id: 'J-24',
    name: 'five-part JWE',
    make: () => 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA',
    verifier: 'token_malformed',
    service: 'token_invalid',
  },
  {
    id: 'J-25',
    name: 'payload "hello"',
    make: (f) => f.raw(f.header, 'hello'),
    verifier: 'token_malformed',
    service: 'token_invalid',
  },
  {
    id: 'J-25',
    name: 'payload [1,2]',
    make: (f) => f.raw(f.header, '[1,2]'),
    verifier: 'token_malformed',
    service: 'token_invalid',
  },
  {
    id: 'J-25',
    name: 'payload invalid UTF-8',
    make: (f) => f.raw(f.header, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])),
    verifier: 'token_malformed',
    service: 'token_invalid',
  },
  {
    id: 'J-25',
    name: 'header not JSON',
    make: (f) => f.raw('{"alg":', f.claims),
    verifier: 'token_malformed',
    service: 'token_invalid',
  },
  {
    id: 'J-25',
    name: 'alg missing',
    make: (f) => f.sign({ alg: undefined }),
    verifier: 'token_malformed',
    service: 'token_invalid',
  },
  {
    id: 'J-28',
    name: 'validly signed token over 4096 chars',
    make: (f) => f.sign({}, { token_name: 'x'.repeat(4000), pad: 'x'.repeat(4000) }),
    verifier: 'token_malformed',
    serviceHttp: { status: 401, body: INVALID_HEADER },
  },
  {
    id: 'J-29',
    name: 'JWE compact token (dir, A256GCM)',
    make: () =>
      'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiYSJ9..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA',
    verifier: 'token_malformed',
    service: 'token_invalid',
  },
  {
    id: 'J-30',
    name: "another instance's key under our kid",
    make: (f) => f.sign({}, {}, otherKey),
    verifier: 'token_signature_invalid',
    service: 'token_invalid',
  },
  ...(
    [
      ['permission superuser', { permission: 'superuser' }],
      ['sub empty', { sub: '' }],
      ['sub a number', { sub: 42 }],
      ['client_id a number', { client_id: 123 }],
    ] as const
  ).map(
    (pair): JwtCase => ({
      id: 'J-35',
      name: pair[0],
      make: (f) => f.sign({}, pair[1]),
      verifier: 'token_claims_invalid',
      service: 'token_invalid',
    }),
  ),
  {
    id: 'J-35',
    name: 'temporary token claiming permission admin',
    make: (f) => f.sign({}, { permission: 'admin' }),
    service: 'token_invalid',
  },
];

async function expectVerifierCode(token: string, code: BaseTokenErrorCode) {
  const error = await verifier.verify(token, { baseUuid: w.baseA }).then(
    () => new Error('verified'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BaseTokenError);
  expect((error as BaseTokenError).code).toBe(code);
}

const appAccess = (token: string) =>
  w.t.call('GET', '/api/v2.1/dtable/app-access-token/', { headers: { authorization: `Token ${token}` } });

describe('JWT attacks: the verifier and the service refuse, the service writes nothing', () => {
  it('the genuine tokens pass both (the table below changes one thing each)', async () => {
    await expect(verifier.verify(genuine.base.token, { baseUuid: w.baseA })).resolves.toMatchObject({
      base_uuid: w.baseA,
    });
    expect((await appAccess(genuine.temp.token)).status).toBe(200);
    // Re-signed unchanged, too: the forging itself is sound.
    await expect(verifier.verify(await forge('base').sign(), { baseUuid: w.baseA })).resolves.toBeTruthy();
    expect((await appAccess(await forge('temp').sign())).status).toBe(200);
  });

  for (const c of cases) {
    it(`${c.id} ${c.name}`, async () => {
      const fetchSpy = vi.spyOn(globalThis, 'fetch');
      try {
        if (c.verifier) await expectVerifierCode(await c.make(forge('base')), c.verifier);
        if (c.service || c.serviceHttp) {
          const token = await c.make(forge('temp'));
          const http = c.serviceHttp ?? { status: 401, body: SEATABLE_INVALID_TOKEN };
          await expectSeatableRejected(w.t, () => appAccess(token), http.status, http.body);
          if (c.service) await expectAppError(exchangeTempApiToken(w.t.deps, token), c.service);
          // The native exchange takes no JWT at all.
          if (!c.serviceHttp)
            await expectRejected(
              w.t,
              () => w.t.call('POST', '/api/v1/base-tokens', { token }),
              401,
              /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)
                ? 'wrong_token_type'
                : 'token_invalid',
            );
        }
        // Nothing in a token makes either side fetch anything (jku/x5u/x5c are never dereferenced).
        expect(fetchSpy).not.toHaveBeenCalled();
      } finally {
        fetchSpy.mockRestore();
      }
    });
  }

  it('J-06 random unknown kids: every one refused, at most one JWKS refetch per cooldown', async () => {
    const server = await startJwksServer(jwks);
    try {
      const remote = createBaseTokenVerifier({
        issuer: w.t.deps.config.issuer,
        jwksUrl: server.url,
        currentDate: () => new Date(w.t.clock.now()),
        cache: false,
      });
      await expect(remote.verify(genuine.base.token, { baseUuid: w.baseA })).resolves.toBeTruthy();
      const f = forge('base');
      for (let i = 0; i < 100; i++) {
        const error = await remote
          .verify(await f.sign({ kid: base64url.encode(crypto.getRandomValues(new Uint8Array(32))) }), {
            baseUuid: w.baseA,
          })
          .catch((e: unknown) => e);
        expect((error as BaseTokenError).code).toBe('token_key_unknown');
      }
      expect(server.hits()).toBeLessThanOrEqual(2);
      // And the service: 100 unknown kids, 100 refusals, nothing written.
      const t = forge('temp');
      for (let i = 0; i < 20; i++)
        await expectSeatableRejected(
          w.t,
          async () =>
            appAccess(await t.sign({ kid: base64url.encode(crypto.getRandomValues(new Uint8Array(32))) })),
          401,
          SEATABLE_INVALID_TOKEN,
        );
    } finally {
      await server.close();
    }
  });

  it('J-17 verifier clock skew: ±29 s accepted, ±31 s refused', async () => {
    const token = await forge('base').sign({}, { iat: nowS, exp: nowS + 259_200 });
    const at = (offset: number) =>
      createBaseTokenVerifier({
        issuer: w.t.deps.config.issuer,
        jwks,
        currentDate: () => new Date((nowS + offset) * 1000),
        cache: false,
      });
    await expect(at(-29).verify(token, { baseUuid: w.baseA })).resolves.toBeTruthy();
    await expect(at(-31).verify(token, { baseUuid: w.baseA })).rejects.toMatchObject({
      code: 'token_not_yet_valid',
    });
    await expect(at(259_200 + 29).verify(token, { baseUuid: w.baseA })).resolves.toBeTruthy();
    await expect(at(259_200 + 31).verify(token, { baseUuid: w.baseA })).rejects.toMatchObject({
      code: 'token_expired',
    });
  });

  it('J-18 typ application/AT+JWT is the same type and accepted', async () => {
    await expect(
      verifier.verify(await forge('base').sign({ typ: 'application/AT+JWT' }), { baseUuid: w.baseA }),
    ).resolves.toBeTruthy();
  });

  it('J-22 a base64url sibling of the last signature char is refused by the verifier and the service', async () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = (token: string) => token.slice(0, -1) + alphabet[alphabet.indexOf(token.at(-1)!) ^ 1]!;
    expect(sibling(genuine.base.token)).not.toBe(genuine.base.token);
    await expectVerifierCode(sibling(genuine.base.token), 'token_malformed');
    // jose alone decodes the sibling to the same signature; the service prechecks like the library.
    await expectSeatableRejected(
      w.t,
      () => appAccess(sibling(genuine.temp.token)),
      401,
      SEATABLE_INVALID_TOKEN,
    );
    await expectAppError(exchangeTempApiToken(w.t.deps, sibling(genuine.temp.token)), 'token_invalid');
  });

  it('J-26 duplicate claims: the service never emits them; the verifier honours exactly one value', async () => {
    for (const token of [genuine.base.token, genuine.temp.token]) {
      const json = Buffer.from(token.split('.')[1]!, 'base64url').toString();
      const keys = [...json.matchAll(/"([^"]+)":/g)].map((m) => m[1]);
      expect(new Set(keys).size).toBe(keys.length);
    }
    const f = forge('base');
    const body = JSON.stringify(f.claims).replace(/^\{/, `{"aud":"urn:tokenladder:base:${w.baseB}",`);
    const duplicated = await f.raw(f.header, body);
    // JSON.parse is last-wins: the token is for A (its last aud), and never also for B.
    await expect(verifier.verify(duplicated, { baseUuid: w.baseA })).resolves.toBeTruthy();
    await expect(verifier.verify(duplicated, { baseUuid: w.baseB })).rejects.toMatchObject({
      code: 'token_audience_mismatch',
    });
  });

  it('J-27 __proto__/constructor claims: no pollution, no escalation (verifier and service)', async () => {
    const f = forge('base');
    const payload = JSON.stringify(merge(f.claims, { permission: 'r' })).replace(
      /^\{/,
      '{"__proto__":{"permission":"rw","admin":true},"constructor":{"prototype":{"x":1}},',
    );
    const claims = await verifier.verify(await f.raw(f.header, payload), { baseUuid: w.baseA });
    expect(claims.permission).toBe('r');
    expect('admin' in claims).toBe(false);
    const t = forge('temp');
    const tempPayload = JSON.stringify(merge(t.claims, { permission: 'r' })).replace(
      /^\{/,
      '{"__proto__":{"permission":"rw"},',
    );
    const exchanged = await appAccess(await t.raw(t.header, tempPayload));
    expect(exchanged.status).toBe(200);
    expect(claimsOf(exchanged.body.access_token).permission).toBe('r');
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(({} as Record<string, unknown>).permission).toBeUndefined();
  });

  it('J-32 a key removed from the JWKS (emergency rotation): refused by the service at once, by a verifier once it refetches', async () => {
    const own = await world();
    const jwksBefore = (await own.t.call('GET', '/.well-known/jwks.json')).body;
    const temp = (
      await own.t.call(
        'GET',
        `/api/v2.1/workspace/${await own.workspaceOf(own.alice)}/dtable/A/temp-api-token/`,
        { token: own.alice.token },
      )
    ).body.api_token;
    const rotated = await own.t.call('POST', '/api/v1/keys/rotate', {
      token: own.admin.token,
      body: { revoke_old: true },
    });
    expect(rotated.status, JSON.stringify(rotated.body)).toBeLessThan(300);
    const jwksAfter = (await own.t.call('GET', '/.well-known/jwks.json')).body;
    const make = (set: unknown) =>
      createBaseTokenVerifier({
        issuer: own.t.deps.config.issuer,
        jwks: set as { keys: JWK[] },
        currentDate: () => new Date(own.t.clock.now()),
        cache: false,
      });
    // A verifier still holding the old JWKS accepts until it refreshes (documented bound); with the new set it refuses.
    await expect(make(jwksBefore).verify(own.baseTokenA, { baseUuid: own.baseA })).resolves.toBeTruthy();
    await expect(make(jwksAfter).verify(own.baseTokenA, { baseUuid: own.baseA })).rejects.toMatchObject({
      code: 'token_key_unknown',
    });
    await expectSeatableRejected(
      own.t,
      () =>
        own.t.call('GET', '/api/v2.1/dtable/app-access-token/', {
          headers: { authorization: `Token ${temp}` },
        }),
      401,
      SEATABLE_INVALID_TOKEN,
    );
  });

  it('J-33 a Base-Token presented to the management routes is the wrong type of token', async () => {
    const routes: [string, string, unknown?][] = [
      ['GET', '/api/v1/me'],
      ['GET', '/api/v1/account-tokens'],
      ['GET', '/api/v1/bases'],
      ['POST', '/api/v1/bases', { name: 'x' }],
      ['POST', `/api/v1/bases/${w.baseA}/api-tokens`, { name: 'x', permission: 'r' }],
      ['GET', '/api/v1/api-tokens'],
      ['DELETE', `/api/v1/api-tokens/${w.tokens.aliceRw.id}`],
      [
        'POST',
        '/api/v1/users',
        { email: 'x@example.com', password: 'a perfectly fine passphrase', role: 'system_admin' },
      ],
      ['POST', '/api/v1/keys/rotate', {}],
      ['POST', '/api/v1/base-tokens', { base_uuid: w.baseA }],
    ];
    for (const [method, path, body] of routes) {
      await expectRejected(
        w.t,
        () => w.t.call(method, path, { token: w.baseTokenA, body }),
        401,
        'wrong_token_type',
      );
    }
    await expectSeatableRejected(
      w.t,
      () => w.t.call('GET', '/api2/account/info/', { token: w.baseTokenA }),
      401,
      SEATABLE_INVALID_TOKEN,
    );
  });

  it('J-34 an r Base-Token used for a write at a base service: 403 insufficient_scope', async () => {
    const r = await w.t.call('POST', '/api/v1/base-tokens', { token: w.tokens.bobR.token });
    expect(r.status).toBe(201);
    const service = new Hono().post(
      '/bases/:base_uuid/rows',
      baseTokenAuth(verifier, { baseUuid: (c) => c.req.param('base_uuid') }),
      requireWrite(),
      (c) => c.json({ ok: true }),
    );
    const write = (token: string) =>
      service.request(`/bases/${w.baseA}/rows`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
    const refused = await write(r.body.base_token);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toMatch(/insufficient_scope/);
    expect((await write(w.baseTokenA)).status).toBe(200);
  });
});

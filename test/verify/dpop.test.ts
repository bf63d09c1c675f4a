// DPoP-bound Base-Tokens (RFC 9449) through verifier.verify(token, { dpop }): real jose-signed tokens and
// proofs, real key pairs. The verifier holds no database, so "nothing changed" is the replay cache: a
// refused proof must not use up its jti (checked where it matters).
import { describe, expect, it } from 'vitest';
import { base64url, exportJWK, generateKeyPair } from 'jose';
import {
  BaseTokenError,
  createBaseTokenVerifier,
  createDpopReplayCache,
  normalizeHtu,
  type DpopRequest,
} from '../../src/verify';
import {
  BASE_A,
  ISSUER,
  NOW,
  NOW_S,
  claims,
  createTestKey,
  jwksOf,
  rejection,
  sign,
  startJwksServer,
} from './helpers';
import { RESOURCE_URL, athOf, createClientKey, forgeProof, makeProof, type ClientKey } from './dpop-helpers';

const issuerKey = await createTestKey();
const edClient = await createClientKey('EdDSA');
const esClient = await createClientKey('ES256');
const otherClient = await createClientKey('EdDSA');

const newVerifier = (options: Parameters<typeof createBaseTokenVerifier>[0] | object = {}) =>
  createBaseTokenVerifier({ issuer: ISSUER, jwks: jwksOf(issuerKey), currentDate: () => NOW, ...options });
const boundToken = (client: ClientKey, overrides: Record<string, unknown> = {}) =>
  sign(issuerKey, { claims: claims({ cnf: { jkt: client.jkt }, ...overrides }) });
const request = (proof: string | undefined, overrides: Partial<DpopRequest> = {}): DpopRequest => ({
  proof,
  method: 'GET',
  url: RESOURCE_URL,
  ...overrides,
});

async function expectCode(promise: Promise<unknown>, code: string) {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(BaseTokenError);
  expect((error as BaseTokenError).code).toBe(code);
  expect((error as BaseTokenError).status).toBe(401);
}

describe('DPoP-bound tokens: proofs that pass', () => {
  it.each([
    ['EdDSA', edClient],
    ['ES256', esClient],
  ])('accepts a valid %s proof and returns the claims with cnf', async (_alg, client) => {
    const verifier = newVerifier();
    const token = await boundToken(client);
    const result = await verifier.verify(token, {
      baseUuid: BASE_A,
      dpop: request(await makeProof(client, { token })),
    });
    expect(result.cnf).toEqual({ jkt: client.jkt });
    expect(result.sub).toBe('user-1');
  });

  it("accepts RFC 9864's Ed25519 alg id for Ed25519 keys, and only the algorithms configured", async () => {
    const token = await boundToken(edClient);
    const ed25519 = { ...edClient, alg: 'Ed25519' as never };
    await newVerifier().verify(token, {
      baseUuid: BASE_A,
      dpop: request(await makeProof(ed25519, { token })),
    });
    const esOnly = newVerifier({ dpop: { algorithms: ['ES256'] } });
    await expectCode(
      esOnly.verify(token, { baseUuid: BASE_A, dpop: request(await makeProof(edClient, { token })) }),
      'dpop_proof_invalid',
    );
  });

  it('accepts PS256 only when enabled', async () => {
    const client = await createClientKey('PS256');
    const token = await boundToken(client);
    await expectCode(
      newVerifier().verify(token, { baseUuid: BASE_A, dpop: request(await makeProof(client, { token })) }),
      'dpop_proof_invalid',
    );
    const verifier = newVerifier({ dpop: { algorithms: ['EdDSA', 'ES256', 'PS256'] } });
    const claimsOut = await verifier.verify(token, {
      baseUuid: BASE_A,
      dpop: request(await makeProof(client, { token })),
    });
    expect(claimsOut.cnf?.jkt).toBe(client.jkt);
  });

  it.each([
    [
      'default port and case',
      'HTTPS://Rows.Example:443/bases/0f8fad5b-d9cb-469f-a165-70867728950e/rows',
      RESOURCE_URL,
    ],
    ['query and fragment ignored', RESOURCE_URL, `${RESOURCE_URL}?limit=10#x`],
    ['query in the proof ignored', `${RESOURCE_URL}?a=1`, RESOURCE_URL],
    ['http default port', 'http://rows.example:80/x', 'http://ROWS.example/x'],
  ])('normalises htu: %s', async (_case, htu, url) => {
    const verifier = newVerifier();
    const token = await boundToken(edClient);
    const proof = await makeProof(edClient, { token, htu });
    await verifier.verify(token, { baseUuid: BASE_A, dpop: request(proof, { url }) });
  });

  it('accepts a proof up to maxAgeSeconds + tolerance old, and up to the tolerance in the future', async () => {
    const verifier = newVerifier();
    const token = await boundToken(edClient);
    for (const iat of [NOW_S - 90, NOW_S + 30]) {
      await verifier.verify(token, {
        baseUuid: BASE_A,
        dpop: request(await makeProof(edClient, { token, iat })),
      });
    }
  });
});

describe('DPoP-bound tokens: refusals', () => {
  it('refuses a replayed proof (same jti), also when the first use is concurrent', async () => {
    const verifier = newVerifier();
    const token = await boundToken(edClient);
    const proof = await makeProof(edClient, { token });
    await verifier.verify(token, { baseUuid: BASE_A, dpop: request(proof) });
    await expectCode(
      verifier.verify(token, { baseUuid: BASE_A, dpop: request(proof) }),
      'dpop_proof_replayed',
    );
    // Another proof with the same jti (new signature) is a replay too.
    const sameJti = await makeProof(edClient, { token, jti: 'fixed', htm: 'GET' });
    const sameJtiAgain = await makeProof(edClient, { token, jti: 'fixed', iat: NOW_S - 1 });
    await verifier.verify(token, { baseUuid: BASE_A, dpop: request(sameJti) });
    await expectCode(
      verifier.verify(token, { baseUuid: BASE_A, dpop: request(sameJtiAgain) }),
      'dpop_proof_replayed',
    );
    const racing = await makeProof(edClient, { token });
    const results = await Promise.allSettled(
      [1, 2, 3].map(() => verifier.verify(token, { baseUuid: BASE_A, dpop: request(racing) })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('refuses a proof for another method', async () => {
    const verifier = newVerifier();
    const token = await boundToken(edClient);
    const proof = await makeProof(edClient, { token, htm: 'POST' });
    await expectCode(
      verifier.verify(token, { baseUuid: BASE_A, dpop: request(proof) }),
      'dpop_method_mismatch',
    );
    // Not used up by the refusal: the same proof passes for the method it names.
    await verifier.verify(token, { baseUuid: BASE_A, dpop: request(proof, { method: 'POST' }) });
  });

  it.each([
    ['another path', `${RESOURCE_URL}/1`],
    ['another host', 'https://evil.example/bases/0f8fad5b-d9cb-469f-a165-70867728950e/rows'],
    ['another scheme', RESOURCE_URL.replace('https:', 'http:')],
    ['another port', 'https://rows.example:8443/bases/0f8fad5b-d9cb-469f-a165-70867728950e/rows'],
    ['path case', RESOURCE_URL.replace(/rows$/, 'ROWS')],
    ['not a URL', 'rows'],
  ])('refuses a proof for %s', async (_case, htu) => {
    const verifier = newVerifier();
    const token = await boundToken(edClient);
    const proof = await makeProof(edClient, { token, htu });
    await expectCode(verifier.verify(token, { baseUuid: BASE_A, dpop: request(proof) }), 'dpop_url_mismatch');
  });

  it('refuses a proof made with another key (thumbprint mismatch)', async () => {
    const verifier = newVerifier();
    const token = await boundToken(edClient);
    await expectCode(
      verifier.verify(token, { baseUuid: BASE_A, dpop: request(await makeProof(otherClient, { token })) }),
      'dpop_key_mismatch',
    );
    // The bound key embedded, but signed by another: the signature fails.
    const stolen = await makeProof(edClient, { token, signWith: otherClient.privateKey });
    await expectCode(
      verifier.verify(token, { baseUuid: BASE_A, dpop: request(stolen) }),
      'dpop_proof_invalid',
    );
  });

  it.each([
    ['stale', NOW_S - 91],
    ['in the future', NOW_S + 31],
  ])('refuses a proof whose iat is %s', async (_case, iat) => {
    const verifier = newVerifier();
    const token = await boundToken(edClient);
    const proof = await makeProof(edClient, { token, iat });
    await expectCode(verifier.verify(token, { baseUuid: BASE_A, dpop: request(proof) }), 'dpop_proof_stale');
  });

  it('honours dpop.maxAgeSeconds', async () => {
    const verifier = newVerifier({ dpop: { maxAgeSeconds: 10 } });
    const token = await boundToken(edClient);
    const proof = await makeProof(edClient, { token, iat: NOW_S - 41 });
    await expectCode(verifier.verify(token, { baseUuid: BASE_A, dpop: request(proof) }), 'dpop_proof_stale');
  });

  it('refuses a bound token without a proof: verify() alone, and a DPoP request without the header', async () => {
    const verifier = newVerifier();
    const token = await boundToken(edClient);
    await expectCode(verifier.verify(token, { baseUuid: BASE_A }), 'dpop_binding_required');
    await expectCode(
      verifier.verify(token, { baseUuid: BASE_A, dpop: request(undefined) }),
      'dpop_proof_missing',
    );
    await expectCode(verifier.verify(token, { baseUuid: BASE_A, dpop: request('') }), 'dpop_proof_missing');
  });

  it('refuses a proof made for another token (ath)', async () => {
    const verifier = newVerifier();
    const token = await boundToken(edClient);
    const other = await boundToken(edClient, { jti: 'jti-2' });
    const proof = await makeProof(edClient, { token: other });
    await expectCode(verifier.verify(token, { baseUuid: BASE_A, dpop: request(proof) }), 'dpop_ath_mismatch');
    const withoutAth = await makeProof(edClient, { token, claims: { ath: undefined } });
    await expectCode(
      verifier.verify(token, { baseUuid: BASE_A, dpop: request(withoutAth) }),
      'dpop_proof_invalid',
    );
  });

  it('refuses a proof whose jwk holds private members, or is symmetric', async () => {
    const verifier = newVerifier();
    const { privateKey } = await generateKeyPair('EdDSA', { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    const client: ClientKey = { ...edClient, privateKey, jwk: privateJwk };
    // The thumbprint ignores `d`, so cnf matches: only the private-member check refuses it.
    const token = await sign(issuerKey, {
      claims: claims({ cnf: { jkt: (await createClientKeyFromJwk(privateJwk)).jkt } }),
    });
    await expectCode(
      verifier.verify(token, { baseUuid: BASE_A, dpop: request(await makeProof(client, { token })) }),
      'dpop_proof_invalid',
    );
    const oct = await forgeProof(
      { alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: base64url.encode('secret') } },
      { jti: 'x', htm: 'GET', htu: RESOURCE_URL, iat: NOW_S, ath: await athOf(token) },
      new TextEncoder().encode('secret'),
    );
    await expectCode(verifier.verify(token, { baseUuid: BASE_A, dpop: request(oct) }), 'dpop_proof_invalid');
  });

  it('refuses a jwk marked for encryption or for another alg, also once the key is cached', async () => {
    const verifier = newVerifier();
    const token = await boundToken(edClient);
    await verifier.verify(token, { baseUuid: BASE_A, dpop: request(await makeProof(edClient, { token })) });
    for (const extra of [{ use: 'enc' }, { alg: 'ES256' }]) {
      const client = { ...edClient, jwk: { ...edClient.jwk, ...extra } };
      const proof = await makeProof(client, { token });
      await expectCode(
        verifier.verify(token, { baseUuid: BASE_A, dpop: request(proof) }),
        'dpop_proof_invalid',
      );
    }
  });

  it('refuses alg none and HS256 proofs, and a wrong typ', async () => {
    const verifier = newVerifier();
    const token = await boundToken(edClient);
    const payload = { jti: 'x', htm: 'GET', htu: RESOURCE_URL, iat: NOW_S, ath: await athOf(token) };
    const none = await forgeProof({ alg: 'none', typ: 'dpop+jwt', jwk: edClient.jwk }, payload);
    // HS256 keyed with the public key's bytes: the classic confusion attack.
    const hs = await forgeProof(
      { alg: 'HS256', typ: 'dpop+jwt', jwk: edClient.jwk },
      payload,
      new TextEncoder().encode(JSON.stringify(edClient.jwk)),
    );
    for (const proof of [none, hs]) {
      await expectCode(
        verifier.verify(token, { baseUuid: BASE_A, dpop: request(proof) }),
        'dpop_proof_invalid',
      );
    }
    for (const typ of ['JWT', 'at+jwt', undefined]) {
      const proof = await makeProof(edClient, { token, header: { typ } });
      await expectCode(
        verifier.verify(token, { baseUuid: BASE_A, dpop: request(proof) }),
        'dpop_proof_invalid',
      );
    }
  });

  it('refuses proofs with missing or ill-typed claims, an over-long jti, or an oversized proof', async () => {
    const verifier = newVerifier();
    const token = await boundToken(edClient);
    for (const overrides of [
      { jti: undefined },
      { jti: 'x'.repeat(257) },
      { jti: 7 },
      { htm: undefined },
      { htu: undefined },
      { iat: undefined },
      { iat: '1' },
      { nonce: 5 },
    ]) {
      const proof = await makeProof(edClient, { token, claims: overrides });
      await expectCode(
        verifier.verify(token, { baseUuid: BASE_A, dpop: request(proof) }),
        'dpop_proof_invalid',
      );
    }
    const huge = await makeProof(edClient, { token, claims: { pad: 'x'.repeat(4000) } });
    await expectCode(verifier.verify(token, { baseUuid: BASE_A, dpop: request(huge) }), 'dpop_proof_invalid');
    await expectCode(
      verifier.verify(token, { baseUuid: BASE_A, dpop: request('a.b') }),
      'dpop_proof_invalid',
    );
    await expectCode(
      verifier.verify(token, {
        baseUuid: BASE_A,
        dpop: request(`${await makeProof(edClient, { token })}, x.y.z`),
      }),
      'dpop_proof_invalid',
    );
  });

  it('refuses an unbound token presented with a proof (RFC 9449 §7.2)', async () => {
    const verifier = newVerifier();
    const token = await sign(issuerKey);
    await expectCode(
      verifier.verify(token, { baseUuid: BASE_A, dpop: request(await makeProof(edClient, { token })) }),
      'dpop_token_unbound',
    );
    // Unbound tokens still pass as Bearer.
    expect((await verifier.verify(token, { baseUuid: BASE_A })).cnf).toBeUndefined();
  });

  it.each([
    ['a string', 'abc'],
    ['a short jkt', { jkt: 'abc' }],
    ['a jkt with padding', { jkt: `${'A'.repeat(42)}=` }],
    ['another member', { jkt: 'A'.repeat(43), x5t: 'A'.repeat(43) }],
    ['another confirmation method', { 'x5t#S256': 'A'.repeat(43) }],
    ['an array', ['A'.repeat(43)]],
    ['null', null],
  ])('refuses a token whose cnf is %s (token_claims_invalid)', async (_case, cnf) => {
    const token = await sign(issuerKey, { claims: claims({ cnf }) });
    await expectCode(newVerifier().verify(token, { baseUuid: BASE_A }), 'token_claims_invalid');
  });
});

describe('DPoP and the verified-token cache', () => {
  it('reuses the signature check but checks the proof on every call', async () => {
    const server = await startJwksServer(jwksOf(issuerKey));
    try {
      const verifier = createBaseTokenVerifier({
        issuer: ISSUER,
        jwksUrl: server.url,
        jwksOptions: { cacheMaxAge: 0, cooldownDuration: 0 },
        currentDate: () => NOW,
      });
      const token = await boundToken(edClient);
      const first = await makeProof(edClient, { token });
      await verifier.verify(token, { baseUuid: BASE_A, dpop: request(first) });
      await verifier.verify(token, { baseUuid: BASE_A, dpop: request(await makeProof(edClient, { token })) });
      expect(server.hits()).toBe(1); // the second call was a cache hit
      // Cached token, but no proof, a replayed proof, a proof for another token or method: refused.
      await expectCode(verifier.verify(token, { baseUuid: BASE_A }), 'dpop_binding_required');
      await expectCode(
        verifier.verify(token, { baseUuid: BASE_A, dpop: request(undefined) }),
        'dpop_proof_missing',
      );
      await expectCode(
        verifier.verify(token, { baseUuid: BASE_A, dpop: request(first) }),
        'dpop_proof_replayed',
      );
      const forOther = await makeProof(edClient, { token: await boundToken(edClient, { jti: 'jti-9' }) });
      await expectCode(
        verifier.verify(token, { baseUuid: BASE_A, dpop: request(forOther) }),
        'dpop_ath_mismatch',
      );
      const post = await makeProof(edClient, { token, htm: 'POST' });
      await expectCode(
        verifier.verify(token, { baseUuid: BASE_A, dpop: request(post) }),
        'dpop_method_mismatch',
      );
      expect(server.hits()).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe('the replay cache', () => {
  it('when full, forgets the oldest proof and refuses proofs not newer than it', () => {
    const replay = createDpopReplayCache({ maxEntries: 2 });
    const nowMs = NOW.getTime();
    const until = nowMs + 60_000;
    expect(replay.remember('k.a', NOW_S - 10, until, nowMs)).toBe(true);
    expect(replay.remember('k.a', NOW_S - 10, until, nowMs)).toBe(false);
    expect(replay.remember('k.b', NOW_S - 5, until, nowMs)).toBe(true);
    expect(replay.remember('k.c', NOW_S, until, nowMs)).toBe(true); // evicts k.a, horizon = NOW_S - 10
    expect(replay.remember('k.a', NOW_S - 10, until, nowMs)).toBe(false); // forgotten, yet still refused
    expect(replay.remember('k.d', NOW_S - 11, until, nowMs)).toBe(false);
    expect(replay.remember('k.e', NOW_S - 9, until, nowMs)).toBe(true);
  });

  it('drops entries once their proofs would be stale anyway', () => {
    const replay = createDpopReplayCache({ maxEntries: 1 });
    const nowMs = NOW.getTime();
    expect(replay.remember('k.a', NOW_S, nowMs + 1000, nowMs)).toBe(true);
    // Expired before the next insert: removed without raising the horizon.
    expect(replay.remember('k.b', NOW_S - 100, nowMs + 5000, nowMs + 2000)).toBe(true);
  });

  it('refuses bad options', () => {
    expect(() => createDpopReplayCache({ maxEntries: 0 })).toThrow(TypeError);
    expect(() => newVerifier({ dpop: { algorithms: ['HS256'] } })).toThrow(TypeError);
    expect(() => newVerifier({ dpop: { algorithms: ['none'] } })).toThrow(TypeError);
    expect(() => newVerifier({ dpop: { algorithms: [] } })).toThrow(TypeError);
  });
});

describe('normalizeHtu', () => {
  it.each([
    ['HTTPS://A.Example:443/p?q#f', 'https://a.example/p'],
    ['http://a.example:80', 'http://a.example/'],
    ['https://a.example:8443/a/../b', 'https://a.example:8443/b'],
    ['ftp://a.example/', undefined],
    ['https://user:pw@a.example/', undefined],
    ['/relative', undefined],
  ])('%s → %s', (input, output) => {
    expect(normalizeHtu(input)).toBe(output);
  });
});

async function createClientKeyFromJwk(jwk: Record<string, unknown>) {
  const { calculateJwkThumbprint } = await import('jose');
  return { jkt: await calculateJwkThumbprint(jwk as never, 'sha256') };
}

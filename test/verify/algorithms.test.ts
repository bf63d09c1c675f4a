// The verifier's algorithms: EdDSA, ES256 and RS256 by default, each pinned to its key's JWK `alg`,
// whichever key source (local JWKS, remote JWKS, one CryptoKey); `algorithms` only narrows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { SIGNING_ALGS } from '../../src/keys/signing-keys';
import {
  BaseTokenError,
  createBaseTokenVerifier,
  DEFAULT_ALGORITHMS,
  type BaseTokenAlgorithm,
  type BaseTokenErrorCode,
  type BaseTokenVerifier,
  type BaseTokenVerifierOptions,
} from '../../src/verify';
import { BASE_A, ISSUER, NOW, claims, rejection, startJwksServer, type JwksServer } from './helpers';

interface AlgKey {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** As tokenladder publishes it: public members, kid, alg, use. */
  jwk: JWK;
}

async function keyFor(alg: 'EdDSA' | 'ES256' | 'RS256' | 'PS256'): Promise<AlgKey> {
  const options = alg === 'EdDSA' ? { crv: 'Ed25519' } : alg === 'ES256' ? {} : { modulusLength: 2048 };
  const { privateKey, publicKey } = await generateKeyPair(alg, { ...options, extractable: true });
  const raw = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(raw, 'sha256');
  return { alg, kid, privateKey, publicKey, jwk: { ...raw, kid, alg, use: 'sig' } };
}

const ed = await keyFor('EdDSA');
const ec = await keyFor('ES256');
const rsa = await keyFor('RS256');
const KEYS = { EdDSA: ed, ES256: ec, RS256: rsa };
/** The same RSA key under PS256 (for an alg-confusion attempt within one key type). */
const rsaPss = {
  ...rsa,
  privateKey: (await crypto.subtle.importKey(
    'jwk',
    await crypto.subtle.exportKey('jwk', rsa.privateKey),
    { name: 'RSA-PSS', hash: 'SHA-256' },
    false,
    ['sign'],
  )) as CryptoKey,
};

/** A Base-Token signed with `signer` under `alg`, its header naming `kid`. */
const tokenOf = (signer: AlgKey, options: { alg?: string; kid?: string } = {}) =>
  new SignJWT(claims())
    .setProtectedHeader({ alg: options.alg ?? signer.alg, kid: options.kid ?? signer.kid, typ: 'at+jwt' })
    .sign(signer.privateKey);

const withoutAlg = ({ alg: _alg, ...jwk }: JWK): JWK => jwk;

function localVerifier(keys: JWK[], overrides: Partial<BaseTokenVerifierOptions> = {}) {
  return createBaseTokenVerifier({ issuer: ISSUER, jwks: { keys }, currentDate: () => NOW, ...overrides });
}

async function expectCode(v: BaseTokenVerifier, token: string, code: BaseTokenErrorCode) {
  const error = await rejection(v.verify(token, { baseUuid: BASE_A }));
  expect(error).toBeInstanceOf(BaseTokenError);
  expect((error as BaseTokenError).code).toBe(code);
}

describe('default algorithms', () => {
  it('are exactly the algorithms the server signs with', () => {
    expect([...DEFAULT_ALGORITHMS]).toEqual([...SIGNING_ALGS]);
  });

  it.each(Object.values(KEYS))(
    'a default verifier accepts a $alg token over the published keys',
    async (key) => {
      const verifier = localVerifier([ed.jwk, ec.jwk, rsa.jwk]);
      const verified = await verifier.verify(await tokenOf(key), { baseUuid: BASE_A });
      expect(verified.jti).toBe(claims().jti);
    },
  );

  it('`algorithms` narrows: an ES256-only verifier refuses EdDSA and RS256 tokens of published keys', async () => {
    const verifier = localVerifier([ed.jwk, ec.jwk, rsa.jwk], { algorithms: ['ES256'] });
    await expect(verifier.verify(await tokenOf(ec), { baseUuid: BASE_A })).resolves.toBeTruthy();
    await expectCode(verifier, await tokenOf(ed), 'token_signature_invalid');
    await expectCode(verifier, await tokenOf(rsa), 'token_signature_invalid');
  });
});

/**
 * Each row: the JWKS a verifier holds, and a token that must be refused with `token_key_unknown`,
 * although its signature is valid for the key that made it.
 */
const refusals: [string, () => JWK[], () => Promise<string>, BaseTokenAlgorithm[]?][] = [
  ['an RS256 header over an EC key', () => [ec.jwk, rsa.jwk], () => tokenOf(rsa, { kid: ec.kid })],
  ['an RS256 header over an OKP key', () => [ed.jwk, rsa.jwk], () => tokenOf(rsa, { kid: ed.kid })],
  ['an ES256 header over an RSA key', () => [ec.jwk, rsa.jwk], () => tokenOf(ec, { kid: rsa.kid })],
  ['an ES256 header over an OKP key', () => [ed.jwk, ec.jwk], () => tokenOf(ec, { kid: ed.kid })],
  ['an EdDSA header over an EC key', () => [ed.jwk, ec.jwk], () => tokenOf(ed, { kid: ec.kid })],
  ['an RS256 token whose RSA JWK has no alg', () => [withoutAlg(rsa.jwk)], () => tokenOf(rsa)],
  ['an ES256 token whose EC JWK has no alg', () => [withoutAlg(ec.jwk)], () => tokenOf(ec)],
  ['an EdDSA token whose OKP JWK has no alg', () => [withoutAlg(ed.jwk)], () => tokenOf(ed)],
  [
    'a PS256 token (allowed) over a JWK that says RS256, signed by that very RSA key',
    () => [rsa.jwk],
    () => tokenOf(rsaPss, { alg: 'PS256' }),
    ['RS256', 'PS256'],
  ],
  [
    'a PS256 token (allowed) over an RSA JWK without alg',
    () => [withoutAlg(rsa.jwk)],
    () => tokenOf(rsaPss, { alg: 'PS256' }),
    ['RS256', 'PS256'],
  ],
  [
    'a kid published twice, once with the right alg and once without',
    () => [withoutAlg(rsa.jwk), rsa.jwk],
    () => tokenOf(rsa),
  ],
];

describe('each key is pinned to its JWK alg (local JWKS)', () => {
  it.each(refusals)('refuses %s', async (_name, keys, token, algorithms) => {
    await expectCode(localVerifier(keys(), algorithms && { algorithms }), await token(), 'token_key_unknown');
  });

  it('accepts the same tokens once their keys are published with their alg', async () => {
    const verifier = localVerifier([ed.jwk, ec.jwk, rsa.jwk]);
    for (const key of [ed, ec, rsa])
      await expect(verifier.verify(await tokenOf(key), { baseUuid: BASE_A })).resolves.toBeTruthy();
  });
});

describe('each key is pinned to its JWK alg (remote JWKS)', () => {
  let server: JwksServer;
  beforeAll(async () => {
    server = await startJwksServer({ keys: [] });
  });
  afterAll(() => server.close());

  const remoteVerifier = (algorithms?: BaseTokenAlgorithm[]) =>
    createBaseTokenVerifier({
      issuer: ISSUER,
      jwksUrl: server.url,
      currentDate: () => NOW,
      cache: false,
      ...(algorithms && { algorithms }),
    });

  it.each(refusals)('refuses %s', async (_name, keys, token, algorithms) => {
    server.setJwks({ keys: keys() });
    await expectCode(remoteVerifier(algorithms), await token(), 'token_key_unknown');
  });

  it('accepts tokens of all three algorithms from one key set, again and again', async () => {
    server.setJwks({ keys: [ed.jwk, ec.jwk, rsa.jwk] });
    const verifier = remoteVerifier();
    for (let round = 0; round < 2; round += 1)
      for (const key of [ed, ec, rsa])
        await expect(verifier.verify(await tokenOf(key), { baseUuid: BASE_A })).resolves.toBeTruthy();
    // Refused after being accepted: the per-key check is remembered per alg, not per key only.
    await expectCode(verifier, await tokenOf(rsaPss, { alg: 'PS256' }), 'token_signature_invalid');
  });
});

describe('one CryptoKey (`key`)', () => {
  it.each(Object.values(KEYS))(
    'a $alg public key verifies its own tokens and refuses the others',
    async (key) => {
      const verifier = createBaseTokenVerifier({
        issuer: ISSUER,
        key: key.publicKey,
        currentDate: () => NOW,
      });
      await expect(verifier.verify(await tokenOf(key), { baseUuid: BASE_A })).resolves.toBeTruthy();
      // Another algorithm's header over this key: a 401, never jose's TypeError (a 500).
      for (const other of Object.values(KEYS).filter((k) => k !== key))
        await expectCode(verifier, await tokenOf(other, { kid: key.kid }), 'token_key_unknown');
    },
  );

  it('refuses an RSA key under 2048 bits, or a key of no JWS algorithm, at construction', async () => {
    const small = await crypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 1024,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      true,
      ['sign', 'verify'],
    );
    expect(() => createBaseTokenVerifier({ issuer: ISSUER, key: small.publicKey })).toThrow(/2048/);
    const ecdh = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
    expect(() => createBaseTokenVerifier({ issuer: ISSUER, key: ecdh.publicKey })).toThrow(TypeError);
  });
});

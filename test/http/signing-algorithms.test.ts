// The signing algorithm per key (issue 16): TOKENLADDER_SIGNING_ALG chooses EdDSA, ES256 or RS256 for
// new keys, a rotation may name its own, and every token keeps verifying (at @tokenladder/verify and in
// the server itself) until its key leaves the JWKS.
import { readFileSync } from 'node:fs';
import { customFetch, decodeProtectedHeader, SignJWT, type FetchImplementation, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { appConfigFromEnv, parseEnv } from '../../src/config';
import { SIGNING_ALGS, type SigningAlg } from '../../src/keys/signing-keys';
import { BaseTokenError, createBaseTokenVerifier, createRevocationList } from '../../src/verify';
import { START, testApp, type TestApp } from '../helpers/app';
import { basic, GATEWAY, gatewayConfig, postForm } from '../helpers/oauth';

const ISSUER = 'http://tokenladder.test';

/** The members each key type publishes: public ones only, plus kid, alg and use. */
const PUBLIC_MEMBERS: Record<SigningAlg, string[]> = {
  EdDSA: ['alg', 'crv', 'kid', 'kty', 'use', 'x'],
  ES256: ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'],
  RS256: ['alg', 'e', 'kid', 'kty', 'n', 'use'],
};
const KEY_TYPES: Record<SigningAlg, Partial<JWK>> = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  ES256: { kty: 'EC', crv: 'P-256' },
  RS256: { kty: 'RSA', e: 'AQAB' },
};

async function setup(config: Parameters<typeof testApp>[0] = {}) {
  const t = await testApp(config);
  const admin = await t.login();
  const base = await t.createBase(admin, 'Inventory');
  const apiToken = (await t.createApiToken(admin, base, 'nightly', 'r')).token;
  const exchange = async () => {
    const response = await t.call('POST', '/api/v1/base-tokens', { token: apiToken });
    expect(response.status).toBe(201);
    return response.body.base_token as string;
  };
  return { t, admin, base, apiToken, exchange };
}

const jwksOf = async (t: TestApp) => (await t.call('GET', '/.well-known/jwks.json')).body as { keys: JWK[] };
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());

/** @tokenladder/verify with its defaults, fetching the JWKS over HTTP from the app, at the app's time. */
function remoteVerifier(t: TestApp, at: () => Date = () => new Date(t.clock.now())) {
  const viaApp: FetchImplementation = async (url, init) => t.app.request(url.replace(ISSUER, ''), init);
  return createBaseTokenVerifier({
    issuer: ISSUER,
    jwksUrl: `${ISSUER}/.well-known/jwks.json`,
    // Every call reads the JWKS as published now (no key-set or verified-token cache).
    jwksOptions: { [customFetch]: viaApp, cacheMaxAge: 0, cooldownDuration: 0 },
    cache: false,
    currentDate: at,
  });
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(BaseTokenError);
  return (error as BaseTokenError).code;
}

describe('TOKENLADDER_SIGNING_ALG', () => {
  it('is EdDSA unless set, takes ES256 and RS256, and refuses anything else naming the variable', () => {
    expect(appConfigFromEnv(parseEnv({})).signingAlg).toBe('EdDSA');
    for (const alg of SIGNING_ALGS)
      expect(appConfigFromEnv(parseEnv({ TOKENLADDER_SIGNING_ALG: alg })).signingAlg).toBe(alg);
    for (const bad of ['HS256', 'none', 'es256', 'PS256', 'ES384', 'Ed25519', 'EdDSA ', 'RS256,ES256'])
      expect(() => parseEnv({ TOKENLADDER_SIGNING_ALG: bad })).toThrow(
        /TOKENLADDER_SIGNING_ALG: must be one of EdDSA, ES256, RS256/,
      );
  });
});

describe.each(['ES256', 'RS256'] as const)('a server configured with %s', (alg) => {
  it('makes its first key of that algorithm, publishes only its public members, and says so in server-info', async () => {
    const { t, admin } = await setup({ config: { signingAlg: alg } });
    const { keys } = await jwksOf(t);
    expect(keys).toHaveLength(1);
    expect(Object.keys(keys[0]!).sort()).toEqual(PUBLIC_MEMBERS[alg]);
    expect(keys[0]).toMatchObject({ ...KEY_TYPES[alg], alg, use: 'sig' });
    if (alg === 'RS256') expect(Buffer.from(keys[0]!.n!, 'base64url')).toHaveLength(256); // 2048 bits
    expect((await t.api(admin).GET('/api/v1/keys')).data!.keys).toMatchObject([{ alg, state: 'current' }]);
    const info = await t.api().GET('/api/v1/server-info');
    expect(info.data!.base_token.algorithm).toBe(alg);
  });

  it('signs Base-Tokens that @tokenladder/verify accepts with its defaults', async () => {
    const { t, base, exchange } = await setup({ config: { signingAlg: alg } });
    const jwt = await exchange();
    const { keys } = await jwksOf(t);
    expect(decodeProtectedHeader(jwt)).toEqual({ alg, kid: keys[0]!.kid, typ: 'at+jwt' });
    const claims = await remoteVerifier(t).verify(jwt, { baseUuid: base });
    expect(claims).toMatchObject({ base_uuid: base, permission: 'r', jti: claimsOf(jwt).jti });
  });

  it('revokes one of its Base-Tokens: the jti reaches the feed, and a verifier reading it refuses the token', async () => {
    const { t, base, exchange } = await setup({ config: { signingAlg: alg } });
    const jwt = await exchange();
    const answer = await t.call('POST', '/api/v1/base-tokens/revoke', { body: { token: jwt } });
    expect(answer).toMatchObject({ status: 200, body: { received: 1 } });
    const feed = (await t.call('GET', '/api/v1/revocations')).body.revocations;
    expect(feed).toEqual([expect.objectContaining({ kind: 'jti', value: claimsOf(jwt).jti })]);

    const revocations = createRevocationList({
      url: `${ISSUER}/api/v1/revocations`,
      fetch: async (input, init) => t.app.request(String(input).replace(ISSUER, ''), init),
      currentDate: () => new Date(t.clock.now()),
    });
    await revocations.sync();
    const verifier = createBaseTokenVerifier({
      issuer: ISSUER,
      jwks: await t.deps.keys.jwks(),
      currentDate: () => new Date(t.clock.now()),
      revocations,
    });
    expect(await refusal(verifier.verify(jwt, { baseUuid: base }))).toBe('token_revoked');
    // A fresh token of the same key still verifies.
    await expect(verifier.verify(await exchange(), { baseUuid: base })).resolves.toBeTruthy();
  });

  it('issues SeaTable temporary API-Tokens with that key, and exchanges them for Base-Tokens of that algorithm', async () => {
    const { t, admin, base } = await setup({ config: { signingAlg: alg } });
    const workspace = (await t.call('GET', '/api/v1/workspaces', { token: admin })).body.workspaces[0].id;
    const seatable = async (path: string, token: string) => {
      const response = await t.app.request(path, { headers: { authorization: `Token ${token}` } });
      return { status: response.status, body: await response.json() };
    };
    const temp = await seatable(`/api/v2.1/workspace/${workspace}/dtable/Inventory/temp-api-token/`, admin);
    expect(temp.status).toBe(200);
    expect(decodeProtectedHeader(temp.body.api_token)).toMatchObject({ alg });

    const exchanged = await seatable('/api/v2.1/dtable/app-access-token/', temp.body.api_token);
    expect(exchanged).toMatchObject({ status: 200, body: { dtable_uuid: base } });
    expect(decodeProtectedHeader(exchanged.body.access_token)).toMatchObject({ alg, typ: 'at+jwt' });
    await expect(
      remoteVerifier(t).verify(exchanged.body.access_token, { baseUuid: base }),
    ).resolves.toBeTruthy();

    // Revoked like any token of ours: it reaches the feed, and exchanges no more.
    await t.call('POST', '/api/v1/base-tokens/revoke', { body: { token: temp.body.api_token } });
    expect((await t.call('GET', '/api/v1/revocations')).body.revocations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'jti', value: claimsOf(temp.body.api_token).jti }),
      ]),
    );
    expect((await seatable('/api/v2.1/dtable/app-access-token/', temp.body.api_token)).status).toBe(401);
  });

  it('answers OAuth introspection (RFC 7662) for its Base-Tokens, and names its algorithms in the metadata', async () => {
    const { t, base, exchange } = await setup({ config: { signingAlg: alg, ...gatewayConfig } });
    const jwt = await exchange();
    const answer = await postForm(
      t,
      '/oauth/introspect',
      { token: jwt },
      {
        authorization: basic(GATEWAY.id, GATEWAY.secret),
      },
    );
    expect(answer.body).toMatchObject({ active: true, jti: claimsOf(jwt).jti, base_uuid: base });
    const metadata = await (await t.app.request('/.well-known/oauth-authorization-server')).json();
    expect(metadata.access_token_signing_alg_values_supported).toEqual([...SIGNING_ALGS]);
  });

  it('its Base-Tokens match the secret-scanner pattern docs/security.md publishes', async () => {
    const { exchange } = await setup({ config: { signingAlg: alg } });
    const security = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
    const pattern = new RegExp(/\| Base-Token \(JWT\) \| `(\\b[^`]+)`/.exec(security)![1]!);
    const jwt = await exchange();
    expect(pattern.exec(`export TOKEN="${jwt}" # oops`)?.[0]).toBe(jwt);
  });

  it('rotates with no alg to a new key of the configured algorithm', async () => {
    const { t, admin } = await setup({ config: { signingAlg: alg } });
    const rotated = await t.api(admin).POST('/api/v1/keys/rotate', { body: {} });
    expect(rotated.response.status).toBe(201);
    expect(rotated.data!.alg).toBe(alg);
    expect((await jwksOf(t)).keys.map((key) => key.alg)).toEqual([alg, alg]);
  });
});

describe('rotation across algorithms: EdDSA → ES256 → RS256 → EdDSA', () => {
  const TTL = 600;
  const DELAY = 60;

  it('publishes each new key with its alg, signs with it after the delay, and verifies each old key’s tokens until it leaves the JWKS', async () => {
    const { t, admin, base, exchange } = await setup({ config: { baseTokenTtlSeconds: TTL } });
    const tokens: { alg: string; jwt: string; kid: string }[] = [];
    const issue = async (alg: string) => {
      const jwt = await exchange();
      const header = decodeProtectedHeader(jwt);
      expect(header.alg).toBe(alg);
      tokens.push({ alg, jwt, kid: header.kid! });
    };

    await issue('EdDSA');
    for (const alg of ['ES256', 'RS256', 'EdDSA'] as const) {
      const rotated = await t.api(admin).POST('/api/v1/keys/rotate', {
        body: { alg, activate_after_seconds: DELAY },
      });
      expect(rotated.data).toMatchObject({ alg, state: 'next' });
      const published = (await jwksOf(t)).keys;
      expect(published.at(-1)).toMatchObject({ kid: rotated.data!.kid, alg, use: 'sig' });
      expect(Object.keys(published.at(-1)!).sort()).toEqual(PUBLIC_MEMBERS[alg]);
      t.clock.advance(DELAY);
      await issue(alg);
    }
    expect((await t.api(admin).GET('/api/v1/keys')).data!.keys.map((key) => [key.alg, key.state])).toEqual([
      ['EdDSA', 'retired'],
      ['ES256', 'retired'],
      ['RS256', 'retired'],
      ['EdDSA', 'current'],
    ]);
    expect((await t.api().GET('/api/v1/server-info')).data!.base_token.algorithm).toBe('EdDSA');

    // Now (3 minutes in) every token is live and every key published: all four verify, as they are.
    const verifier = remoteVerifier(t);
    for (const { jwt } of tokens)
      await expect(verifier.verify(jwt, { baseUuid: base })).resolves.toBeTruthy();
    // And the server itself still knows every one of them: revoking the first key's token works.
    await t.call('POST', '/api/v1/base-tokens/revoke', { body: { token: tokens[0]!.jwt } });
    expect((await t.call('GET', '/api/v1/revocations')).body.revocations).toEqual([
      expect.objectContaining({ kind: 'jti', value: claimsOf(tokens[0]!.jwt).jti }),
    ]);

    // Each retired key leaves the JWKS TTL + 60 s after it retired. Judged at each token's own issue
    // time (so expiry is not the reason), a token verifies exactly while its key is published.
    const atIssue = (jwt: string) => remoteVerifier(t, () => new Date((claimsOf(jwt).iat + 1) * 1000));
    const retiredAt = [DELAY, 2 * DELAY, 3 * DELAY];
    for (const [index, retired] of retiredAt.entries()) {
      const leaves = START / 1000 + retired + TTL + 60;
      t.clock.advance(leaves - 1 - t.clock.now() / 1000);
      for (const { jwt } of tokens.slice(index))
        await expect(atIssue(jwt).verify(jwt, { baseUuid: base })).resolves.toBeTruthy();
      t.clock.advance(1);
      expect((await jwksOf(t)).keys.map((key) => key.kid)).not.toContain(tokens[index]!.kid);
      expect(await refusal(atIssue(tokens[index]!.jwt).verify(tokens[index]!.jwt, { baseUuid: base }))).toBe(
        'token_key_unknown',
      );
      for (const { jwt } of tokens.slice(index + 1))
        await expect(atIssue(jwt).verify(jwt, { baseUuid: base })).resolves.toBeTruthy();
    }
    expect((await jwksOf(t)).keys.map((key) => key.alg)).toEqual(['EdDSA']);
  });

  it('rotates at once (revoke_old) from EdDSA to RS256: the old key and its tokens are gone, the new one signs', async () => {
    const { t, admin, base, exchange } = await setup();
    const old = await exchange();
    const rotated = await t
      .api(admin)
      .POST('/api/v1/keys/rotate', { body: { alg: 'RS256', revoke_old: true } });
    expect(rotated.data).toMatchObject({ alg: 'RS256', state: 'current' });
    expect((await jwksOf(t)).keys.map((key) => key.alg)).toEqual(['RS256']);
    expect(await refusal(remoteVerifier(t).verify(old, { baseUuid: base }))).toBe('token_key_unknown');
    await expect(remoteVerifier(t).verify(await exchange(), { baseUuid: base })).resolves.toBeTruthy();
  });
});

describe('refusals', () => {
  it('a rotation naming an algorithm we do not sign with is 400 and changes nothing', async () => {
    const { t, admin } = await setup();
    const before = await t.digest();
    for (const alg of ['HS256', 'none', 'es256', 'PS256', 'ES384', 'Ed25519', '', 256, null, ['ES256']]) {
      const answer = await t.call('POST', '/api/v1/keys/rotate', { token: admin, body: { alg } });
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('invalid_request');
    }
    expect(await t.digest()).toBe(before);
  });

  it('the server refuses its own key under another alg: a token whose header says ES256 over the EdDSA key is not revocable and changes nothing', async () => {
    const { t, admin, base, exchange } = await setup();
    const eddsaKid = (await jwksOf(t)).keys[0]!.kid!;
    await t
      .api(admin)
      .POST('/api/v1/keys/rotate', { body: { alg: 'ES256', revoke_old: false, activate_after_seconds: 0 } });
    await exchange(); // promotes the ES256 key
    const es256 = await t.deps.keys.current();
    expect(es256.alg).toBe('ES256');
    // Signed by our real ES256 key, but naming the (still published) EdDSA key.
    const confused = await new SignJWT(claimsOf(await exchange()))
      .setProtectedHeader({ alg: 'ES256', kid: eddsaKid, typ: 'at+jwt' })
      .sign(es256.privateKey);
    const before = await t.digest();
    expect((await t.call('POST', '/api/v1/base-tokens/revoke', { body: { token: confused } })).status).toBe(
      200,
    );
    expect(await t.digest()).toBe(before);
    expect(await refusal(remoteVerifier(t).verify(confused, { baseUuid: base }))).toBe('token_key_unknown');
  });
});

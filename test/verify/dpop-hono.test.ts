// DPoP through the Hono helper: `Authorization: DPoP <token>` + `DPoP: <proof>`, challenges per RFC 9449
// §7.1, a bound token sent as Bearer, the public URL behind a proxy, and proofs made by an independent
// client library (oauth4webapi) accepted end to end.
import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import * as oauth from 'oauth4webapi';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { createBaseTokenVerifier, type BaseTokenVerifier } from '../../src/verify';
import { baseTokenAuth, type BaseTokenAuthOptions, type BaseTokenEnv } from '../../src/verify/hono';
import { BASE_A, ISSUER, NOW, claims, createTestKey, jwksOf, sign } from './helpers';
import { RESOURCE_URL, createClientKey, makeProof } from './dpop-helpers';

const issuerKey = await createTestKey();
const client = await createClientKey('ES256');
const PATH = new URL(RESOURCE_URL).pathname;

function appWith(verifier: BaseTokenVerifier, options: BaseTokenAuthOptions = {}) {
  return new Hono<BaseTokenEnv>().get(
    '/bases/:base_uuid/rows',
    baseTokenAuth(verifier, { baseUuid: (c) => c.req.param('base_uuid'), ...options }),
    (c) => c.json({ sub: c.var.baseToken.sub, jkt: c.var.baseToken.cnf?.jkt ?? null }),
  );
}
const frozenVerifier = () =>
  createBaseTokenVerifier({ issuer: ISSUER, jwks: jwksOf(issuerKey), currentDate: () => NOW });
const boundToken = () => sign(issuerKey, { claims: claims({ cnf: { jkt: client.jkt } }) });

async function call(app: Hono<BaseTokenEnv>, headers: Record<string, string>, url = RESOURCE_URL) {
  const res = await app.request(url, { headers });
  const body = (await res.json()) as { error?: { code: string }; sub?: string; jkt?: string };
  return { status: res.status, challenge: res.headers.get('WWW-Authenticate'), body };
}

describe('baseTokenAuth with DPoP', () => {
  it('accepts a DPoP-bound token with a valid proof (scheme case-insensitive)', async () => {
    const app = appWith(frozenVerifier());
    const token = await boundToken();
    for (const scheme of ['DPoP', 'dpop']) {
      const res = await call(app, {
        Authorization: `${scheme} ${token}`,
        DPoP: await makeProof(client, { token }),
      });
      expect(res).toMatchObject({ status: 200, body: { sub: 'user-1', jkt: client.jkt } });
    }
  });

  it('refuses a bound token sent as Bearer, with a DPoP challenge', async () => {
    const app = appWith(frozenVerifier());
    const token = await boundToken();
    const res = await call(app, {
      Authorization: `Bearer ${token}`,
      DPoP: await makeProof(client, { token }),
    });
    expect(res.status).toBe(401);
    expect(res.body.error?.code).toBe('dpop_binding_required');
    expect(res.challenge).toBe('DPoP error="invalid_token", algs="EdDSA Ed25519 ES256"');
  });

  it.each([
    ['no DPoP header', async (_token: string) => undefined, 'dpop_proof_missing'],
    [
      'a replay-free but wrong-method proof',
      (token: string) => makeProof(client, { token, htm: 'POST' }),
      'dpop_method_mismatch',
    ],
    [
      'a proof for another URL',
      (token: string) => makeProof(client, { token, htu: `${RESOURCE_URL}/x` }),
      'dpop_url_mismatch',
    ],
  ])('answers a proof failure (%s) with error="invalid_dpop_proof"', async (_case, proofOf, code) => {
    const app = appWith(frozenVerifier());
    const token = await boundToken();
    const proof = await proofOf(token);
    const res = await call(app, { Authorization: `DPoP ${token}`, ...(proof && { DPoP: proof }) });
    expect(res.status).toBe(401);
    expect(res.body.error?.code).toBe(code);
    expect(res.challenge).toBe('DPoP error="invalid_dpop_proof", algs="EdDSA Ed25519 ES256"');
  });

  it('refuses a replayed proof at the second request', async () => {
    const app = appWith(frozenVerifier());
    const token = await boundToken();
    const headers = { Authorization: `DPoP ${token}`, DPoP: await makeProof(client, { token }) };
    expect((await call(app, headers)).status).toBe(200);
    expect(await call(app, headers)).toMatchObject({
      status: 401,
      body: { error: { code: 'dpop_proof_replayed' } },
    });
  });

  it('refuses an unbound token sent with the DPoP scheme (invalid_token)', async () => {
    const app = appWith(frozenVerifier());
    const token = await sign(issuerKey);
    const res = await call(app, { Authorization: `DPoP ${token}`, DPoP: await makeProof(client, { token }) });
    expect(res).toMatchObject({ status: 401, body: { error: { code: 'dpop_token_unbound' } } });
    expect(res.challenge).toBe('DPoP error="invalid_token", algs="EdDSA Ed25519 ES256"');
    // Still fine as Bearer, with the Bearer challenges unchanged.
    expect((await call(app, { Authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('advertises DPoP next to Bearer for a request without credentials when the option is set', async () => {
    expect((await call(appWith(frozenVerifier()), {})).challenge).toBe('Bearer realm="tokenladder"');
    const res = await call(appWith(frozenVerifier(), { dpop: {} }), {});
    expect(res.challenge).toBe('Bearer realm="tokenladder", DPoP algs="EdDSA Ed25519 ES256"');
    const narrowed = createBaseTokenVerifier({
      issuer: ISSUER,
      jwks: jwksOf(issuerKey),
      dpop: { algorithms: ['ES256'] },
    });
    expect((await call(appWith(narrowed, { dpop: {} }), {})).challenge).toBe(
      'Bearer realm="tokenladder", DPoP algs="ES256"',
    );
  });

  it('behind a proxy, checks htu against the public URL given by dpop.url', async () => {
    const token = await boundToken();
    const internal = `http://10.0.0.5:3000${PATH}?limit=5`;
    // Without the option the service sees its internal URL, which the client never signed: refused.
    const plain = appWith(frozenVerifier());
    const refused = await call(
      plain,
      { Authorization: `DPoP ${token}`, DPoP: await makeProof(client, { token }) },
      internal,
    );
    expect(refused.body.error?.code).toBe('dpop_url_mismatch');
    const proxied = appWith(frozenVerifier(), {
      dpop: { url: (c) => `https://rows.example${new URL(c.req.url).pathname}` },
    });
    const res = await call(
      proxied,
      { Authorization: `DPoP ${token}`, DPoP: await makeProof(client, { token }) },
      internal,
    );
    expect(res.status).toBe(200);
  });

  it('includes error_description and resource_metadata in DPoP challenges with protectedResource', async () => {
    const app = appWith(frozenVerifier(), {
      protectedResource: {
        resource: 'https://rows.example/bases/:base_uuid',
        authorizationServers: [ISSUER],
      },
    });
    const token = await boundToken();
    const res = await call(app, {
      Authorization: `DPoP ${token}`,
      DPoP: await makeProof(client, { token, htm: 'PUT' }),
    });
    expect(res.challenge).toBe(
      `DPoP error="invalid_dpop_proof", error_description="The DPoP proof is for another method.", algs="EdDSA Ed25519 ES256", resource_metadata="https://rows.example/.well-known/oauth-protected-resource/bases/${BASE_A}"`,
    );
  });
});

describe('proofs made by oauth4webapi (an independent implementation)', () => {
  it.each(['ES256', 'EdDSA'] as const)(
    'accepts its %s proofs for a protected-resource request',
    async (alg) => {
      // oauth4webapi stamps proofs with the real clock, so this verifier and token use it too.
      const keyPair = await generateKeyPair(alg, { extractable: false });
      const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256');
      const now = Math.floor(Date.now() / 1000);
      const token = await sign(issuerKey, { claims: claims({ cnf: { jkt }, iat: now, exp: now + 3600 }) });
      const app = appWith(createBaseTokenVerifier({ issuer: ISSUER, jwks: jwksOf(issuerKey) }), { dpop: {} });
      // oauth4webapi's fetch hook, handing its request to the app in process (GET: no body).
      const toApp = async (
        url: string,
        init: { method: string; headers: Record<string, string>; redirect: RequestRedirect },
      ) => app.request(url, { method: init.method, headers: init.headers, redirect: init.redirect });
      const dpop = oauth.DPoP({}, keyPair);
      expect(await dpop.calculateThumbprint()).toBe(jkt);
      const send = (url: string) =>
        oauth.protectedResourceRequest(token, 'GET', new URL(url), undefined, undefined, {
          DPoP: dpop,
          [oauth.customFetch]: toApp,
        });
      const res = await send(`${RESOURCE_URL}?limit=10`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ sub: 'user-1', jkt });
      // Its proofs carry a fresh jti each time: a second request passes too; another client's key does not.
      expect((await send(RESOURCE_URL)).status).toBe(200);
      const stranger = oauth.DPoP({}, await generateKeyPair(alg));
      // oauth4webapi throws on a 401 challenge; the response and its parsed challenge ride along.
      const error = await oauth
        .protectedResourceRequest(token, 'GET', new URL(RESOURCE_URL), undefined, undefined, {
          DPoP: stranger,
          [oauth.customFetch]: toApp,
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
      const challengeError = error as oauth.WWWAuthenticateChallengeError;
      expect(challengeError.cause[0]).toMatchObject({
        scheme: 'dpop',
        parameters: { error: 'invalid_dpop_proof', algs: 'EdDSA Ed25519 ES256' },
      });
      const body = (await challengeError.response.json()) as { error: { code: string } };
      expect(body.error.code).toBe('dpop_key_mismatch');
    },
  );
});

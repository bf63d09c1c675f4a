import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintOpaqueToken } from '../../src/tokens/opaque';
import { d1Digest } from '../helpers/db-digest';
import { call, verifyBaseToken, walkChain, type Chain, type Target } from '../scenarios/chain';
import { applyMigrationsWithWrangler, startWorkerd, type TestD1 } from './harness';

/** The resource server that may introspect, configured the way an operator would: id and SHA-256 of its secret. */
const GATEWAY = { id: 'gateway', secret: 'a-gateway-secret-only-this-test-knows' };
const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');
const basic = (id: string, secret: string) =>
  `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;

/** The D1 digest; last_used_at is left out because the real clock may cross a minute. */
const d1Rows = (db: TestD1) => d1Digest(db, { ignoreColumns: ['last_used_at'] });

/**
 * The OAuth endpoints (issue 16) through src/worker.ts on D1: the same routes as on Node, so this is
 * one pass over what the Workers runtime could break (form bodies, Basic decoding, the feed on D1),
 * not the behaviour suite (test/http).
 */
describe('OAuth endpoints inside workerd, on D1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-workerd-oauth-'));
  let run: Awaited<ReturnType<typeof startWorkerd>>;
  let target: Target;
  let chain: Chain;

  const form = (path: string, params: Record<string, string>, authorization?: string) =>
    call(target, 'POST', path, {
      body: new URLSearchParams(params).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(authorization !== undefined && { authorization }),
      },
    });
  const introspect = (token: string) =>
    form('/oauth/introspect', { token }, basic(GATEWAY.id, GATEWAY.secret));
  const clientCredentials = (secret = chain.apiToken.token) =>
    form('/oauth/token', { grant_type: 'client_credentials' }, basic(chain.apiToken.id, secret));

  beforeAll(async () => {
    await applyMigrationsWithWrangler(dir);
    run = await startWorkerd(dir, [
      {
        name: 'tokenladder',
        env: { TOKENLADDER_INTROSPECTION_CLIENTS: `${GATEWAY.id}:${sha256Hex(GATEWAY.secret)}` },
      },
    ]);
    target = run.target();
    chain = await walkChain(target);
  }, 60_000);
  afterAll(async () => {
    await run?.mf.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes the authorization server metadata at the issuer; no revocation stream on Workers', async () => {
    const metadata = await call(target, 'GET', '/.well-known/oauth-authorization-server');
    expect(metadata.status).toBe(200);
    expect(metadata.body).toMatchObject({
      issuer: target.origin,
      token_endpoint: `${target.origin}/oauth/token`,
      revocation_endpoint: `${target.origin}/oauth/revoke`,
      introspection_endpoint: `${target.origin}/oauth/introspect`,
      jwks_uri: `${target.origin}/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'],
      tokenladder_revocations_endpoint: `${target.origin}/api/v1/revocations`,
    });
    expect(metadata.body).not.toHaveProperty('tokenladder_revocations_stream_endpoint');
  });

  it('issues Base-Tokens by client credentials (Basic) and by token exchange of an Account-Token with a resource', async () => {
    const issued = await clientCredentials();
    expect([issued.status, issued.headers.get('cache-control')]).toEqual([200, 'no-store']);
    expect(issued.body.token_type).toBe('Bearer');
    // A read-only API-Token: its RFC 9068 scope string grants reads and no writes.
    expect(issued.body.scope.split(' ')).toEqual(expect.arrayContaining(['base:r', 'records:read']));
    expect(issued.body.scope).not.toMatch(/write|:rw\b/);
    expect(issued.body.expires_in).toBeGreaterThan(0);
    const claims = await verifyBaseToken(target, issued.body.access_token, chain.baseUuid);
    expect(claims).toMatchObject({ client_id: chain.apiToken.id, sub: chain.claims.sub });

    const exchanged = await form('/oauth/token', {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: chain.accountToken,
      subject_token_type: 'urn:tokenladder:token-type:account_token',
      resource: `urn:tokenladder:base:${chain.baseUuid}`,
    });
    expect(exchanged.status, JSON.stringify(exchanged.body)).toBe(200);
    expect(exchanged.body.issued_token_type).toBe('urn:ietf:params:oauth:token-type:access_token');
    await verifyBaseToken(target, exchanged.body.access_token, chain.baseUuid);
  });

  it('introspects a Base-Token as active (also the check form), revokes it by /oauth/revoke into the feed, then introspects it as inactive', async () => {
    const jwt = (await clientCredentials()).body.access_token as string;
    const { jti } = decodeJwt(jwt);
    const before = await introspect(jwt);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({
      active: true,
      client_id: chain.apiToken.id,
      aud: `urn:tokenladder:base:${chain.baseUuid}`,
      jti,
      tokenladder_token_kind: 'base_token',
    });
    // An API-Token too (what a gateway in front of the native API would ask about).
    expect((await introspect(chain.apiToken.token)).body).toMatchObject({
      active: true,
      tokenladder_token_kind: 'api_token',
    });

    // The status-code form for nginx's auth_request.
    const check = () =>
      call(target, 'GET', '/oauth/introspect/check', {
        token: jwt,
        headers: { 'tokenladder-client-authorization': basic(GATEWAY.id, GATEWAY.secret) },
      });
    const allowed = await check();
    expect([allowed.status, allowed.headers.get('tokenladder-client-id')]).toEqual([204, chain.apiToken.id]);

    const revoked = await form('/oauth/revoke', { token: jwt });
    expect([revoked.status, revoked.body]).toEqual([200, null]);
    const feed = await call(target, 'GET', '/api/v1/revocations');
    expect(feed.body.revocations).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'jti', value: jti })]),
    );
    expect((await introspect(jwt)).body).toEqual({ active: false });
    expect((await check()).status).toBe(401);
  });

  it('refuses a wrong client secret with 401 invalid_client, changing nothing', async () => {
    const db = await run.db();
    const jwt = (await clientCredentials()).body.access_token as string;
    const digest = await d1Rows(db);

    // Well-formed, the right id, another secret: it passes the checksum and reaches the D1 lookup.
    const wrongSecret = (await mintOpaqueToken('api', chain.apiToken.id)).token;
    const refused = await clientCredentials(wrongSecret);
    expect([refused.status, refused.body.error]).toEqual([401, 'invalid_client']);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Basic /);
    // Revocation with wrong client credentials: refused, and the token it names stays active.
    const revoke = await form('/oauth/revoke', { token: jwt }, basic(chain.apiToken.id, wrongSecret));
    expect([revoke.status, revoke.body.error]).toEqual([401, 'invalid_client']);
    const gateway = await form('/oauth/introspect', { token: jwt }, basic(GATEWAY.id, 'not-the-secret'));
    expect([gateway.status, gateway.body.error]).toEqual([401, 'invalid_client']);

    expect(await d1Rows(db)).toBe(digest);
    expect((await introspect(jwt)).body.active).toBe(true);
  });
});

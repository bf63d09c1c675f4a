// Issue 16: every refusal of the OAuth endpoints, in RFC 6749's shape with the right status, never a
// 500, and nothing changed (every table but the audit log and the throttle counters, which refusals
// are meant to write). Also run on PostgreSQL (the `postgres` project).
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from '../helpers/app';
import {
  ACCOUNT_TOKEN_TYPE,
  API_TOKEN_TYPE,
  basic,
  GATEWAY,
  gatewayConfig,
  postForm,
  TOKEN_EXCHANGE,
} from '../helpers/oauth';

interface Case {
  name: string;
  path?: string;
  /** The form; a string is sent as is. */
  form: (w: World) => Record<string, string> | string;
  headers?: (w: World) => Record<string, string>;
  status: number;
  error: string;
}

interface World {
  crm: string;
  wiki: string;
  admin: string;
  bot: { id: string; token: string };
  reader: { id: string; token: string };
  disabled: { id: string; token: string };
  stranger: string;
}

const cc = (w: World, extra: Record<string, string> = {}) => ({
  grant_type: 'client_credentials',
  client_id: w.bot.id,
  client_secret: w.bot.token,
  ...extra,
});
const exchange = (w: World, extra: Record<string, string> = {}) => ({
  grant_type: TOKEN_EXCHANGE,
  subject_token: w.bot.token,
  subject_token_type: API_TOKEN_TYPE,
  ...extra,
});

const CASES: Case[] = [
  {
    name: 'JSON sent to the form endpoint',
    form: () => '{"grant_type":"client_credentials"}',
    headers: () => ({ 'content-type': 'application/json' }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'no Content-Type',
    form: () => 'grant_type=client_credentials',
    headers: () => ({ 'content-type': '' }),
    status: 400,
    error: 'invalid_request',
  },
  { name: 'no grant_type', form: () => ({ client_id: 'x' }), status: 400, error: 'invalid_request' },
  {
    name: 'an unsupported grant',
    form: () => ({ grant_type: 'password', username: 'a', password: 'b' }),
    status: 400,
    error: 'unsupported_grant_type',
  },
  {
    name: 'grant_type twice',
    form: (w) => `${new URLSearchParams(cc(w))}&grant_type=client_credentials`,
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'scope twice',
    form: (w) => `${new URLSearchParams(cc(w, { scope: 'base:r' }))}&scope=base:rw`,
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'client_secret twice',
    form: (w) => `${new URLSearchParams(cc(w))}&client_secret=${w.bot.token}`,
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'more than 32 parameters',
    form: (w) => `${new URLSearchParams(cc(w))}${'&x=1'.repeat(40)}`,
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'a malformed form (bad percent-encoding is read as text, then refused as a secret)',
    form: () => 'grant_type=client_credentials&client_id=%zz&client_secret=%E0%A4%A',
    status: 400,
    error: 'invalid_client',
  },
  {
    name: 'HTTP Basic and client_secret in the form',
    form: (w) => cc(w),
    headers: (w) => ({ authorization: basic(w.bot.id, w.bot.token) }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'malformed HTTP Basic',
    form: () => ({ grant_type: 'client_credentials' }),
    headers: () => ({ authorization: 'Basic !!!' }),
    status: 401,
    error: 'invalid_client',
  },
  {
    name: 'Basic without a colon',
    form: () => ({ grant_type: 'client_credentials' }),
    headers: () => ({ authorization: `Basic ${btoa('nocolon')}` }),
    status: 401,
    error: 'invalid_client',
  },
  {
    name: 'a Bearer header instead of client authentication',
    form: () => ({ grant_type: 'client_credentials' }),
    headers: (w) => ({ authorization: `Bearer ${w.bot.token}` }),
    status: 401,
    error: 'invalid_client',
  },
  {
    name: 'client credentials without a secret',
    form: (w) => ({ grant_type: 'client_credentials', client_id: w.bot.id }),
    status: 401,
    error: 'invalid_client',
  },
  {
    name: 'a wrong secret for a real id',
    form: (w) =>
      cc(w, { client_secret: `${w.bot.token.slice(0, 20)}${'a'.repeat(w.bot.token.length - 20)}` }),
    status: 400,
    error: 'invalid_client',
  },
  {
    name: "client_id not the API-Token's id",
    form: (w) => cc(w, { client_id: w.reader.id }),
    status: 400,
    error: 'invalid_client',
  },
  {
    name: 'an Account-Token as client secret',
    form: (w) => ({ grant_type: 'client_credentials', client_secret: w.admin }),
    status: 400,
    error: 'invalid_client',
  },
  {
    name: 'a disabled API-Token',
    form: (w) => ({
      grant_type: 'client_credentials',
      client_id: w.disabled.id,
      client_secret: w.disabled.token,
    }),
    status: 400,
    error: 'invalid_client',
  },
  {
    name: 'two resources',
    form: (w) =>
      `${new URLSearchParams(cc(w))}&resource=urn:tokenladder:base:${w.crm}&resource=urn:tokenladder:base:${w.wiki}`,
    status: 400,
    error: 'invalid_target',
  },
  {
    name: 'resource and a different audience',
    form: (w) =>
      cc(w, { resource: `urn:tokenladder:base:${w.crm}`, audience: `urn:tokenladder:base:${w.wiki}` }),
    status: 400,
    error: 'invalid_target',
  },
  {
    name: 'an unknown resource',
    form: (w) => cc(w, { resource: 'https://evil.example/bases/x' }),
    status: 400,
    error: 'invalid_target',
  },
  {
    name: 'a resource URL with something after the uuid',
    form: (w) => cc(w, { resource: `https://bases.example.com/bases/${w.crm}/rows` }),
    status: 400,
    error: 'invalid_target',
  },
  {
    name: "a base outside the token's scope",
    form: (w) => cc(w, { resource: `urn:tokenladder:base:${w.wiki}` }),
    status: 400,
    error: 'invalid_target',
  },
  {
    name: 'more scope than granted',
    form: (w) => ({
      grant_type: 'client_credentials',
      client_id: w.reader.id,
      client_secret: w.reader.token,
      scope: 'records:write',
    }),
    status: 400,
    error: 'invalid_scope',
  },
  {
    name: 'admin asked of an rw token',
    form: (w) => cc(w, { scope: 'base:admin' }),
    status: 400,
    error: 'invalid_scope',
  },
  {
    name: 'an unknown scope value',
    form: (w) => cc(w, { scope: 'records:read offline_access' }),
    status: 400,
    error: 'invalid_scope',
  },
  {
    name: 'two tables',
    form: (w) => cc(w, { scope: 'table:a table:b' }),
    status: 400,
    error: 'invalid_scope',
  },
  {
    name: 'token exchange without subject_token_type',
    form: (w) => ({ grant_type: TOKEN_EXCHANGE, subject_token: w.bot.token }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'token exchange without subject_token',
    form: () => ({ grant_type: TOKEN_EXCHANGE, subject_token_type: API_TOKEN_TYPE }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'an unknown subject_token_type',
    form: (w) => exchange(w, { subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'a subject_token_type that does not match the token',
    form: (w) => exchange(w, { subject_token_type: ACCOUNT_TOKEN_TYPE }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'an actor_token',
    form: (w) => exchange(w, { actor_token: w.admin, actor_token_type: ACCOUNT_TOKEN_TYPE }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'a client secret with token exchange',
    form: (w) => exchange(w, { client_id: w.bot.id, client_secret: w.bot.token }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'a refresh token asked for',
    form: (w) => exchange(w, { requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'a garbage subject token',
    form: () => ({
      grant_type: TOKEN_EXCHANGE,
      subject_token: 'garbage',
      subject_token_type: API_TOKEN_TYPE,
    }),
    status: 400,
    error: 'invalid_grant',
  },
  {
    name: 'a disabled subject token',
    form: (w) => exchange(w, { subject_token: w.disabled.token }),
    status: 400,
    error: 'invalid_grant',
  },
  {
    name: 'an Account-Token without a resource',
    form: (w) => ({
      grant_type: TOKEN_EXCHANGE,
      subject_token: w.admin,
      subject_token_type: ACCOUNT_TOKEN_TYPE,
    }),
    status: 400,
    error: 'invalid_target',
  },
  {
    name: 'an Account-Token for a base its user is not a member of',
    form: (w) => ({
      grant_type: TOKEN_EXCHANGE,
      subject_token: w.stranger,
      subject_token_type: ACCOUNT_TOKEN_TYPE,
      resource: `urn:tokenladder:base:${w.crm}`,
    }),
    status: 400,
    error: 'invalid_target',
  },
  {
    name: 'revoke without a token',
    path: '/oauth/revoke',
    form: () => ({ token_type_hint: 'access_token' }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'revoke with wrong client credentials',
    path: '/oauth/revoke',
    form: (w) => ({ token: w.bot.token }),
    headers: (w) => ({ authorization: basic(w.bot.id, 'wrong') }),
    status: 401,
    error: 'invalid_client',
  },
  {
    name: 'revoke with JSON',
    path: '/oauth/revoke',
    form: (w) => JSON.stringify({ token: w.bot.token }),
    headers: () => ({ 'content-type': 'application/json' }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'introspect anonymously',
    path: '/oauth/introspect',
    form: (w) => ({ token: w.bot.token }),
    status: 401,
    error: 'invalid_client',
  },
  {
    name: 'introspect with an unknown resource server',
    path: '/oauth/introspect',
    form: (w) => ({ token: w.bot.token }),
    headers: () => ({ authorization: basic('nobody', GATEWAY.secret) }),
    status: 401,
    error: 'invalid_client',
  },
  {
    name: 'introspect with an API-Token as client',
    path: '/oauth/introspect',
    form: (w) => ({ token: w.bot.token }),
    headers: (w) => ({ authorization: basic(w.bot.id, w.bot.token) }),
    status: 401,
    error: 'invalid_client',
  },
  {
    name: 'introspect without a token',
    path: '/oauth/introspect',
    form: () => ({}),
    headers: () => ({ authorization: basic(GATEWAY.id, GATEWAY.secret) }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'introspect with a bad resource',
    path: '/oauth/introspect',
    form: (w) => ({ token: w.bot.token, resource: 'urn:tokenladder:base:nope' }),
    headers: () => ({ authorization: basic(GATEWAY.id, GATEWAY.secret) }),
    status: 400,
    error: 'invalid_target',
  },
];

async function world(t: TestApp): Promise<World> {
  const admin = await t.login();
  const crm = await t.createBase(admin, 'CRM');
  const wiki = await t.createBase(admin, 'Wiki');
  const bot = await t.createApiToken(admin, crm, 'bot', 'rw');
  const reader = await t.createApiToken(admin, crm, 'reader', 'r');
  const disabled = await t.createApiToken(admin, crm, 'off', 'rw');
  await t.call('PATCH', `/api/v1/api-tokens/${disabled.id}`, { token: admin, body: { enabled: false } });
  const stranger = (await t.userWithToken(admin, 'stranger@example.com')).token;
  // Each token used once now, so a refusal in the same minute has no last_used_at to write.
  for (const token of [bot, reader])
    expect((await t.call('POST', '/api/v1/base-tokens', { token: token.token })).status).toBe(201);
  expect((await t.call('GET', '/api/v1/me', { token: admin })).status).toBe(200);
  expect((await t.call('GET', '/api/v1/me', { token: stranger })).status).toBe(200);
  return { crm, wiki, admin, bot, reader, disabled, stranger };
}

describe('OAuth endpoint refusals', () => {
  let t: TestApp;
  let w: World;

  // One app for the whole table: every case proves it changed nothing, so they cannot affect each
  // other (a PostgreSQL database per case made the file's teardown the slowest part).
  beforeAll(async () => {
    t = await testApp({ config: gatewayConfig });
    w = await world(t);
  });

  it.each(CASES)('$name → $status $error, nothing changed', async (c) => {
    const before = await t.digest();
    const response = await postForm(t, c.path ?? '/oauth/token', c.form(w), c.headers?.(w) ?? {});
    expect(response.status, JSON.stringify(response.body)).toBe(c.status);
    expect(Object.keys(response.body).sort()).toEqual(['error', 'error_description']);
    expect(response.body.error).toBe(c.error);
    expect(response.body.error_description.length).toBeGreaterThan(0);
    expect(response.headers.get('cache-control')).toBe('no-store');
    // RFC 6749 §5.2: a Basic challenge on every 401 (a client that used Basic or sent no credentials);
    // a client that authenticated in the form gets invalid_client as a 400 without one.
    expect(response.headers.get('www-authenticate')).toBe(
      c.status === 401 ? 'Basic realm="tokenladder"' : null,
    );
    expect(await t.digest()).toBe(before);
  });

  it('a secret never appears in an error description', async () => {
    for (const c of CASES) {
      const response = await postForm(t, c.path ?? '/oauth/token', c.form(w), c.headers?.(w) ?? {});
      for (const secret of [w.bot.token, w.reader.token, w.disabled.token, w.admin, GATEWAY.secret])
        expect(JSON.stringify(response.body), c.name).not.toContain(secret);
    }
  });

  it('a body over the limit is 413 in the OAuth shape', async () => {
    const before = await t.digest();
    const response = await t.app.request('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&x=${'a'.repeat(20_000)}`,
    });
    expect(response.status).toBe(413);
    expect(await t.digest()).toBe(before);
  });
});

describe('OAuth limits', () => {
  let t: TestApp;
  let w: World;

  beforeEach(async () => {
    t = await testApp({ config: gatewayConfig });
    w = await world(t);
  });

  it('introspection answers 429 once a resource server has had its inactive answers, and active ones stay free', async () => {
    const rs = { authorization: basic(GATEWAY.id, GATEWAY.secret) };
    for (let i = 0; i < 1000; i++) {
      const response = await postForm(t, '/oauth/introspect', { token: `x.y.${i}` }, rs);
      expect(response.body).toEqual({ active: false });
    }
    const limited = await postForm(t, '/oauth/introspect', { token: 'x.y.z' }, rs);
    expect(limited.status).toBe(429);
    expect(limited.body.error).toBe('temporarily_unavailable');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // A live token is still answered: only inactive answers count.
    expect((await postForm(t, '/oauth/introspect', { token: w.bot.token }, rs)).body.active).toBe(true);
    t.clock.advance(61);
    expect((await postForm(t, '/oauth/introspect', { token: 'x.y.z' }, rs)).body).toEqual({ active: false });
  });

  it('failed resource-server authentications are limited per address, then even the right secret waits', async () => {
    const from = { 'x-test-client-ip': '203.0.113.9' };
    for (let i = 0; i < 20; i++) {
      const response = await postForm(
        t,
        '/oauth/introspect',
        { token: w.bot.token },
        { ...from, authorization: basic(GATEWAY.id, `wrong${i}`) },
      );
      expect(response.status).toBe(401);
    }
    const right = { ...from, authorization: basic(GATEWAY.id, GATEWAY.secret) };
    const limited = await postForm(t, '/oauth/introspect', { token: w.bot.token }, right);
    expect(limited.status).toBe(429);
    // Another address is not affected.
    const elsewhere = await postForm(
      t,
      '/oauth/introspect',
      { token: w.bot.token },
      { ...right, 'x-test-client-ip': '198.51.100.1' },
    );
    expect(elsewhere.body.active).toBe(true);
  });
});

// The token chain as a scenario over nothing but the fetch API, run against createApp on SQLite
// (test/http/chain-scenario.test.ts) and against src/worker.ts inside workerd on D1 (test/workers).
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
} from 'jose';
import { expect } from 'vitest';

/** A running tokenladder, however it runs. */
export interface Target {
  fetch(request: Request): Promise<Response>;
  /** Where requests go (http://host:port); the service's issuer is expected to be the same. */
  origin: string;
  admin: { email: string; password: string };
  /** The service's time: a frozen clock on Node, the real one in workerd. */
  now(): Date;
}

export interface CallResult {
  status: number;
  // Scenarios read whatever JSON came back.
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back
  body: any;
  headers: Headers;
}

export interface CallOptions {
  token?: string;
  /** An object is sent as JSON; a string as is. */
  body?: unknown;
  headers?: Record<string, string>;
}

export function call(
  target: Target,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<CallResult> {
  const headers = new Headers(options.headers);
  if (options.token !== undefined) headers.set('authorization', `Bearer ${options.token}`);
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  return target.fetch(new Request(target.origin + path, { method, headers, body })).then(async (response) => {
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
  });
}

export interface Chain {
  accountToken: string;
  baseUuid: string;
  baseName: string;
  apiToken: { id: string; token: string };
  baseToken: string;
  claims: JWTPayload;
}

/** Verifies a Base-Token with jose alone against the service's published JWKS, as a downstream service does. */
export async function verifyBaseToken(
  target: Target,
  baseToken: string,
  baseUuid: string,
): Promise<JWTPayload> {
  const jwks = await call(target, 'GET', '/.well-known/jwks.json');
  expect(jwks.status).toBe(200);
  expect(jwks.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
  const { payload } = await jwtVerify(baseToken, createLocalJWKSet(jwks.body as JSONWebKeySet), {
    algorithms: ['EdDSA'],
    issuer: target.origin,
    audience: `urn:tokenladder:base:${baseUuid}`,
    typ: 'at+jwt',
    requiredClaims: ['exp', 'iat', 'jti', 'sub'],
    currentDate: target.now(),
  });
  return payload;
}

/** Account-Token → base → API-Token → Base-Token, each step checked, the Base-Token verified with jose. */
export async function walkChain(
  target: Target,
  names: { base: string; apiToken: string } = { base: 'Inventory', apiToken: 'nightly report' },
): Promise<Chain> {
  const signIn = await call(target, 'POST', '/api/v1/account-tokens', {
    body: { ...target.admin, name: 'laptop' },
  });
  expect(signIn.status).toBe(201);
  expect(signIn.body.token).toMatch(/^tl_acc_[a-z2-7]{63}$/);
  const accountToken: string = signIn.body.token;

  const me = await call(target, 'GET', '/api/v1/me', { token: accountToken });
  expect(me.status).toBe(200);
  expect(me.body).toMatchObject({ email: target.admin.email, role: 'system_admin' });

  const base = await call(target, 'POST', '/api/v1/bases', {
    token: accountToken,
    body: { name: names.base },
  });
  expect(base.status).toBe(201);
  const baseUuid: string = base.body.uuid;

  const api = await call(target, 'POST', `/api/v1/bases/${baseUuid}/api-tokens`, {
    token: accountToken,
    body: { name: names.apiToken, permission: 'r' },
  });
  expect(api.status).toBe(201);
  expect(api.body.token).toMatch(/^tl_api_[a-z2-7]{63}$/);

  // SeaTable clients send "Token <t>"; the exchange accepts it as well as Bearer.
  const exchange = await call(target, 'POST', '/api/v1/base-tokens', {
    headers: { authorization: `Token ${api.body.token}` },
  });
  expect(exchange.status).toBe(201);
  expect(exchange.body).toMatchObject({ base_uuid: baseUuid, permission: 'r' });
  const baseToken: string = exchange.body.base_token;
  expect(decodeProtectedHeader(baseToken)).toEqual({
    alg: 'EdDSA',
    kid: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    typ: 'at+jwt',
  });

  const claims = await verifyBaseToken(target, baseToken, baseUuid);
  expect(claims).toMatchObject({
    iss: target.origin,
    sub: me.body.id,
    client_id: api.body.id,
    token_type: 'api_token',
    base_uuid: baseUuid,
    permission: 'r',
  });
  return {
    accountToken,
    baseUuid,
    baseName: names.base,
    apiToken: { id: api.body.id, token: api.body.token },
    baseToken,
    claims,
  };
}

/** Revoking works at once: the API-Token stops exchanging, the Account-Token stops authenticating. */
export async function revokeAndCheck(target: Target, chain: Chain): Promise<void> {
  const exchange = () => call(target, 'POST', '/api/v1/base-tokens', { token: chain.apiToken.token });
  expect((await exchange()).status).toBe(201);
  expect(
    (await call(target, 'DELETE', `/api/v1/api-tokens/${chain.apiToken.id}`, { token: chain.accountToken }))
      .status,
  ).toBe(204);
  const refused = await exchange();
  expect([refused.status, refused.body.error.code]).toEqual([401, 'token_revoked']);
  // Base-Tokens are stateless: one issued before the revocation stays valid until it expires.
  await verifyBaseToken(target, chain.baseToken, chain.baseUuid);

  const other = await call(target, 'POST', '/api/v1/account-tokens', { body: target.admin });
  expect(other.status).toBe(201);
  expect(
    (await call(target, 'DELETE', `/api/v1/account-tokens/${other.body.id}`, { token: chain.accountToken }))
      .status,
  ).toBe(204);
  const me = await call(target, 'GET', '/api/v1/me', { token: other.body.token });
  expect([me.status, me.body.error.code]).toEqual([401, 'token_revoked']);
}

interface ErrorCase {
  name: string;
  request: (chain: Chain, target: Target) => [method: string, path: string, options?: CallOptions];
  status: number;
  code: string;
}

/** A representative slice of the error table every runtime must answer alike (the full tables run on Node). */
export const ERROR_CASES: ErrorCase[] = [
  { name: 'no credentials', request: () => ['GET', '/api/v1/me'], status: 401, code: 'missing_credentials' },
  {
    name: 'a malformed token',
    request: () => ['GET', '/api/v1/me', { token: 'tl_acc_nonsense' }],
    status: 401,
    code: 'token_invalid',
  },
  {
    name: 'an API-Token where an Account-Token is needed',
    request: (c) => ['GET', '/api/v1/me', { token: c.apiToken.token }],
    status: 401,
    code: 'wrong_token_type',
  },
  {
    name: 'a bad Authorization header',
    request: () => ['GET', '/api/v1/me', { headers: { authorization: 'Basic abc' } }],
    status: 400,
    code: 'invalid_authorization_header',
  },
  {
    name: 'a wrong password',
    request: (_, t) => [
      'POST',
      '/api/v1/account-tokens',
      { body: { email: t.admin.email, password: 'not the password at all' } },
    ],
    status: 401,
    code: 'invalid_credentials',
  },
  {
    name: 'an unknown email',
    request: () => [
      'POST',
      '/api/v1/account-tokens',
      { body: { email: 'nobody@example.com', password: 'not the password at all' } },
    ],
    status: 401,
    code: 'invalid_credentials',
  },
  {
    name: 'malformed JSON',
    request: (c) => ['POST', '/api/v1/bases', { token: c.accountToken, body: '{"name":' }],
    status: 400,
    code: 'invalid_json',
  },
  {
    name: 'an unknown field',
    request: (c) => ['POST', '/api/v1/bases', { token: c.accountToken, body: { name: 'x', owner: 'me' } }],
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'a body that is not JSON',
    request: (c) => [
      'POST',
      '/api/v1/bases',
      { token: c.accountToken, body: 'name=x', headers: { 'content-type': 'text/plain' } },
    ],
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'a body over the limit',
    request: (c) => ['POST', '/api/v1/bases', { token: c.accountToken, body: { name: 'x'.repeat(20_000) } }],
    status: 413,
    code: 'payload_too_large',
  },
  {
    name: "an exchange for a base that isn't yours",
    request: (c) => [
      'POST',
      '/api/v1/base-tokens',
      { token: c.accountToken, body: { base_uuid: crypto.randomUUID() } },
    ],
    status: 404,
    code: 'not_found',
  },
  {
    name: 'a duplicate base name',
    request: (c) => ['POST', '/api/v1/bases', { token: c.accountToken, body: { name: c.baseName } }],
    status: 409,
    code: 'conflict',
  },
  {
    name: 'an unknown route',
    request: () => ['GET', '/api/v1/nothing-here'],
    status: 404,
    code: 'not_found',
  },
  {
    name: 'a known route with a method it does not take',
    request: (c) => ['DELETE', '/api/v1/base-tokens', { token: c.accountToken }],
    status: 405,
    code: 'method_not_allowed',
  },
];

/** Runs ERROR_CASES; `changes` reports anything the rejected requests wrote (it must be nothing). */
export async function checkErrorCases(
  target: Target,
  chain: Chain,
  changes: () => Promise<string>,
): Promise<void> {
  const before = await changes();
  for (const errorCase of ERROR_CASES) {
    const [method, path, options] = errorCase.request(chain, target);
    const response = await call(target, method, path, options);
    expect([errorCase.name, response.status, response.body?.error?.code]).toEqual([
      errorCase.name,
      errorCase.status,
      errorCase.code,
    ]);
    if (response.status === 401)
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="tokenladder"');
    if (response.status === 405) expect(response.headers.get('allow')).toBe('POST');
  }
  expect(await changes()).toBe(before);
}

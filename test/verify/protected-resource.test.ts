// RFC 9728 protected-resource metadata and the RFC 6750 challenges of @tokenladder/verify/hono, checked
// through app.request with real jose-signed tokens, a strict RFC 9110 challenge parser, and oauth4webapi.
import { Hono } from 'hono';
import {
  customFetch,
  processResourceDiscoveryResponse,
  protectedResourceRequest,
  resourceDiscoveryRequest,
  WWWAuthenticateChallengeError,
} from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { createBaseTokenVerifier } from '../../src/verify';
import { bearerChallenge, quotedString } from '../../src/verify/challenge';
import {
  baseTokenAuth,
  protectedResourceMetadata,
  requireScope,
  requireWrite,
  type BaseTokenEnv,
  type ProtectedResourceOptions,
} from '../../src/verify/hono';
import { BASE_A, ISSUER, NOW, NOW_S, claims, createTestKey, jwksOf, rejection, sign } from './helpers';

const key = await createTestKey();
const otherKey = await createTestKey();
const verifier = createBaseTokenVerifier({ issuer: ISSUER, jwks: jwksOf(key), currentDate: () => NOW });
const tokenFor = (overrides: Record<string, unknown> = {}, signer = key) =>
  sign(signer, { claims: claims(overrides) });

const ORIGIN = 'https://rows.example';
const PER_BASE: ProtectedResourceOptions = {
  resource: `${ORIGIN}/bases/:base_uuid`,
  authorizationServers: [ISSUER],
  scopesSupported: ['base:r', 'base:rw', 'records:read', 'records:update'],
  resourceName: 'Rows',
  resourceDocumentation: `${ORIGIN}/docs`,
};
const WHOLE: ProtectedResourceOptions = { resource: ORIGIN, authorizationServers: [ISSUER] };

const resourceOf = (baseUuid = BASE_A) => `${ORIGIN}/bases/${baseUuid}`;
const metadataOf = (baseUuid = BASE_A) => `${ORIGIN}/.well-known/oauth-protected-resource/bases/${baseUuid}`;
const rowsUrl = (baseUuid = BASE_A) => `${resourceOf(baseUuid)}/rows`;

/** A base service: rows to read (any token), to write (requireWrite), to update per table (requireScope). */
function service(protectedResource?: ProtectedResourceOptions) {
  const auth = baseTokenAuth(verifier, { baseUuid: (c) => c.req.param('base_uuid'), protectedResource });
  const app = new Hono<BaseTokenEnv>();
  if (protectedResource) app.route('/', protectedResourceMetadata(protectedResource));
  return app
    .get('/bases/:base_uuid/rows', auth, (c) =>
      c.json({ rows: [], metadata: c.var.baseTokenResourceMetadata }),
    )
    .post('/bases/:base_uuid/rows', auth, requireWrite(), (c) => c.json({ ok: true }, 201))
    .patch(
      '/bases/:base_uuid/tables/:table/rows',
      auth,
      requireScope('records:update', { table: (c) => c.req.param('table') }),
      (c) => c.json({ ok: true }),
    );
}

function request(app: Hono<BaseTokenEnv>, url: string, authorization?: string, method = 'GET') {
  const headers = new Headers();
  if (authorization !== undefined) headers.set('Authorization', authorization);
  return app.request(url, { method, headers });
}

// RFC 9110 §11 (challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ], auth-param = token BWS "=" BWS
// ( token / quoted-string )), strictly: a value that does not parse, or repeats a parameter, throws.
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED = '"((?:[\\t \\x21\\x23-\\x5B\\x5D-\\x7E]|\\\\[\\t\\x20-\\x7E])*)"';
const SCHEME = new RegExp(`^(${TOKEN})`);
const PARAM = new RegExp(`^(${TOKEN})[ \\t]*=[ \\t]*(?:${QUOTED}|(${TOKEN}))`);

function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const scheme = SCHEME.exec(header);
  if (!scheme) throw new Error(`no auth-scheme in ${header}`);
  const params: Record<string, string> = {};
  let rest = header.slice(scheme[0].length);
  if (rest !== '') {
    if (!/^ +/.test(rest)) throw new Error(`no SP after the scheme in ${header}`);
    rest = rest.replace(/^ +/, '');
    for (;;) {
      const param = PARAM.exec(rest);
      if (!param) throw new Error(`malformed auth-param at ${rest}`);
      const name = (param[1] as string).toLowerCase();
      if (name in params) throw new Error(`repeated auth-param ${name}`);
      params[name] = param[2] === undefined ? (param[3] as string) : param[2].replace(/\\(.)/g, '$1');
      rest = rest.slice(param[0].length);
      if (rest === '') break;
      const comma = /^[ \t]*,[ \t]*/.exec(rest);
      if (!comma) throw new Error(`no comma before ${rest}`);
      rest = rest.slice(comma[0].length);
    }
  }
  return { scheme: (scheme[1] as string).toLowerCase(), params };
}

/** The challenge of a response, parsed; also checks it is printable ASCII (safe in any header). */
function challengeOf(res: Response) {
  const header = res.headers.get('WWW-Authenticate');
  if (header === null) throw new Error('no WWW-Authenticate');
  expect(header).toMatch(/^[\x20-\x7E]+$/);
  return parseChallenge(header);
}

describe('the metadata document (RFC 9728 §2, §3)', () => {
  it('a resource with a path: served at the path-inserted URL, with every configured member', async () => {
    const res = await service(PER_BASE).request(metadataOf());
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
    expect(res.headers.get('Cache-Control')).toBe('public, max-age=3600');
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
    const body = await res.json();
    expect(body).toEqual({
      resource: resourceOf(),
      authorization_servers: [ISSUER],
      scopes_supported: ['base:r', 'base:rw', 'records:read', 'records:update'],
      bearer_methods_supported: ['header'],
      resource_name: 'Rows',
      resource_documentation: `${ORIGIN}/docs`,
    });
    expect(Object.keys(body as object)[0]).toBe('resource');
  });

  it('a resource without a path: served at the bare well-known URL, optional members left out', async () => {
    const app = service(WHOLE);
    const res = await app.request(`${ORIGIN}/.well-known/oauth-protected-resource`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      resource: ORIGIN,
      authorization_servers: [ISSUER],
      bearer_methods_supported: ['header'],
    });
    expect((await app.request(`${ORIGIN}/.well-known/oauth-protected-resource/bases/${BASE_A}`)).status).toBe(
      404,
    );
  });

  it('a fixed resource with a path, and one with a trailing slash', async () => {
    const api = new Hono().route('/', protectedResourceMetadata({ ...WHOLE, resource: `${ORIGIN}/api/v2` }));
    const res = await api.request(`${ORIGIN}/.well-known/oauth-protected-resource/api/v2`);
    expect(((await res.json()) as { resource: string }).resource).toBe(`${ORIGIN}/api/v2`);
    expect((await api.request(`${ORIGIN}/.well-known/oauth-protected-resource`)).status).toBe(404);

    const slash = new Hono().route('/', protectedResourceMetadata({ ...WHOLE, resource: `${ORIGIN}/` }));
    const root = await slash.request(`${ORIGIN}/.well-known/oauth-protected-resource`);
    expect(((await root.json()) as { resource: string }).resource).toBe(`${ORIGIN}/`);
  });

  it('only the resource locations answer: not the bare URL, not a sub-path of the resource', async () => {
    const app = service(PER_BASE);
    expect((await app.request(`${ORIGIN}/.well-known/oauth-protected-resource`)).status).toBe(404);
    expect((await app.request(`${metadataOf()}/rows`)).status).toBe(404);
  });

  it('a route parameter is URL-encoded into the identifier, never echoed raw', async () => {
    const res = await service(PER_BASE).request(`${ORIGIN}/.well-known/oauth-protected-resource/bases/a%22b`);
    expect(((await res.json()) as { resource: string }).resource).toBe(`${ORIGIN}/bases/a%22b`);
  });

  it('answers a CORS preflight (any origin, GET)', async () => {
    const res = await service(PER_BASE).request(metadataOf(), {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://client.example',
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'mcp-protocol-version',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(res.headers.get('Access-Control-Allow-Methods')).toBe('GET, HEAD');
    expect(res.headers.get('Access-Control-Allow-Headers')).toBe('*');
  });

  it.each([
    ['http on a public host', { resource: 'http://rows.example' }],
    ['a relative resource', { resource: '/bases/:base_uuid' }],
    ['a query', { resource: `${ORIGIN}/bases?x=1` }],
    ['a fragment', { resource: `${ORIGIN}/bases#x` }],
    ['credentials', { resource: 'https://user:pw@rows.example' }],
    ['a non-canonical host', { resource: 'https://ROWS.example' }],
    ['a non-canonical path', { resource: `${ORIGIN}/a/../b` }],
    ['a wildcard segment', { resource: `${ORIGIN}/bases/*` }],
    ['a parameter inside a segment', { resource: `${ORIGIN}/bases/base-:base_uuid` }],
    ['no authorization server', { authorizationServers: [] }],
    ['an authorization server that is no URL', { authorizationServers: ['auth.example'] }],
    ['a scope with a space', { scopesSupported: ['records:read records:update'] }],
    ['a scope with a quote', { scopesSupported: ['records:"read'] }],
    ['documentation over http', { resourceDocumentation: 'http://rows.example/docs' }],
  ])('refuses a bad configuration at start-up: %s', (_name, overrides) => {
    const options = { ...PER_BASE, ...overrides };
    expect(() => protectedResourceMetadata(options)).toThrow(TypeError);
    expect(() => baseTokenAuth(verifier, { protectedResource: options })).toThrow(TypeError);
  });

  it('allows http on localhost (development)', async () => {
    const app = new Hono().route(
      '/',
      protectedResourceMetadata({ ...WHOLE, resource: 'http://localhost:8788/bases/:base_uuid' }),
    );
    const res = await app.request(
      `http://localhost:8788/.well-known/oauth-protected-resource/bases/${BASE_A}`,
    );
    expect(((await res.json()) as { resource: string }).resource).toBe(
      `http://localhost:8788/bases/${BASE_A}`,
    );
  });
});

describe('the challenges (RFC 6750 §3, RFC 9728 §5.1)', () => {
  it('401 without credentials: resource_metadata and no error code', async () => {
    const res = await request(service(PER_BASE), rowsUrl());
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toBe(`Bearer resource_metadata="${metadataOf()}"`);
    expect(challengeOf(res)).toEqual({ scheme: 'bearer', params: { resource_metadata: metadataOf() } });
    expect(await res.json()).toEqual({ error: { code: 'token_missing', message: expect.any(String) } });
  });

  it('the challenge points to a document about the resource the client asked for', async () => {
    const app = service(PER_BASE);
    const { params } = challengeOf(await request(app, rowsUrl()));
    const doc = (await (await app.request(params.resource_metadata as string)).json()) as {
      resource: string;
    };
    expect(doc.resource).toBe(resourceOf());
  });

  it.each([
    [
      'an expired token',
      async () => `Bearer ${await tokenFor({ iat: NOW_S - 7200, exp: NOW_S - 3600 })}`,
      'token_expired',
      'The token has expired.',
    ],
    [
      'a token signed by another key',
      async () => `Bearer ${await tokenFor({}, otherKey)}`,
      'token_key_unknown',
      'The token was signed by an unknown key.',
    ],
    [
      'a token for another base',
      async () =>
        `Bearer ${await tokenFor({ aud: 'urn:tokenladder:base:7c9e6679-7425-40de-944b-e07fc1f90ae7', base_uuid: '7c9e6679-7425-40de-944b-e07fc1f90ae7' })}`,
      'token_audience_mismatch',
      'The token is not valid for this resource.',
    ],
    [
      'a malformed header',
      async () => `Basic ${await tokenFor()}`,
      'token_malformed',
      'The Authorization header is malformed.',
    ],
    [
      'a quoted token',
      async () => `Bearer "x\\"y"`,
      'token_malformed',
      'The Authorization header is malformed.',
    ],
  ])('401 for %s: invalid_token with a fixed description', async (_name, header, code, description) => {
    const res = await request(service(PER_BASE), rowsUrl(), await header());
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toBe(
      `Bearer error="invalid_token", error_description="${description}", resource_metadata="${metadataOf()}"`,
    );
    expect(challengeOf(res).params).toEqual({
      error: 'invalid_token',
      error_description: description,
      resource_metadata: metadataOf(),
    });
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
  });

  it('a hostile route parameter stays inside the quoted resource_metadata', async () => {
    const res = await request(service(PER_BASE), `${ORIGIN}/bases/x%22,%20error=%22y%5C/rows`);
    expect(res.status).toBe(401);
    const { params } = challengeOf(res);
    expect(params).toEqual({
      resource_metadata: `${ORIGIN}/.well-known/oauth-protected-resource/bases/x%22%2C%20error%3D%22y%5C`,
    });
  });

  it('403 from requireScope: insufficient_scope with the action as scope', async () => {
    const scp = { v: 1, c: { records: 'rw' }, t: { create: [], read: ['*'], update: ['tbl1'], delete: [] } };
    const token = await tokenFor({ permission: 'custom', scp });
    const app = service(PER_BASE);
    const url = (table: string) => `${resourceOf()}/tables/${table}/rows`;
    expect((await request(app, url('tbl1'), `Bearer ${token}`, 'PATCH')).status).toBe(200);
    const res = await request(app, url('tbl2'), `Bearer ${token}`, 'PATCH');
    expect(res.status).toBe(403);
    expect(res.headers.get('WWW-Authenticate')).toBe(
      `Bearer error="insufficient_scope", error_description="This token does not allow records:update.", scope="records:update", resource_metadata="${metadataOf()}"`,
    );
    expect(challengeOf(res).params).toEqual({
      error: 'insufficient_scope',
      error_description: 'This token does not allow records:update.',
      scope: 'records:update',
      resource_metadata: metadataOf(),
    });
  });

  it('403 from requireWrite: insufficient_scope with scope records:write', async () => {
    const app = service(PER_BASE);
    const res = await request(app, rowsUrl(), `Bearer ${await tokenFor({ permission: 'r' })}`, 'POST');
    expect(res.status).toBe(403);
    expect(challengeOf(res)).toEqual({
      scheme: 'bearer',
      params: {
        error: 'insufficient_scope',
        error_description: 'This token cannot write to this base.',
        scope: 'records:write',
        resource_metadata: metadataOf(),
      },
    });
    expect((await request(app, rowsUrl(), `Bearer ${await tokenFor()}`, 'POST')).status).toBe(201);
  });

  it('a valid token passes and the handler can read the metadata URL', async () => {
    const res = await request(service(PER_BASE), rowsUrl(), `Bearer ${await tokenFor()}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ rows: [], metadata: metadataOf() });
  });

  it('a resource without a path: every route points to the bare well-known URL', async () => {
    const res = await request(service(WHOLE), rowsUrl());
    expect(challengeOf(res).params).toEqual({
      resource_metadata: `${ORIGIN}/.well-known/oauth-protected-resource`,
    });
  });

  it('a resource parameter the route lacks is a programming error (500), never a pass', async () => {
    const app = new Hono<BaseTokenEnv>()
      .get('/me', baseTokenAuth(verifier, { protectedResource: PER_BASE }), (c) => c.text('in'))
      .onError((error, c) => c.text(error.message, 500));
    const res = await request(app, `${ORIGIN}/me`, `Bearer ${await tokenFor()}`);
    expect(res.status).toBe(500);
    expect(await res.text()).toMatch(/route parameter/);
  });
});

describe('without the protectedResource option nothing changes', () => {
  it.each([
    ['no credentials', undefined, 'GET', 401, 'Bearer realm="tokenladder"'],
    ['a malformed header', 'Basic x', 'GET', 401, 'Bearer error="invalid_token"'],
    ['an r token writing', 'r', 'POST', 403, 'Bearer error="insufficient_scope"'],
  ])('%s: the bare challenge', async (_name, auth, method, status, challenge) => {
    const header = auth === 'r' ? `Bearer ${await tokenFor({ permission: 'r' })}` : auth;
    const res = await request(service(), rowsUrl(), header, method);
    expect(res.status).toBe(status);
    expect(res.headers.get('WWW-Authenticate')).toBe(challenge);
  });

  it('an expired token and requireScope: the bare challenges; no metadata variable, no metadata route', async () => {
    const app = service();
    const expired = await tokenFor({ iat: NOW_S - 7200, exp: NOW_S - 3600 });
    const res = await request(app, rowsUrl(), `Bearer ${expired}`);
    expect(res.headers.get('WWW-Authenticate')).toBe('Bearer error="invalid_token"');
    const reader = await tokenFor({ permission: 'r' });
    const denied = await request(app, `${resourceOf()}/tables/t/rows`, `Bearer ${reader}`, 'PATCH');
    expect(denied.headers.get('WWW-Authenticate')).toBe('Bearer error="insufficient_scope"');
    expect(await (await request(app, rowsUrl(), `Bearer ${await tokenFor()}`)).json()).toEqual({ rows: [] });
    expect((await app.request(metadataOf())).status).toBe(404);
  });
});

describe('bearerChallenge and quotedString', () => {
  it('escapes quotes and backslashes, drops control and non-ASCII characters', () => {
    expect(quotedString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quotedString('line\r\nbreak\u0000é')).toBe('"linebreak"');
  });

  it('keeps error_description inside RFC 6750 §3 (no quote, no backslash) and parses', () => {
    const header = bearerChallenge({
      error: 'invalid_token',
      error_description: 'bad "token" \\ eyJ\r\nSet-Cookie: x=1',
      resource_metadata: 'https://rows.example/.well-known/oauth-protected-resource',
    });
    expect(header).toBe(
      'Bearer error="invalid_token", error_description="bad token  eyJSet-Cookie: x=1", resource_metadata="https://rows.example/.well-known/oauth-protected-resource"',
    );
    expect(parseChallenge(header).params.error_description).toBe('bad token  eyJSet-Cookie: x=1');
  });

  it('refuses a scope RFC 6750 does not allow, and writes a bare scheme without parameters', () => {
    expect(() => bearerChallenge({ scope: 'a "b' })).toThrow(TypeError);
    expect(() => bearerChallenge({ scope: 'a  b' })).toThrow(TypeError);
    expect(bearerChallenge({ scope: 'records:read records:update' })).toBe(
      'Bearer scope="records:read records:update"',
    );
    expect(bearerChallenge({})).toBe('Bearer');
  });

  it('the test parser itself refuses malformed challenges', () => {
    expect(() => parseChallenge('Bearer error="a"b"')).toThrow();
    expect(() => parseChallenge('Bearer error="a", error="b"')).toThrow();
    expect(() => parseChallenge('Bearer error="a" scope="b"')).toThrow();
    expect(() => parseChallenge('Bearer,error="a"')).toThrow();
    expect(parseChallenge('Bearer a=b, c="d\\"e"').params).toEqual({ a: 'b', c: 'd"e' });
  });
});

describe('an OAuth client someone else wrote (oauth4webapi) discovers the service and reads its challenges', () => {
  const app = service(PER_BASE);
  // Every request the client makes goes to the app in-process; none of them has a body.
  const viaApp = {
    [customFetch]: (url: string, init: { method: string; headers: Record<string, string> }) =>
      Promise.resolve(app.request(url, { method: init.method, headers: init.headers })),
  };

  it('RFC 9728 discovery from the resource identifier', async () => {
    const resource = new URL(resourceOf());
    const metadata = await processResourceDiscoveryResponse(
      resource,
      await resourceDiscoveryRequest(resource, viaApp),
    );
    expect(metadata.resource).toBe(resourceOf());
    expect(metadata.authorization_servers).toEqual([ISSUER]);
    expect(metadata.bearer_methods_supported).toEqual(['header']);
  });

  it('a bad token: the challenge parses, and its resource_metadata leads to the authorization server', async () => {
    const error = await rejection(
      protectedResourceRequest('not.a.jwt', 'GET', new URL(rowsUrl()), undefined, undefined, viaApp),
    );
    expect(error).toBeInstanceOf(WWWAuthenticateChallengeError);
    const { cause, status } = error as WWWAuthenticateChallengeError;
    expect(status).toBe(401);
    expect(cause).toEqual([
      {
        scheme: 'bearer',
        parameters: {
          error: 'invalid_token',
          error_description: 'The token is malformed.',
          resource_metadata: metadataOf(),
        },
      },
    ]);
    const followed = await viaApp[customFetch](cause[0]?.parameters.resource_metadata as string, {
      method: 'GET',
      headers: { accept: 'application/json' },
    });
    const metadata = await processResourceDiscoveryResponse(new URL(resourceOf()), followed);
    expect(metadata.authorization_servers).toEqual([ISSUER]);
  });

  it('too little scope: the client sees insufficient_scope and the scope to ask for', async () => {
    const reader = await tokenFor({ permission: 'r' });
    const error = await rejection(
      protectedResourceRequest(reader, 'POST', new URL(rowsUrl()), undefined, undefined, viaApp),
    );
    expect(error).toBeInstanceOf(WWWAuthenticateChallengeError);
    const [challenge] = (error as WWWAuthenticateChallengeError).cause;
    expect((error as WWWAuthenticateChallengeError).status).toBe(403);
    expect(challenge?.parameters.error).toBe('insufficient_scope');
    expect(challenge?.parameters.scope).toBe('records:write');
    expect(challenge?.parameters.resource_metadata).toBe(metadataOf());
  });

  it('a good token: the request goes through', async () => {
    const res = await protectedResourceRequest(
      await tokenFor(),
      'GET',
      new URL(rowsUrl()),
      undefined,
      undefined,
      viaApp,
    );
    expect(res.status).toBe(200);
  });
});

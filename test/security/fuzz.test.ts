// Catalog §0 "fuzz": every route the app serves × random methods, headers and bodies.
// Properties: never a 5xx; every 4xx carries our error shape (SeaTable's shapes on its routes, RFC 6749's on /oauth/);
// a refused request (4xx) changes nothing in the database (stateSnapshot: last_used_at and the
// audit/throttle side-effect tables aside). Reproduce a failure with FUZZ_SEED=<seed printed below>.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { badChecksum, stateSnapshot, unknownToken, world, type World } from './helpers';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20261122;
const RUNS = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : 400;

let w: World;
let routes: { method: string; path: string }[];
let credentials: (string | undefined)[];
let ids: string[];

beforeAll(async () => {
  w = await world();
  const seen = new Set<string>();
  routes = [];
  for (const { method, path } of w.t.app.routes) {
    if (method === 'ALL' || path.includes('*')) continue;
    const key = `${method} ${path}`;
    if (!seen.has(key)) {
      seen.add(key);
      routes.push({ method, path });
    }
  }
  const temp = (
    await w.t.call('GET', `/api/v2.1/workspace/${await w.workspaceOf(w.alice)}/dtable/A/temp-api-token/`, {
      token: w.alice.token,
    })
  ).body.api_token as string;
  credentials = [
    undefined,
    w.admin.token,
    w.alice.token,
    w.bob.token,
    w.carol.token,
    w.tina.token,
    w.tokens.aliceRw.token,
    w.tokens.bobR.token,
    w.baseTokenA,
    temp,
    badChecksum(w.alice.token),
    await unknownToken('account'),
    await unknownToken('api'),
    'garbage',
    'a'.repeat(5000),
  ];
  ids = [
    w.baseA,
    w.baseB,
    w.taraBase,
    w.alice.id,
    w.bob.id,
    w.admin.id,
    w.tara.id,
    w.tokens.aliceRw.id,
    w.tokens.bobR.id,
    w.tokens.taraToken.id,
    w.teams.t1,
    w.teams.t2,
    await w.workspaceOf(w.alice),
    'A',
    'alice-rw',
    'bob-r',
    crypto.randomUUID(),
  ];
  console.log(
    `fuzz: seed ${SEED}, ${RUNS} runs over ${routes.length} routes (FUZZ_SEED=${SEED} to reproduce)`,
  );
});

const WEIRD_SEGMENTS = [
  '..',
  '%2e%2e',
  '..%2F..%2Fetc',
  '%00',
  'a%00b',
  '%E0%A4%A',
  "'%20OR%201=1--",
  '%25',
  '_',
  '%20',
  'x'.repeat(300),
  '__proto__',
  'constructor',
];
const FIELD_NAMES = [
  'name',
  'email',
  'password',
  'role',
  'team_id',
  'is_active',
  'permission',
  'scopes',
  'resources',
  'expires_in_days',
  'expires_at',
  'enabled',
  'grace_seconds',
  'ids',
  'base_uuid',
  'workspace_id',
  'table',
  'ttl',
  'action',
  'activate_after_seconds',
  'revoke_old',
  'max_lifetime_days',
  'require_expiry',
  'app_name',
  'username',
  'owner',
  '__proto__',
  'constructor',
  'prototype',
  'created_by',
  'isAdmin',
];
const CONTENT_TYPES = [
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/vnd.api+json',
  '',
];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(
      null,
      true,
      false,
      0,
      -1,
      1.5,
      1e308,
      2 ** 60,
      '',
      'r',
      'rw',
      'admin',
      'system_admin',
      '*',
      '<script>',
      "'; DROP TABLE users;--",
      '\u0000',
      '\u202E',
      'x'.repeat(200),
    ),
    fc.string(),
    fc.integer(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 8 })), tie('value'), {
      maxKeys: 5,
    }),
  ),
})).value;

/** A body: nothing, JSON text (mostly objects with our field names), or raw bytes. */
const body = fc.oneof(
  fc.constant(undefined),
  fc
    .dictionary(fc.constantFrom(...FIELD_NAMES), jsonValue, { maxKeys: 6 })
    .map((value) => JSON.stringify(value)),
  jsonValue.map((value) => JSON.stringify(value) ?? 'null'),
  fc.constantFrom(
    '{',
    '{"name":',
    '[[[[',
    '1e999',
    '{"__proto__":{"polluted":true},"name":"p"}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    'name=x&permission=rw',
    '\uFEFF{}',
  ),
  fc.uint8Array({ maxLength: 64 }),
);

const request = fc.record({
  route: fc.nat(),
  methodOverride: fc.option(fc.constantFrom(...METHODS), { freq: 5 }),
  params: fc.array(
    fc.oneof(
      fc.nat().map((i) => ({ id: i })),
      fc.constantFrom(...WEIRD_SEGMENTS).map((raw) => ({ raw })),
      fc.string({ maxLength: 12 }).map((s) => ({ raw: encodeURIComponent(s) })),
    ),
    {
      minLength: 3,
      maxLength: 3,
    },
  ),
  credential: fc.nat(),
  scheme: fc.constantFrom('Bearer', 'Token', 'bearer', 'xc-token', 'Basic', 'Bearer  '),
  contentType: fc.constantFrom(...CONTENT_TYPES),
  body,
  query: fc.option(
    fc.constantFrom(
      '?status=active',
      '?status=bogus',
      '?base_uuid=x',
      '?created_by=%27',
      '?page=-1&per_page=99999',
      '?exp=5h',
      '?exp=999d',
      '?token=x',
    ),
    { freq: 4 },
  ),
});

const HTML_PATH = /^\/(ui|docs)(\/|$)/;
const SEATABLE_PATH = /^\/(api2|api\/v2\.1|server-info)\//;

const OAUTH_PATH = /^\/oauth\//;

function expectErrorShape(path: string, status: number, body: unknown) {
  if (OAUTH_PATH.test(path) && typeof body === 'object' && body !== null && 'error_description' in body) {
    // The OAuth endpoints' own: RFC 6749 §5.2 {error, error_description}, both strings, nothing else.
    expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
    const { error, error_description } = body as Record<string, unknown>;
    expect(error).toMatch(/^[a-z_]+$/);
    expect(error_description).toEqual(expect.any(String));
    return;
  }
  if (typeof body === 'object' && body !== null && 'error' in body) {
    // Ours: {error: {code, message, request_id?}}, nothing else.
    expect(Object.keys(body)).toEqual(['error']);
    const error = (body as { error: Record<string, unknown> }).error;
    expect(error.code).toEqual(expect.any(String));
    expect(error.message).toEqual(expect.any(String));
    expect(Object.keys(error).every((key) => ['code', 'message', 'request_id'].includes(key))).toBe(true);
    return;
  }
  // SeaTable's shapes, on SeaTable's routes only: {detail}, {error_msg}, {non_field_errors}, or per-field lists.
  expect(SEATABLE_PATH.test(path), `${status} without our error shape: ${JSON.stringify(body)}`).toBe(true);
  expect(typeof body === 'object' && body !== null && !Array.isArray(body)).toBe(true);
  for (const [key, value] of Object.entries(body as object)) {
    if (key === 'detail' || key === 'error_msg') expect(value).toEqual(expect.any(String));
    else expect(value).toEqual([expect.any(String)]);
  }
}

async function firstChunk(response: Response): Promise<string> {
  const reader = response.body!.getReader();
  const { value } = await reader.read();
  await reader.cancel();
  return new TextDecoder().decode(value);
}

describe('fuzz: every route, random input', () => {
  it('never 5xx; 4xx in the error shape; a refused request writes nothing', {
    timeout: 120_000,
  }, async () => {
    let statuses: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(request, async (input) => {
        const route = routes[input.route % routes.length]!;
        const method = input.methodOverride ?? route.method;
        let i = 0;
        const path = route.path.replace(/:[A-Za-z_]+/g, () => {
          const param = input.params[i++ % input.params.length]!;
          return 'id' in param ? encodeURIComponent(ids[param.id % ids.length]!) : param.raw;
        });
        const headers = new Headers();
        const credential = credentials[input.credential % credentials.length];
        if (credential !== undefined) {
          if (input.scheme === 'xc-token') headers.set('xc-token', credential);
          else headers.set('authorization', `${input.scheme} ${credential}`);
        }
        if (input.contentType !== undefined) headers.set('content-type', input.contentType);
        const sendsBody = input.body !== undefined && method !== 'GET' && method !== 'HEAD';
        const before = await stateSnapshot(w.t);
        const response = await w.t.app.request(`${path}${input.query ?? ''}`, {
          method,
          headers,
          body: sendsBody ? (input.body as BodyInit) : undefined,
        });
        // The revocation stream never ends on its own: its first chunk stands for its answer.
        const text = /^text\/event-stream/.test(response.headers.get('content-type') ?? '')
          ? await firstChunk(response)
          : await response.text();
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        const label = `${method} ${path} → ${response.status} ${text.slice(0, 300)}`;
        expect(response.status, label).toBeLessThan(500);
        if (response.status >= 400) {
          // The browser UI and API docs answer browsers in HTML; everything else in JSON.
          const html = HTML_PATH.test(path) && /^text\/html/.test(response.headers.get('content-type') ?? '');
          if (method !== 'HEAD' && !html) {
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              expect.fail(
                `a ${response.status} that is not JSON (${response.headers.get('content-type')}): ${label}`,
              );
            }
            expectErrorShape(path, response.status, parsed);
          }
          expect(await stateSnapshot(w.t), `refused request changed the database: ${label}`).toBe(before);
        }
        expect(({} as Record<string, unknown>).polluted, label).toBeUndefined();
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    console.log(`fuzz: statuses ${JSON.stringify(statuses)}`);
    statuses = {};
  });
});

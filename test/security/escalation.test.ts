// Catalog §2e: privilege escalation (BOLA/BFLA/BOPLA). Each case: status, code, database unchanged.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  claimsOf,
  expectRejected,
  expectSeatableRejected,
  runAttack,
  world,
  type AttackCase,
  type World,
} from './helpers';

let w: World;
beforeAll(async () => {
  w = await world();
});

const mint = (token: string, base: string, body: Record<string, unknown>) =>
  w.t.call('POST', `/api/v1/bases/${base}/api-tokens`, { token, body });
const exchange = (token: string, body?: unknown) => w.t.call('POST', '/api/v1/base-tokens', { token, body });
const stillExchanges = (secret: () => string) => async () =>
  expect((await exchange(secret())).status).toBe(201);
const PERMISSION_DENIED = { error_msg: 'Permission denied.' };

const cases: AttackCase[] = [
  {
    id: 'P-01',
    name: 'r member mints an rw API-Token',
    request: (w) => mint(w.bob.token, w.baseA, { name: 'p01', permission: 'rw' }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-01',
    name: 'r member mints write scopes',
    request: (w) => mint(w.bob.token, w.baseA, { name: 'p01s', scopes: { records: 'rw' } }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-01',
    name: 'r member raises their own r token to rw',
    request: (w) =>
      w.t.call('PATCH', `/api/v1/api-tokens/${w.tokens.bobR.id}`, {
        token: w.bob.token,
        body: { permission: 'rw' },
      }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-01',
    name: "base admin raises an r member's token to rw (never above its owner)",
    request: (w) =>
      w.t.call('PATCH', `/api/v1/api-tokens/${w.tokens.bobR.id}`, {
        token: w.alice.token,
        body: { permission: 'rw' },
      }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-01',
    name: 'r member mints an rw multi-base token naming the base',
    request: (w) =>
      w.t.call('POST', '/api/v1/api-tokens', {
        token: w.bob.token,
        body: { name: 'p01m', permission: 'rw', resources: { type: 'bases', base_uuids: [w.baseA] } },
      }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-02',
    name: 'non-member mints on a base',
    request: (w) => mint(w.carol.token, w.baseA, { name: 'p02', permission: 'r' }),
    status: 404,
    code: 'not_found',
  },
  {
    id: 'P-02',
    name: 'non-member mints a multi-base token including a foreign base',
    request: (w) =>
      w.t.call('POST', '/api/v1/api-tokens', {
        token: w.carol.token,
        body: { name: 'p02m', permission: 'r', resources: { type: 'bases', base_uuids: [w.baseA] } },
      }),
    status: 404,
    code: 'not_found',
  },
  {
    id: 'P-02',
    name: 'non-member exchanges an Account-Token for a foreign base',
    request: (w) => exchange(w.carol.token, { base_uuid: w.baseA }),
    status: 404,
    code: 'not_found',
  },
  {
    id: 'P-04',
    name: 'r API-Token exchange asking for rw',
    request: (w) => exchange(w.tokens.bobR.token, { permission: 'rw' }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-04',
    name: 'r API-Token exchange asking for write scopes',
    request: (w) => exchange(w.tokens.bobR.token, { scopes: { records: 'rw' } }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-04',
    name: 'r member exchanges an Account-Token asking for rw',
    request: (w) => exchange(w.bob.token, { base_uuid: w.baseA, permission: 'rw' }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-05',
    name: 'API-Token of base A exchanged for base B',
    request: (w) => exchange(w.tokens.aliceRw.token, { base_uuid: w.baseB }),
    status: 401,
    code: 'base_not_in_scope',
  },
  {
    id: 'P-05',
    name: "API-Token of base A exchanged for another tenant's base",
    request: (w) => exchange(w.tokens.aliceRw.token, { base_uuid: w.taraBase }),
    status: 401,
    code: 'base_not_in_scope',
  },
  {
    id: 'P-06',
    name: "T1 user reads a T2 user's base",
    request: (w) => w.t.call('GET', `/api/v1/bases/${w.taraBase}`, { token: w.tom.token }),
    status: 404,
    code: 'not_found',
  },
  {
    id: 'P-06',
    name: "T1 user lists a T2 base's members",
    request: (w) => w.t.call('GET', `/api/v1/bases/${w.taraBase}/members`, { token: w.tom.token }),
    status: 404,
    code: 'not_found',
  },
  {
    id: 'P-06',
    name: 'T1 user adds themselves to a T2 base',
    request: (w) =>
      w.t.call('PUT', `/api/v1/bases/${w.taraBase}/members/${w.tom.id}`, {
        token: w.tom.token,
        body: { permission: 'admin' },
      }),
    status: 404,
    code: 'not_found',
  },
  {
    id: 'P-06',
    name: 'T1 user reads a T2 API-Token',
    request: (w) => w.t.call('GET', `/api/v1/api-tokens/${w.tokens.taraToken.id}`, { token: w.tom.token }),
    status: 404,
    code: 'not_found',
  },
  {
    id: 'P-06',
    name: 'T1 user renames a T2 API-Token',
    request: (w) =>
      w.t.call('PATCH', `/api/v1/api-tokens/${w.tokens.taraToken.id}`, {
        token: w.tom.token,
        body: { name: 'mine' },
      }),
    status: 404,
    code: 'not_found',
  },
  {
    id: 'P-06',
    name: 'T1 user deletes a T2 API-Token',
    request: (w) => w.t.call('DELETE', `/api/v1/api-tokens/${w.tokens.taraToken.id}`, { token: w.tom.token }),
    status: 404,
    code: 'not_found',
    after: stillExchanges(() => w.tokens.taraToken.token),
  },
  {
    id: 'P-06',
    name: 'T1 team admin reads a T2 user',
    request: (w) => w.t.call('GET', `/api/v1/users/${w.tara.id}`, { token: w.tina.token }),
    status: 404,
    code: 'not_found',
  },
  {
    id: 'P-06',
    name: "T1 team admin lists a T2 base's tokens",
    request: (w) => w.t.call('GET', `/api/v1/bases/${w.taraBase}/api-tokens`, { token: w.tina.token }),
    status: 404,
    code: 'not_found',
  },
  {
    id: 'P-07',
    name: "IDOR: a member deletes another member's token by id",
    request: (w) => w.t.call('DELETE', `/api/v1/api-tokens/${w.tokens.aliceRw.id}`, { token: w.bob.token }),
    status: 404,
    code: 'not_found',
    after: stillExchanges(() => w.tokens.aliceRw.token),
  },
  {
    id: 'P-07',
    name: "IDOR: a non-member regenerates someone's token by id",
    request: (w) =>
      w.t.call('POST', `/api/v1/api-tokens/${w.tokens.aliceRw.id}/regenerate`, { token: w.carol.token }),
    status: 404,
    code: 'not_found',
    after: stillExchanges(() => w.tokens.aliceRw.token),
  },
  {
    id: 'P-07',
    name: 'IDOR: bulk delete with one foreign id is refused whole',
    request: (w) =>
      w.t.call('POST', '/api/v1/api-tokens/bulk-delete', {
        token: w.bob.token,
        body: { ids: [w.tokens.bobR.id, w.tokens.aliceRw.id] },
      }),
    status: 404,
    code: 'not_found',
    after: async () => {
      expect((await exchange(w.tokens.bobR.token)).status).toBe(201);
      expect((await exchange(w.tokens.aliceRw.token)).status).toBe(201);
    },
  },
  {
    id: 'P-07',
    name: "IDOR: explain on someone else's token",
    request: (w) =>
      w.t.call('POST', `/api/v1/api-tokens/${w.tokens.aliceRw.id}/explain`, {
        token: w.carol.token,
        body: {},
      }),
    status: 404,
    code: 'not_found',
  },
  {
    id: 'P-08',
    name: 'team admin updates a user of another team',
    request: (w) =>
      w.t.call('PATCH', `/api/v1/users/${w.tara.id}`, { token: w.tina.token, body: { is_active: false } }),
    status: 404,
    code: 'not_found',
  },
  {
    id: 'P-08',
    name: 'team admin creates a user in another team',
    request: (w) =>
      w.t.call('POST', '/api/v1/users', {
        token: w.tina.token,
        body: {
          email: 'p08@example.com',
          password: 'a perfectly fine passphrase',
          role: 'user',
          team_id: w.teams.t2,
        },
      }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-08',
    name: 'team admin creates a system admin',
    request: (w) =>
      w.t.call('POST', '/api/v1/users', {
        token: w.tina.token,
        body: {
          email: 'p08b@example.com',
          password: 'a perfectly fine passphrase',
          role: 'system_admin',
          team_id: w.teams.t1,
        },
      }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-08',
    name: 'team admin promotes a team member to system admin',
    request: (w) =>
      w.t.call('PATCH', `/api/v1/users/${w.tom.id}`, { token: w.tina.token, body: { role: 'system_admin' } }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-08',
    name: 'team admin moves a member into another team',
    request: (w) =>
      w.t.call('PATCH', `/api/v1/users/${w.tom.id}`, { token: w.tina.token, body: { team_id: w.teams.t2 } }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-08',
    name: 'team admin deactivates the system admin',
    request: (w) =>
      w.t.call('PATCH', `/api/v1/users/${w.admin.id}`, { token: w.tina.token, body: { is_active: false } }),
    status: 404,
    code: 'not_found',
  },
  {
    id: 'P-08',
    name: 'team admin rotates the signing key',
    request: (w) =>
      w.t.call('POST', '/api/v1/keys/rotate', { token: w.tina.token, body: { revoke_old: true } }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-08',
    name: 'team admin lists signing keys',
    request: (w) => w.t.call('GET', '/api/v1/keys', { token: w.tina.token }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-08',
    name: 'team admin changes the token policy',
    request: (w) =>
      w.t.call('PUT', '/api/v1/token-policy', { token: w.tina.token, body: { max_lifetime_days: 3650 } }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-08',
    name: 'team admin creates a team',
    request: (w) => w.t.call('POST', '/api/v1/teams', { token: w.tina.token, body: { name: 'mine' } }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-08',
    name: 'team admin creates a service account',
    request: (w) =>
      w.t.call('POST', '/api/v1/service-accounts', { token: w.tina.token, body: { name: 'svc' } }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-09',
    name: 'user lists users',
    request: (w) => w.t.call('GET', '/api/v1/users', { token: w.bob.token }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-09',
    name: 'user creates a user',
    request: (w) =>
      w.t.call('POST', '/api/v1/users', {
        token: w.bob.token,
        body: { email: 'p09@example.com', password: 'a perfectly fine passphrase', role: 'system_admin' },
      }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-09',
    name: 'user deactivates another user',
    request: (w) =>
      w.t.call('PATCH', `/api/v1/users/${w.carol.id}`, { token: w.bob.token, body: { is_active: false } }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-09',
    name: 'user rotates the signing key',
    request: (w) => w.t.call('POST', '/api/v1/keys/rotate', { token: w.bob.token, body: {} }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-09',
    name: 'user lists service accounts',
    request: (w) => w.t.call('GET', '/api/v1/service-accounts', { token: w.bob.token }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-09',
    name: 'user mints for a service account',
    request: (w) =>
      w.t.call('POST', `/api/v1/service-accounts/${w.carol.id}/api-tokens`, {
        token: w.bob.token,
        body: { name: 'x', permission: 'r', resources: { type: 'all' } },
      }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-09',
    name: 'user changes the token policy',
    request: (w) =>
      w.t.call('PUT', '/api/v1/token-policy', { token: w.bob.token, body: { require_expiry: false } }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-09',
    name: 'r member changes a member permission',
    request: (w) =>
      w.t.call('PUT', `/api/v1/bases/${w.baseA}/members/${w.bob.id}`, {
        token: w.bob.token,
        body: { permission: 'admin' },
      }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-09',
    name: 'rw member removes the base admin',
    request: (w) =>
      w.t.call('DELETE', `/api/v1/bases/${w.baseA}/members/${w.alice.id}`, { token: w.rita.token }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-10',
    name: 'PATCH /me with a role (no such method: 405)',
    request: (w) => w.t.call('PATCH', '/api/v1/me', { token: w.bob.token, body: { role: 'system_admin' } }),
    status: 405,
    code: 'method_not_allowed',
  },
  {
    id: 'P-10',
    name: 'user sets their own role',
    request: (w) =>
      w.t.call('PATCH', `/api/v1/users/${w.bob.id}`, { token: w.bob.token, body: { role: 'system_admin' } }),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'P-10',
    name: 'mint with created_by / owner_id of another user',
    request: (w) => mint(w.bob.token, w.baseA, { name: 'p10', permission: 'r', created_by: w.alice.id }),
    status: 400,
    code: 'invalid_request',
  },
  {
    id: 'P-10',
    name: 'mint with owner_id',
    request: (w) => mint(w.bob.token, w.baseA, { name: 'p10b', permission: 'r', owner_id: w.alice.id }),
    status: 400,
    code: 'invalid_request',
  },
  {
    id: 'P-10',
    name: 'sign in with a role field',
    request: (w) =>
      w.t.call('POST', '/api/v1/account-tokens', {
        body: { email: w.bob.email, password: 'a perfectly fine passphrase', role: 'system_admin' },
      }),
    status: 400,
    code: 'invalid_request',
  },
  {
    id: 'P-10',
    name: "create a base in another user's workspace",
    setup: (w) => w.workspaceOf(w.alice),
    request: (w, workspace) =>
      w.t.call('POST', '/api/v1/bases', {
        token: w.bob.token,
        body: { name: 'p10c', workspace_id: workspace },
      }),
    status: 404,
    code: 'not_found',
  },
  {
    id: 'P-11',
    name: 'API-Token used to list users',
    request: (w) => w.t.call('GET', '/api/v1/users', { token: w.tokens.aliceRw.token }),
    status: 401,
    code: 'wrong_token_type',
  },
  {
    id: 'P-11',
    name: 'API-Token used to add a base member',
    request: (w) =>
      w.t.call('PUT', `/api/v1/bases/${w.baseA}/members/${w.carol.id}`, {
        token: w.tokens.aliceRw.token,
        body: { permission: 'rw' },
      }),
    status: 401,
    code: 'wrong_token_type',
  },
  {
    id: 'P-11',
    name: 'API-Token used to regenerate itself',
    request: (w) =>
      w.t.call('POST', `/api/v1/api-tokens/${w.tokens.aliceRw.id}/regenerate`, {
        token: w.tokens.aliceRw.token,
      }),
    status: 401,
    code: 'wrong_token_type',
  },
  {
    id: 'P-12',
    name: 'Base-Token used to exchange',
    request: (w) => exchange(w.baseTokenA),
    status: 401,
    code: 'wrong_token_type',
  },
  {
    id: 'P-12',
    name: 'Base-Token used to mint',
    request: (w) => mint(w.baseTokenA, w.baseA, { name: 'p12', permission: 'r' }),
    status: 401,
    code: 'wrong_token_type',
  },
  {
    id: 'P-13',
    name: 'temporary API-Token used to mint a long-lived token',
    setup: async (w) =>
      (
        await w.t.call(
          'GET',
          `/api/v2.1/workspace/${await w.workspaceOf(w.alice)}/dtable/A/temp-api-token/`,
          { token: w.alice.token },
        )
      ).body.api_token,
    request: (w, temp) => mint(temp as string, w.baseA, { name: 'p13', permission: 'rw' }),
    status: 401,
    code: 'wrong_token_type',
  },
  {
    id: 'P-13',
    name: 'temporary API-Token used at the native exchange',
    setup: async (w) =>
      (
        await w.t.call(
          'GET',
          `/api/v2.1/workspace/${await w.workspaceOf(w.alice)}/dtable/A/temp-api-token/`,
          { token: w.alice.token },
        )
      ).body.api_token,
    request: (_w, temp) => exchange(temp as string),
    status: 401,
    code: 'wrong_token_type',
  },
];

describe('privilege escalation: refused, with the right code, nothing written', () => {
  for (const attack of cases) it(`${attack.id} ${attack.name}`, () => runAttack(w, attack));

  it('P-01 r member mints rw through the SeaTable API', async () => {
    const workspace = await w.workspaceOf(w.alice);
    await expectSeatableRejected(
      w.t,
      () =>
        w.t.call('POST', `/api/v2.1/workspace/${workspace}/dtable/A/api-tokens/`, {
          token: w.bob.token,
          body: { app_name: 'p01st', permission: 'rw' },
        }),
      403,
      PERMISSION_DENIED,
    );
  });

  it('P-03 creator demoted rw → r: r Base-Tokens, rw refused; removed: refused', async () => {
    const user = await w.user('p03@example.com');
    await w.member(w.baseA, user, 'rw');
    const token = await w.t.createApiToken(user.token, w.baseA, 'p03', 'rw');
    expect(claimsOf((await exchange(token.token)).body.base_token).permission).toBe('rw');
    await w.member(w.baseA, user, 'r');
    const demoted = await exchange(token.token);
    expect(demoted.status).toBe(201);
    expect(demoted.body.permission).toBe('r');
    expect(claimsOf(demoted.body.base_token).permission).toBe('r');
    await expectRejected(
      w.t,
      () => exchange(token.token, { permission: 'rw' }),
      403,
      'insufficient_permission',
    );
    expect(
      (await w.t.call('DELETE', `/api/v1/bases/${w.baseA}/members/${user.id}`, { token: w.alice.token }))
        .status,
    ).toBe(204);
    await expectRejected(w.t, () => exchange(token.token), 403, 'insufficient_permission');
  });

  it('P-06 T1 team admin reaches no T2 token through the SeaTable org admin routes', async () => {
    await expectSeatableRejected(
      w.t,
      () => w.t.call('GET', `/api/v2.1/org/${w.teams.t2}/admin/api-tokens/`, { token: w.tina.token }),
      403,
      PERMISSION_DENIED,
    );
    const foreign = await w.t.call(
      'GET',
      `/api/v2.1/org/${w.teams.t1}/admin/dtables/${w.taraBase}/api-tokens/`,
      { token: w.tina.token },
    );
    expect([403, 404]).toContain(foreign.status);
    await expectSeatableRejected(
      w.t,
      () =>
        w.t.call('DELETE', `/api/v2.1/org/${w.teams.t1}/admin/dtables/${w.taraBase}/api-tokens/tara/`, {
          token: w.tina.token,
        }),
      foreign.status,
      foreign.body,
    );
    expect((await exchange(w.tokens.taraToken.token)).status).toBe(201);
  });

  it('P-09 plain user on the SeaTable system-admin routes', async () => {
    await expectSeatableRejected(
      w.t,
      () => w.t.call('GET', `/api/v2.1/admin/dtables/${w.baseA}/api-tokens/`, { token: w.bob.token }),
      403,
      PERMISSION_DENIED,
    );
    await expectSeatableRejected(
      w.t,
      () =>
        w.t.call('DELETE', `/api/v2.1/admin/dtables/${w.baseA}/api-tokens/alice-rw/`, { token: w.bob.token }),
      403,
      PERMISSION_DENIED,
    );
    expect((await exchange(w.tokens.aliceRw.token)).status).toBe(201);
  });

  it('P-14 expiry beyond the admin maximum is refused at creation and update', async () => {
    const own = await world();
    expect(
      (
        await own.t.call('PUT', '/api/v1/token-policy', {
          token: own.admin.token,
          body: { max_lifetime_days: 30, require_expiry: true },
        })
      ).status,
    ).toBe(200);
    const mintOwn = (body: Record<string, unknown>) =>
      own.t.call('POST', `/api/v1/bases/${own.baseA}/api-tokens`, {
        token: own.alice.token,
        body: { permission: 'r', ...body },
      });
    await expectRejected(own.t, () => mintOwn({ name: 'long', expires_in_days: 31 }), 400, 'invalid_request');
    await expectRejected(own.t, () => mintOwn({ name: 'never', expires_at: null }), 400, 'invalid_request');
    await expectRejected(own.t, () => mintOwn({ name: 'none' }), 400, 'invalid_request');
    const ok = await mintOwn({ name: 'ok', expires_in_days: 30 });
    expect(ok.status).toBe(201);
    await expectRejected(
      own.t,
      () =>
        own.t.call('PATCH', `/api/v1/api-tokens/${ok.body.id}`, {
          token: own.alice.token,
          body: { expires_in_days: 365 },
        }),
      400,
      'invalid_request',
    );
  });

  it('P-16 the JWKS is public and holds public key members only', async () => {
    const response = await w.t.call('GET', '/.well-known/jwks.json');
    expect(response.status).toBe(200);
    for (const key of response.body.keys) {
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(member);
      expect(key).toMatchObject({
        kty: 'OKP',
        crv: 'Ed25519',
        use: 'sig',
        alg: 'EdDSA',
        kid: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      });
    }
  });
});

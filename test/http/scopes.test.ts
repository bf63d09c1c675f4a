import { beforeEach, describe, expect, it } from 'vitest';
import { START, testApp, type TestApp } from '../helpers/app';
import { can, createBaseTokenVerifier, type BaseTokenClaims } from '../../src/verify';

describe('fine-grained permissions and resource scopes', () => {
  let t: TestApp;
  let admin: string;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };
  let crm: string;
  let wiki: string;
  beforeEach(async () => {
    t = await testApp();
    admin = await t.login();
    alice = await t.userWithToken(admin, 'alice@example.com');
    bob = await t.userWithToken(admin, 'bob@example.com');
    crm = await t.createBase(alice.token, 'CRM');
    wiki = await t.createBase(alice.token, 'Wiki');
    await t.call('PUT', `/api/v1/bases/${crm}/members/${bob.id}`, {
      token: alice.token,
      body: { permission: 'rw' },
    });
    await t.call('PUT', `/api/v1/bases/${wiki}/members/${bob.id}`, {
      token: alice.token,
      body: { permission: 'rw' },
    });
  });

  async function verified(baseToken: string, baseUuid: string): Promise<BaseTokenClaims> {
    const jwks = (await t.call('GET', '/.well-known/jwks.json')).body;
    const verifier = createBaseTokenVerifier({
      issuer: 'http://tokenladder.test',
      jwks,
      currentDate: () => new Date(t.clock.now()),
    });
    return verifier.verify(baseToken, { baseUuid });
  }
  const exchange = (secret: string, body?: unknown) =>
    t.call('POST', '/api/v1/base-tokens', { token: secret, body });

  it('mints a token with categories and per-table CRUD, and the Base-Token carries them in scp', async () => {
    const scopes = {
      records: { read: '*', create: ['tbl_orders'], update: ['tbl_orders'] },
      comments: 'rw',
      views: 'r',
    };
    const token = await t.call('POST', `/api/v1/bases/${crm}/api-tokens`, {
      token: bob.token,
      body: { name: 'orders bot', scopes },
    });
    expect(token.status).toBe(201);
    expect(token.body).toMatchObject({
      permission: 'rw',
      scopes: {
        v: 1,
        c: { records: 'rw', comments: 'rw', views: 'r' },
        t: { create: ['tbl_orders'], read: ['*'], update: ['tbl_orders'], delete: [] },
      },
    });
    const issued = await exchange(token.body.token);
    expect(issued.body.permission).toBe('custom');
    const claims = await verified(issued.body.base_token, crm);
    expect(claims.scp).toEqual(token.body.scopes);
    expect(can(claims, 'records:read', { table: 'tbl_anything' })).toBe(true);
    expect(can(claims, 'records:update', { table: 'tbl_orders' })).toBe(true);
    expect(can(claims, 'records:update', { table: 'tbl_customers' })).toBe(false);
    expect(can(claims, 'records:delete', { table: 'tbl_orders' })).toBe(false);
    expect(can(claims, 'comments:write')).toBe(true);
    expect(can(claims, 'views:write')).toBe(false);
    expect(can(claims, 'webhooks:read')).toBe(false); // deny by default
  });

  it('keeps r and rw as shorthands: no scp claim, the coarse permission alone', async () => {
    const token = await t.createApiToken(bob.token, crm, 'plain', 'rw');
    const issued = await exchange(token.token);
    const claims = await verified(issued.body.base_token, crm);
    expect(claims.permission).toBe('rw');
    expect(claims.scp).toBeUndefined();
    expect(can(claims, 'records:delete', { table: 'x' })).toBe(true);
    expect(can(claims, 'users:write')).toBe(false); // rw is not admin
  });

  it("refuses scopes above the owner's role at creation, and re-intersects at every exchange", async () => {
    expect(
      (
        await t.call('POST', `/api/v1/bases/${crm}/api-tokens`, {
          token: bob.token,
          body: { name: 'x', scopes: { users: 'rw' } },
        })
      ).status,
    ).toBe(403);
    const token = await t.call('POST', `/api/v1/bases/${crm}/api-tokens`, {
      token: bob.token,
      body: { name: 'writer', scopes: { records: 'rw', webhooks: 'rw' } },
    });
    expect((await exchange(token.body.token)).body.scopes).toEqual({
      v: 1,
      c: { records: 'rw', webhooks: 'rw' },
    });
    await t.call('PUT', `/api/v1/bases/${crm}/members/${bob.id}`, {
      token: alice.token,
      body: { permission: 'r' },
    });
    const demoted = await exchange(token.body.token);
    expect(demoted.status).toBe(201);
    expect(demoted.body.scopes).toEqual({ v: 1, c: { records: 'r', webhooks: 'r' } });
  });

  it('reaches several bases, and a Base-Token always covers exactly the one named', async () => {
    const created = await t.call('POST', '/api/v1/api-tokens', {
      token: bob.token,
      body: { name: 'two bases', permission: 'r', resources: { type: 'bases', base_uuids: [crm, wiki] } },
    });
    expect(created.status).toBe(201);
    expect(created.body.resources).toEqual({ type: 'bases', base_uuids: [crm, wiki].sort() });
    expect(created.body.base_uuid).toBeNull();
    const secret = created.body.token;

    const unnamed = await exchange(secret);
    expect(unnamed.status).toBe(400);
    const forWiki = await exchange(secret, { base_uuid: wiki });
    expect((await verified(forWiki.body.base_token, wiki)).aud).toBe(`urn:tokenladder:base:${wiki}`);
    await expect(verified(forWiki.body.base_token, crm)).rejects.toMatchObject({
      code: 'token_audience_mismatch',
    });

    const elsewhere = await t.createBase(bob.token, 'Bob only');
    const outOfScope = await exchange(secret, { base_uuid: elsewhere });
    expect(outOfScope.status).toBe(401);
    expect(outOfScope.body.error.code).toBe('base_not_in_scope');

    await t.call('DELETE', `/api/v1/bases/${wiki}/members/${bob.id}`, { token: alice.token });
    expect((await exchange(secret, { base_uuid: wiki })).status).toBe(403);
    expect((await exchange(secret, { base_uuid: crm })).status).toBe(201);

    const notMember = await t.call('POST', '/api/v1/api-tokens', {
      token: bob.token,
      body: { name: 'n', permission: 'r', resources: { type: 'bases', base_uuids: [crm, wiki] } },
    });
    expect(notMember.status).toBe(404);
  });

  it('reaches a whole workspace, including bases created later, and nothing outside it', async () => {
    const workspace = (await t.call('GET', '/api/v1/workspaces', { token: alice.token })).body.workspaces[0]
      .id;
    const created = await t.call('POST', '/api/v1/api-tokens', {
      token: alice.token,
      body: {
        name: 'workspace',
        permission: 'rw',
        resources: { type: 'workspace', workspace_id: workspace },
      },
    });
    expect(created.status).toBe(201);
    const later = await t.createBase(alice.token, 'Created later');
    expect((await exchange(created.body.token, { base_uuid: later })).body.permission).toBe('rw');
    const bobsBase = await t.createBase(bob.token, 'Elsewhere');
    await t.call('PUT', `/api/v1/bases/${bobsBase}/members/${alice.id}`, {
      token: bob.token,
      body: { permission: 'rw' },
    });
    expect((await exchange(created.body.token, { base_uuid: bobsBase })).status).toBe(401);
    const foreignWorkspace = (await t.call('GET', '/api/v1/workspaces', { token: bob.token })).body
      .workspaces[0].id;
    expect(
      (
        await t.call('POST', '/api/v1/api-tokens', {
          token: alice.token,
          body: {
            name: 'w2',
            permission: 'r',
            resources: { type: 'workspace', workspace_id: foreignWorkspace },
          },
        })
      ).status,
    ).toBe(404);
  });

  it("reaches all current and future bases of its owner, with the owner's role on each", async () => {
    const all = await t.call('POST', '/api/v1/api-tokens', {
      token: bob.token,
      body: { name: 'everything', permission: 'rw', resources: { type: 'all' } },
    });
    expect(all.status).toBe(201);
    const future = await t.createBase(bob.token, 'Future');
    expect((await exchange(all.body.token, { base_uuid: future })).body.permission).toBe('rw');
    expect((await exchange(all.body.token, { base_uuid: crm })).body.permission).toBe('rw');
    await t.call('PUT', `/api/v1/bases/${crm}/members/${bob.id}`, {
      token: alice.token,
      body: { permission: 'r' },
    });
    expect((await exchange(all.body.token, { base_uuid: crm })).body.permission).toBe('r');
    const aliceOnly = await t.createBase(alice.token, 'Private');
    expect((await exchange(all.body.token, { base_uuid: aliceOnly })).status).toBe(403);
  });

  it('attenuates an exchange: less permission, fewer scopes, one table, a shorter life; never more', async () => {
    const token = await t.createApiToken(bob.token, crm, 'broad', 'rw');
    const readOnly = await exchange(token.token, { permission: 'r' });
    expect(readOnly.body.permission).toBe('r');
    const narrow = await exchange(token.token, { scopes: { records: 'r' }, table: 'tbl_1', ttl: 600 });
    expect(narrow.status).toBe(201);
    expect(narrow.body.expires_at).toBe(new Date(START + 600_000).toISOString().replace('.000Z', 'Z'));
    const claims = await verified(narrow.body.base_token, crm);
    expect(claims.exp - claims.iat).toBe(600);
    expect(can(claims, 'records:read', { table: 'tbl_1' })).toBe(true);
    expect(can(claims, 'records:read', { table: 'tbl_2' })).toBe(false);
    expect(can(claims, 'comments:read')).toBe(false);
    const capped = await exchange(token.token, { ttl: 30 * 86400 });
    const cappedClaims = await verified(capped.body.base_token, crm);
    expect(cappedClaims.exp - cappedClaims.iat).toBe(3 * 86400);

    const reader = await t.createApiToken(bob.token, crm, 'reader', 'r');
    const more = await exchange(reader.token, { permission: 'rw' });
    expect(more.status).toBe(403);
    expect((await exchange(reader.token, { scopes: { webhooks: 'rw' } })).status).toBe(403);

    const own = await t.call('POST', '/api/v1/base-tokens', {
      token: alice.token,
      body: { base_uuid: crm, permission: 'r' },
    });
    expect(own.body.permission).toBe('r');
  });

  it('keeps existing tokens working across the lifecycle migration', async () => {
    const Database = (await import('better-sqlite3')).default;
    const { migrateSqlite } = await import('../../src/store/sqlite');
    const { readMigrations } = await import('../../src/store/migration-files');
    const { mintOpaqueToken } = await import('../../src/tokens/opaque');
    const raw = new Database(':memory:');
    raw.pragma('foreign_keys = ON');
    const [init] = readMigrations();
    migrateSqlite(raw, [init!]);
    const minted = await mintOpaqueToken('api');
    raw.exec(`
      INSERT INTO users VALUES ('u1', 'old@example.com', 'Old', 'user', NULL, NULL, 1, 1, 1);
      INSERT INTO workspaces VALUES ('w1', 'Personal', 'u1', 1);
      INSERT INTO bases VALUES ('00000000-0000-4000-8000-000000000001', 'w1', 'Old base', 'u1', 1, 1);
      INSERT INTO base_members VALUES ('00000000-0000-4000-8000-000000000001', 'u1', 'admin', 1);
    `);
    raw
      .prepare(
        "INSERT INTO api_tokens VALUES (?, '00000000-0000-4000-8000-000000000001', 'legacy', 'rw', ?, 'u1', 1, NULL, NULL)",
      )
      .run(minted.id, minted.hash);
    expect(migrateSqlite(raw, readMigrations())).toEqual([
      '0002_token_lifecycle.sql',
      '0003_security.sql',
      '0004_temp_api_tokens.sql',
      '0005_revocation_scope.sql',
      '0006_subject_base_revocations.sql',
      '0007_revocation_generations.sql',
      '0008_one_next_key.sql',
      '0009_api_token_networks.sql',
    ]);
    const row = raw
      .prepare('SELECT scope_type, base_id, permission, grants, enabled, expires_at FROM api_tokens')
      .get();
    expect(row).toEqual({
      scope_type: 'base',
      base_id: '00000000-0000-4000-8000-000000000001',
      permission: 'rw',
      grants: null,
      enabled: 1,
      expires_at: null,
    });

    const { createNodeDeps } = await import('../../src/runtime/node/deps');
    const { createApp } = await import('../../src/app');
    const { generateKekText, importKek } = await import('../../src/keys/kek');
    const { testConfig, silentLog } = await import('../helpers/app');
    const deps = await createNodeDeps({
      raw,
      kek: await importKek(generateKekText()),
      config: testConfig(),
      log: silentLog,
    });
    const response = await createApp(deps).request('/api/v1/base-tokens', {
      method: 'POST',
      headers: { authorization: `Token ${minted.token}` },
    });
    expect(response.status).toBe(201);
    expect((await response.json()).permission).toBe('rw');
  });
});

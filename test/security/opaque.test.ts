// Catalog §2b: attacks on the opaque tokens (Account-Tokens tl_acc_…, API-Tokens tl_api_…).
// Each case: the HTTP status, the error code, and an unchanged database (stateSnapshot).
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { exchangeApiToken } from '../../src/tokens/base-tokens';
import { exchangeTempApiToken } from '../../src/tokens/temp-api-tokens';
import { ON_SQLITE, silentLog, testApp, type CallResult } from '../helpers/app';
import {
  badChecksum,
  callWith,
  expectAppError,
  expectRejected,
  expectSeatableRejected,
  runAttack,
  sameIdOtherSecret,
  SEATABLE_INVALID_TOKEN,
  SECURITY_CONFIG,
  unknownToken,
  withoutRequestId,
  world,
  type AttackCase,
  type World,
} from './helpers';

const DAY = 86400;
let w: World;
beforeAll(async () => {
  w = await world();
});

const me = (token: string) => w.t.call('GET', '/api/v1/me', { token });
const exchange = (token: string, body?: unknown) => w.t.call('POST', '/api/v1/base-tokens', { token, body });
const mintFresh = async (name: string, extra: Record<string, unknown> = {}) => {
  const response = await w.t.call('POST', `/api/v1/bases/${w.baseA}/api-tokens`, {
    token: w.alice.token,
    body: { name, permission: 'rw', ...extra },
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body as { id: string; token: string };
};
const appAccess = (token: string) =>
  w.t.call('GET', '/api/v2.1/dtable/app-access-token/', { headers: { authorization: `Token ${token}` } });

const cases: AttackCase[] = [
  {
    id: 'O-01',
    name: 'Account-Token with a bad checksum',
    request: (w) => me(badChecksum(w.alice.token)),
    status: 401,
    code: 'token_invalid',
  },
  {
    id: 'O-01',
    name: 'API-Token with a bad checksum at the exchange',
    request: (w) => exchange(badChecksum(w.tokens.aliceRw.token)),
    status: 401,
    code: 'token_invalid',
  },
  {
    id: 'O-02',
    name: 'API-Token where an Account-Token is required (/me)',
    request: (w) => me(w.tokens.aliceRw.token),
    status: 401,
    code: 'wrong_token_type',
  },
  {
    id: 'O-02',
    name: 'API-Token used to mint an API-Token',
    request: (w) =>
      w.t.call('POST', `/api/v1/bases/${w.baseA}/api-tokens`, {
        token: w.tokens.aliceRw.token,
        body: { name: 'x', permission: 'r' },
      }),
    status: 401,
    code: 'wrong_token_type',
  },
  {
    id: 'O-02',
    name: 'Base-Token (JWT) where an Account-Token is required',
    request: (w) => me(w.baseTokenA),
    status: 401,
    code: 'wrong_token_type',
  },
  {
    id: 'O-02',
    name: 'Base-Token (JWT) where an API-Token is required',
    request: (w) => exchange(w.baseTokenA),
    status: 401,
    code: 'wrong_token_type',
  },
  {
    id: 'O-02',
    name: 'Account-Token at the exchange without base_uuid (it is no API-Token)',
    request: (w) => exchange(w.alice.token),
    status: 400,
    code: 'invalid_request',
  },
  {
    id: 'O-03',
    name: 'well-formed Account-Token with an unknown id',
    request: async () => me(await unknownToken('account')),
    status: 401,
    code: 'token_invalid',
  },
  {
    id: 'O-03',
    name: 'well-formed API-Token with an unknown id',
    request: async () => exchange(await unknownToken('api')),
    status: 401,
    code: 'token_invalid',
  },
  {
    id: 'O-04',
    name: 'Account-Token: right id, wrong secret',
    request: async (w) => me(await sameIdOtherSecret(w.alice.token)),
    status: 401,
    code: 'token_invalid',
  },
  {
    id: 'O-04',
    name: 'API-Token: right id, wrong secret',
    request: async (w) => exchange(await sameIdOtherSecret(w.tokens.aliceRw.token)),
    status: 401,
    code: 'token_invalid',
  },
  {
    id: 'O-06',
    name: "GET another user's API-Token by id",
    request: (w) => w.t.call('GET', `/api/v1/api-tokens/${w.tokens.taraToken.id}`, { token: w.carol.token }),
    status: 404,
    code: 'not_found',
  },
  {
    id: 'O-06',
    name: "PATCH another user's API-Token by id",
    request: (w) =>
      w.t.call('PATCH', `/api/v1/api-tokens/${w.tokens.taraToken.id}`, {
        token: w.carol.token,
        body: { enabled: false },
      }),
    status: 404,
    code: 'not_found',
  },
  {
    id: 'O-06',
    name: "regenerate another user's API-Token by id",
    request: (w) =>
      w.t.call('POST', `/api/v1/api-tokens/${w.tokens.taraToken.id}/regenerate`, { token: w.carol.token }),
    status: 404,
    code: 'not_found',
  },
  {
    id: 'O-06',
    name: "revoke another user's Account-Token by id",
    setup: async (w) =>
      (await w.t.call('GET', '/api/v1/account-tokens', { token: w.tara.token })).body.account_tokens[0].id,
    request: (w, id) =>
      w.t.call('DELETE', `/api/v1/account-tokens/${id as string}`, { token: w.carol.token }),
    status: 404,
    code: 'not_found',
    after: async (w) => expect((await me(w.tara.token)).status).toBe(200),
  },
  {
    id: 'O-07',
    name: 'deleted API-Token',
    setup: async (w) => {
      const token = await mintFresh('o07');
      expect(
        (await w.t.call('DELETE', `/api/v1/api-tokens/${token.id}`, { token: w.alice.token })).status,
      ).toBe(204);
      return token;
    },
    request: (_w, token) => exchange((token as { token: string }).token),
    status: 401,
    code: 'token_revoked',
  },
  {
    id: 'O-07',
    name: 'revoked Account-Token',
    setup: async (w) => {
      const token = await w.t.login(w.carol.email, 'a perfectly fine passphrase');
      const listed = (await w.t.call('GET', '/api/v1/account-tokens', { token })).body.account_tokens.find(
        (row: { current: boolean }) => row.current,
      );
      expect((await w.t.call('DELETE', `/api/v1/account-tokens/${listed.id}`, { token })).status).toBe(204);
      return token;
    },
    request: (_w, token) => me(token as string),
    status: 401,
    code: 'token_revoked',
  },
  {
    id: 'O-08',
    name: 'disabled API-Token (works again once re-enabled)',
    setup: async (w) => {
      const token = await mintFresh('o08');
      expect(
        (
          await w.t.call('PATCH', `/api/v1/api-tokens/${token.id}`, {
            token: w.alice.token,
            body: { enabled: false },
          })
        ).status,
      ).toBe(200);
      return token;
    },
    request: (_w, token) => exchange((token as { token: string }).token),
    status: 401,
    code: 'token_disabled',
    after: async (w, token) => {
      const { id, token: secret } = token as { id: string; token: string };
      expect(
        (
          await w.t.call('PATCH', `/api/v1/api-tokens/${id}`, {
            token: w.alice.token,
            body: { enabled: true },
          })
        ).status,
      ).toBe(200);
      expect((await exchange(secret)).status).toBe(201);
    },
  },
  {
    id: 'O-10',
    name: 'old secret right after regenerate (id, name, permission unchanged)',
    setup: async (w) => {
      const token = await mintFresh('o10');
      const regenerated = await w.t.call('POST', `/api/v1/api-tokens/${token.id}/regenerate`, {
        token: w.alice.token,
      });
      expect(regenerated.status).toBe(200);
      expect(regenerated.body).toMatchObject({ id: token.id, name: 'o10', permission: 'rw' });
      return { ...token, fresh: regenerated.body.token as string };
    },
    request: (_w, token) => exchange((token as { token: string }).token),
    status: 401,
    code: 'token_invalid',
    after: async (_w, token) => expect((await exchange((token as { fresh: string }).fresh)).status).toBe(201),
  },
  {
    id: 'O-11',
    name: "deactivated user's Account-Token",
    setup: async (w) => {
      const user = await w.user('o11a@example.com');
      expect(
        (
          await w.t.call('PATCH', `/api/v1/users/${user.id}`, {
            token: w.admin.token,
            body: { is_active: false },
          })
        ).status,
      ).toBe(200);
      return user;
    },
    request: (_w, user) => me((user as { token: string }).token),
    status: 401,
    code: 'account_disabled',
  },
  {
    id: 'O-11',
    name: "deactivated creator's API-Token",
    setup: async (w) => {
      const user = await w.user('o11b@example.com');
      await w.member(w.baseA, user, 'rw');
      const token = await w.t.createApiToken(user.token, w.baseA, 'o11b', 'rw');
      expect(
        (
          await w.t.call('PATCH', `/api/v1/users/${user.id}`, {
            token: w.admin.token,
            body: { is_active: false },
          })
        ).status,
      ).toBe(200);
      return token;
    },
    request: (_w, token) => exchange((token as { token: string }).token),
    status: 401,
    code: 'account_disabled',
  },
  {
    id: 'O-11',
    name: 'API-Token whose creator left the base',
    setup: async (w) => {
      const user = await w.user('o11c@example.com');
      await w.member(w.baseA, user, 'rw');
      const token = await w.t.createApiToken(user.token, w.baseA, 'o11c', 'rw');
      expect(
        (await w.t.call('DELETE', `/api/v1/bases/${w.baseA}/members/${user.id}`, { token: w.alice.token }))
          .status,
      ).toBe(204);
      return token;
    },
    request: (_w, token) => exchange((token as { token: string }).token),
    status: 403,
    code: 'insufficient_permission',
  },
  {
    id: 'O-13',
    name: 'token in the query string is ignored',
    request: (w) =>
      w.t.call(
        'GET',
        `/api/v1/me?token=${w.alice.token}&api_token=${w.alice.token}&access_token=${w.alice.token}`,
      ),
    status: 401,
    code: 'missing_credentials',
  },
  {
    id: 'O-13',
    name: 'API-Token in the query string at the exchange is ignored',
    request: (w) => w.t.call('POST', `/api/v1/base-tokens?token=${w.tokens.aliceRw.token}`),
    status: 401,
    code: 'missing_credentials',
  },
  ...[
    ['two Authorization headers (joined with a comma)', (t: string) => `Bearer ${t}, Bearer ${t}`],
    ['double space', (t: string) => `Bearer  ${t}`],
    ['tab', (t: string) => `Bearer\t${t}`],
    ['trailing junk', (t: string) => `Bearer ${t} junk`],
    ['Basic scheme', (t: string) => `Basic ${t}`],
    ['scheme only', () => 'Bearer'],
  ].map(
    ([name, header]): AttackCase => ({
      id: 'O-14',
      name: name as string,
      request: (w) => callWith(w.t, 'GET', '/api/v1/me', (header as (t: string) => string)(w.alice.token)),
      status: 400,
      code: 'invalid_authorization_header',
    }),
  ),
  {
    id: 'O-14',
    name: 'two Authorization headers appended separately',
    request: async (w) => {
      const headers = new Headers();
      headers.append('authorization', `Bearer ${w.alice.token}`);
      headers.append('authorization', `Bearer ${w.bob.token}`);
      const response = await w.t.app.request('/api/v1/me', { headers });
      return {
        status: response.status,
        body: await response.json(),
        headers: response.headers,
      } as CallResult;
    },
    status: 400,
    code: 'invalid_authorization_header',
  },
  {
    id: 'O-15',
    name: '10 KB token',
    request: (w) => me(w.alice.token + 'a'.repeat(10_240)),
    status: 400,
    code: 'invalid_authorization_header',
  },
  // Node hands non-ASCII header bytes to the app as Latin-1 characters; that is what arrives here.
  ...[
    [
      'Cyrillic homoglyph а',
      (t: string) => t.slice(0, 10) + Buffer.from('а').toString('latin1') + t.slice(11),
    ],
    ['zero-width space', (t: string) => t + Buffer.from('\u200B').toString('latin1')],
  ].map(
    ([name, mutate]): AttackCase => ({
      id: 'O-15',
      name: name as string,
      request: (w) =>
        callWith(w.t, 'GET', '/api/v1/me', `Bearer ${(mutate as (t: string) => string)(w.alice.token)}`),
      status: 400,
      code: 'invalid_authorization_header',
    }),
  ),
];

describe('opaque-token attacks: refused, with the right code, nothing written', () => {
  for (const attack of cases) it(`${attack.id} ${attack.name}`, () => runAttack(w, attack));

  it.runIf(ON_SQLITE)('O-01 a bad checksum is refused before any database query', async () => {
    const prepare = vi.spyOn(w.t.raw, 'prepare');
    try {
      await expectRejected(w.t, () => me(badChecksum(w.alice.token)), 401, 'token_invalid');
      await expectRejected(w.t, () => exchange(badChecksum(w.tokens.aliceRw.token)), 401, 'token_invalid');
      const calls = prepare.mock.calls
        .map(([sql]) => String(sql))
        .filter((sql) => !/sqlite_master|^SELECT \* FROM "|^SELECT [^;]* FROM audit_events/.test(sql));
      expect(calls).toEqual([]);
    } finally {
      prepare.mockRestore();
    }
  });

  it.runIf(ON_SQLITE)('O-02 wrong kind of opaque token is refused before any database query', async () => {
    const prepare = vi.spyOn(w.t.raw, 'prepare');
    try {
      await expectRejected(w.t, () => me(w.tokens.aliceRw.token), 401, 'wrong_token_type');
      const calls = prepare.mock.calls
        .map(([sql]) => String(sql))
        .filter((sql) => !/sqlite_master|^SELECT \* FROM "|^SELECT [^;]* FROM audit_events/.test(sql));
      expect(calls).toEqual([]);
      // An Account-Token where only an API-Token is accepted (SeaTable's app-access-token).
      await expectSeatableRejected(w.t, () => appAccess(w.alice.token), 401, SEATABLE_INVALID_TOKEN);
      await expectAppError(exchangeApiToken(w.t.deps, w.alice.token, {}), 'wrong_token_type');
    } finally {
      prepare.mockRestore();
    }
  });

  it('O-04 unknown id and wrong secret get byte-identical answers', async () => {
    for (const [route, real, kind] of [
      [
        (token: string) => w.t.app.request('/api/v1/me', { headers: { authorization: `Bearer ${token}` } }),
        w.alice.token,
        'account',
      ],
      [
        (token: string) =>
          w.t.app.request('/api/v1/base-tokens', {
            method: 'POST',
            headers: { authorization: `Bearer ${token}` },
          }),
        w.tokens.aliceRw.token,
        'api',
      ],
    ] as const) {
      const unknown = await route(await unknownToken(kind));
      const wrong = await route(await sameIdOtherSecret(real));
      expect(wrong.status).toBe(unknown.status);
      expect(withoutRequestId(await wrong.text())).toBe(withoutRequestId(await unknown.text()));
      const headers = (r: Response) => [...r.headers].filter(([name]) => name !== 'x-request-id').sort();
      expect(headers(wrong)).toEqual(headers(unknown));
    }
  });

  it.runIf(ON_SQLITE)(
    'O-05 the same work in every branch: one token hash before the lookup, one indexed query',
    async () => {
      const hash = vi.spyOn(w.t.deps, 'hashToken');
      const prepare = vi.spyOn(w.t.raw, 'prepare');
      try {
        const work = async (request: () => Promise<unknown>) => {
          hash.mockClear();
          prepare.mockClear();
          await request();
          return { hashes: hash.mock.calls.length, queries: prepare.mock.calls.map(([sql]) => String(sql)) };
        };
        for (const [run, real, kind] of [
          [me, w.alice.token, 'account'],
          [exchange, w.tokens.aliceRw.token, 'api'],
        ] as const) {
          const unknown = await work(async () => run(await unknownToken(kind)));
          const wrong = await work(async () => run(await sameIdOtherSecret(real)));
          expect(unknown.hashes).toBe(1);
          expect(wrong).toEqual(unknown);
          // Looked up by id (primary key), never by the secret or its hash.
          for (const sql of wrong.queries) expect(sql).not.toMatch(/secret_hash"?\s*=/);
        }
      } finally {
        hash.mockRestore();
        prepare.mockRestore();
      }
    },
  );

  it('O-06 ids are random 80-bit values, never sequential', async () => {
    const a = await mintFresh('o06-a');
    const b = await mintFresh('o06-b');
    for (const id of [a.id, b.id]) expect(id).toMatch(/^[a-z2-7]{16}$/);
    expect(a.id.slice(0, 8)).not.toBe(b.id.slice(0, 8));
    // And an id that is not even well-formed is a 400, not a lookup.
    await expectRejected(
      w.t,
      () => w.t.call('DELETE', '/api/v1/api-tokens/1', { token: w.carol.token }),
      400,
      'invalid_request',
    );
  });

  it('O-09 expired exactly at expires_at (API-Token and Account-Token)', async () => {
    const token = await mintFresh('o09', { expires_in_days: 1 });
    const signIn = await w.t.call('POST', '/api/v1/account-tokens', {
      body: { email: w.carol.email, password: 'a perfectly fine passphrase', expires_in_days: 1 },
    });
    expect(signIn.status).toBe(201);
    w.t.clock.advance(DAY - 1);
    try {
      expect((await exchange(token.token)).status).toBe(201);
      expect((await me(signIn.body.token)).status).toBe(200);
      w.t.clock.advance(1);
      await expectRejected(w.t, () => exchange(token.token), 401, 'token_expired');
      await expectRejected(w.t, () => me(signIn.body.token), 401, 'token_expired');
    } finally {
      w.t.clock.advance(-DAY);
    }
  });

  it('O-10 old secret during and after the grace period', async () => {
    const token = await mintFresh('o10-grace');
    const regenerated = await w.t.call('POST', `/api/v1/api-tokens/${token.id}/regenerate`, {
      token: w.alice.token,
      body: { grace_seconds: 600 },
    });
    expect(regenerated.status).toBe(200);
    try {
      w.t.clock.advance(599);
      expect((await exchange(token.token)).status).toBe(201);
      w.t.clock.advance(1);
      await expectRejected(w.t, () => exchange(token.token), 401, 'token_invalid');
      expect((await exchange(regenerated.body.token)).status).toBe(201);
    } finally {
      w.t.clock.advance(-600);
    }
  });

  it('O-11 a deactivated user is refused on every kind of route', async () => {
    const user = await w.user('o11d@example.com');
    await w.member(w.baseA, user, 'rw');
    const apiToken = await w.t.createApiToken(user.token, w.baseA, 'o11d', 'rw');
    expect(
      (
        await w.t.call('PATCH', `/api/v1/users/${user.id}`, {
          token: w.admin.token,
          body: { is_active: false },
        })
      ).status,
    ).toBe(200);
    for (const [method, path] of [
      ['GET', '/api/v1/account-tokens'],
      ['GET', '/api/v1/bases'],
      ['GET', '/api/v1/api-tokens'],
      ['POST', '/api/v1/bases'],
    ] as const) {
      await expectRejected(
        w.t,
        () =>
          w.t.call(method, path, {
            token: user.token,
            ...(method === 'POST' ? { body: { name: 'x' } } : {}),
          }),
        401,
        'account_disabled',
      );
    }
    await expectRejected(w.t, () => exchange(user.token, { base_uuid: w.baseA }), 401, 'account_disabled');
    await expectSeatableRejected(
      w.t,
      () => w.t.call('GET', '/api2/account/info/', { token: user.token }),
      401,
      { detail: 'User inactive or deleted' },
    );
    await expectSeatableRejected(w.t, () => appAccess(apiToken.token), 401, {
      detail: 'User inactive or deleted',
    });
    // Signing in is refused exactly like a wrong password.
    await expectRejected(
      w.t,
      () =>
        w.t.call('POST', '/api/v1/account-tokens', {
          body: { email: user.email, password: 'a perfectly fine passphrase' },
        }),
      401,
      'invalid_credentials',
    );
  });

  it('O-12 a temporary API-Token one hour and one second old', async () => {
    const workspace = await w.workspaceOf(w.alice);
    const temp = await w.t.call('GET', `/api/v2.1/workspace/${workspace}/dtable/A/temp-api-token/`, {
      token: w.alice.token,
    });
    expect(temp.status).toBe(200);
    try {
      w.t.clock.advance(3601);
      await expectSeatableRejected(w.t, () => appAccess(temp.body.api_token), 401, SEATABLE_INVALID_TOKEN);
      await expectAppError(exchangeTempApiToken(w.t.deps, temp.body.api_token), 'token_expired');
      // The native exchange never takes a temporary token at all.
      await expectRejected(w.t, () => exchange(temp.body.api_token), 401, 'wrong_token_type');
    } finally {
      w.t.clock.advance(-3601);
    }
  });

  it('O-16 no issued secret reaches the database file, its WAL or the logs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-o16-'));
    try {
      const file = join(dir, 'db.sqlite');
      const t = await testApp({ file, config: SECURITY_CONFIG });
      silentLog.lines.length = 0;
      const admin = await t.login();
      const base = await t.createBase(admin, 'Secrets');
      const api = await t.createApiToken(admin, base, 'secret-job', 'rw');
      const regenerated = (
        await t.call('POST', `/api/v1/api-tokens/${api.id}/regenerate`, {
          token: admin,
          body: { grace_seconds: 60 },
        })
      ).body.token as string;
      const baseToken = (await t.call('POST', '/api/v1/base-tokens', { token: regenerated })).body
        .base_token as string;
      // Failures are logged too: feed some bad requests through.
      await t.call('GET', '/api/v1/me', { token: badChecksum(admin) });
      await t.call('POST', '/api/v1/base-tokens', { token: await sameIdOtherSecret(api.token) });
      const secrets = [admin, api.token, regenerated, baseToken, 'correct horse battery staple'];
      const files = [file, `${file}-wal`, `${file}-journal`].filter((path) => existsSync(path));
      expect(files.length).toBeGreaterThan(0);
      for (const path of files) {
        const bytes = readFileSync(path).toString('latin1');
        for (const secret of secrets)
          expect(bytes.includes(secret), `${secret.slice(0, 12)}… in ${path}`).toBe(false);
      }
      const logs = silentLog.lines.join('\n');
      for (const secret of secrets) expect(logs.includes(secret)).toBe(false);
      t.raw.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('O-17 secrets are never shown again: lists and reads carry ids and names only', async () => {
    const token = await mintFresh('o17');
    const secrets = [token.token, w.alice.token, w.tokens.aliceRw.token];
    const reads = [
      await w.t.call('GET', '/api/v1/api-tokens', { token: w.alice.token }),
      await w.t.call('GET', `/api/v1/api-tokens/${token.id}`, { token: w.alice.token }),
      await w.t.call('GET', `/api/v1/bases/${w.baseA}/api-tokens`, { token: w.alice.token }),
      await w.t.call('GET', '/api/v1/account-tokens', { token: w.alice.token }),
      await w.t.call('GET', `/api/v2.1/workspace/${await w.workspaceOf(w.alice)}/dtable/A/api-tokens/`, {
        token: w.alice.token,
      }),
      await w.t.call('GET', `/api/v2.1/admin/dtables/${w.baseA}/api-tokens/`, { token: w.admin.token }),
    ];
    for (const read of reads) {
      expect(read.status).toBe(200);
      const text = JSON.stringify(read.body);
      for (const secret of secrets) expect(text.includes(secret)).toBe(false);
      expect(text).not.toMatch(/tl_(acc|api)_[a-z2-7]{20}/);
      expect(text).not.toMatch(/secret_hash/);
    }
  });
});

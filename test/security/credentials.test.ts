// Credentials (issue 6): login throttling, the password policy, password change, an admin's revoke-all.
// Named after the catalog ids (shared/research/security-catalog.md, section 2c) where they match.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { passwordLengthDeviation, passwordPolicyProblem } from '../../src/accounts/passwords';
import { appConfigFromEnv, parseEnv } from '../../src/config';
import { generateKekText, importKek } from '../../src/keys/kek';
import { createNodeDeps } from '../../src/runtime/node/deps';
import { ensureAdmin, IGNORED_BECAUSE } from '../../src/startup';
import { readMigrations } from '../../src/store/migration-files';
import { configureSqlite, migrateSqlite } from '../../src/store/sqlite';
import { hitCounter, peekCounter, resetCounter } from '../../src/throttle/counters';
import { ON_SQLITE, ADMIN, PASSWORD, testApp, testConfig, type TestApp } from '../helpers/app';
import { dbDigest } from '../helpers/db-digest';

/** A migrated database with no user yet: what a first start sees. Logs go to `lines`. */
async function emptyDatabase() {
  const raw = new Database(':memory:');
  configureSqlite(raw);
  migrateSqlite(raw, readMigrations());
  const lines: string[] = [];
  const log = {
    info: () => {},
    warn: (message: string) => lines.push(`warn ${message}`),
    error: (message: string) => lines.push(`error ${message}`),
  };
  const deps = await createNodeDeps({
    raw,
    kek: await importKek(generateKekText()),
    config: testConfig(),
    log,
  });
  const users = () => raw.prepare('SELECT email, role FROM users').all();
  return { raw, deps, lines, users };
}

const LIMITS = { accountLimit: 3, addressLimit: 5, windowSeconds: 900 };
const TOO_MANY = { error: { code: 'rate_limited', message: 'too many sign-in attempts; try again later' } };

const counters = (raw: Database.Database) =>
  raw.prepare('SELECT key, hits, window_start FROM throttle_counters ORDER BY key').all() as {
    key: string;
    hits: number;
    window_start: number;
  }[];

// "Nothing changed" below is `dbDigest`: every table but the audit log and these counters (checked on their own).
/** Uses each token once, so its `last_used_at` (one-minute resolution) is written before a snapshot. */
async function warm(t: TestApp, ...tokens: string[]) {
  for (const token of tokens) expect((await t.call('GET', '/api/v1/me', { token })).status).toBe(200);
}

/** Signs in from `ip`; error bodies without their per-request `request_id`, so two answers can be compared. */
async function signIn(
  t: TestApp,
  email: string,
  password: string,
  ip = '203.0.113.1',
  headers: Record<string, string> = {},
) {
  const reply = await t.call('POST', '/api/v1/account-tokens', {
    body: { email, password },
    headers: { 'x-test-client-ip': ip, ...headers },
  });
  if (reply.body?.error) delete reply.body.error.request_id;
  return reply;
}

describe('login throttling', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp({ config: { loginThrottle: LIMITS } });
  });

  it.runIf(ON_SQLITE)(
    'C-01 locks an account after N failures: 429 + Retry-After, even for the right password, with no hash computed',
    async () => {
      for (let i = 0; i < 3; i++)
        expect((await signIn(t, ADMIN.email, 'wrong wrong wrong wrong')).status).toBe(401);
      const verify = vi.spyOn(t.deps.passwords, 'verify');
      const hash = vi.spyOn(t.deps.passwords, 'hash');
      const before = dbDigest(t.raw);

      const locked = await signIn(t, ADMIN.email, ADMIN.password);
      expect(locked.status).toBe(429);
      expect(locked.body).toEqual(TOO_MANY);
      expect(locked.headers.get('retry-after')).toBe('900');

      t.clock.advance(600);
      const later = await signIn(t, ADMIN.email, ADMIN.password, '198.51.100.7');
      expect(later.status).toBe(429);
      expect(later.headers.get('retry-after')).toBe('300');
      expect(verify).not.toHaveBeenCalled();
      expect(hash).not.toHaveBeenCalled();
      expect(dbDigest(t.raw)).toBe(before);

      // The window ends: the right password works again.
      t.clock.advance(300);
      expect((await signIn(t, ADMIN.email, ADMIN.password)).status).toBe(201);
      expect(verify).toHaveBeenCalledTimes(1);
    },
  );

  it('C-03 a successful sign-in resets the account counter', async () => {
    for (let i = 0; i < 2; i++)
      expect((await signIn(t, ADMIN.email, 'wrong wrong wrong wrong')).status).toBe(401);
    expect((await signIn(t, ADMIN.email, ADMIN.password)).status).toBe(201);
    for (let i = 0; i < 3; i++)
      expect((await signIn(t, ADMIN.email, 'wrong wrong wrong wrong')).status).toBe(401);
    expect((await signIn(t, ADMIN.email, ADMIN.password)).status).toBe(429);
  });

  it('C-03 counts per account across addresses (distributed guessing)', async () => {
    for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3'])
      expect((await signIn(t, ADMIN.email, 'wrong wrong wrong wrong', ip)).status).toBe(401);
    expect((await signIn(t, ADMIN.email, ADMIN.password, '192.0.2.4')).status).toBe(429);
  });

  it.runIf(ON_SQLITE)(
    'C-04 an unknown email is throttled exactly like a known one (status, body, Retry-After)',
    async () => {
      const known: { status: number; body: unknown }[] = [];
      const unknown: { status: number; body: unknown }[] = [];
      for (let i = 0; i < 4; i++) {
        const a = await signIn(t, ADMIN.email, 'wrong wrong wrong wrong', '192.0.2.10');
        const b = await signIn(t, 'nobody@example.com', 'wrong wrong wrong wrong', '192.0.2.11');
        known.push({ status: a.status, body: a.body });
        unknown.push({ status: b.status, body: b.body });
        if (i === 3) expect(a.headers.get('retry-after')).toBe(b.headers.get('retry-after'));
      }
      expect(unknown).toEqual(known);
      expect(known.map((r) => r.status)).toEqual([401, 401, 401, 429]);
      // Keys are a hash of the normalised email: no email in the table, and case does not escape the lock.
      expect(JSON.stringify(counters(t.raw))).not.toContain('example.com');
      expect((await signIn(t, 'NOBODY@Example.com ', 'wrong wrong wrong wrong', '192.0.2.12')).status).toBe(
        429,
      );
    },
  );

  it('C-02 limits failures per client address (credential stuffing); other headers do not change the address', async () => {
    for (let i = 0; i < 5; i++) {
      const reply = await signIn(t, `victim${i}@example.com`, 'wrong wrong wrong wrong', '198.51.100.1', {
        'x-forwarded-for': `10.0.0.${i}`,
      });
      expect(reply.status).toBe(401);
    }
    const blocked = await signIn(t, ADMIN.email, ADMIN.password, '198.51.100.1', {
      'x-forwarded-for': '10.9.9.9',
    });
    expect(blocked.status).toBe(429);
    expect(blocked.body).toEqual(TOO_MANY);
    expect(blocked.headers.get('retry-after')).toBe('900');
    // Another address is not affected, and successes do not count against an address.
    for (let i = 0; i < 6; i++)
      expect((await signIn(t, ADMIN.email, ADMIN.password, '198.51.100.2')).status).toBe(201);
  });

  it.runIf(ON_SQLITE)(
    'R-05 parallel guesses cannot overshoot the limit: exactly N passwords checked',
    async () => {
      const verify = vi.spyOn(t.deps.passwords, 'verify');
      const replies = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          signIn(t, ADMIN.email, 'wrong wrong wrong wrong', `192.0.2.${100 + i}`),
        ),
      );
      expect(replies.filter((r) => r.status === 401)).toHaveLength(3);
      expect(replies.filter((r) => r.status === 429)).toHaveLength(7);
      expect(verify).toHaveBeenCalledTimes(3);
      expect(counters(t.raw).find((row) => row.key.startsWith('login:account:'))?.hits).toBe(10);
    },
  );

  it('throttles the SeaTable-compatible sign-in with the same counters', async () => {
    const seatable = (password: string) =>
      t.call('POST', '/api2/auth-token/', {
        body: { username: ADMIN.email, password },
        headers: { 'x-test-client-ip': '203.0.113.9' },
      });
    for (let i = 0; i < 2; i++) expect((await seatable('wrong wrong wrong wrong')).status).toBe(400);
    expect((await signIn(t, ADMIN.email, 'wrong wrong wrong wrong')).status).toBe(401);
    const locked = await seatable(ADMIN.password);
    expect(locked.status).toBe(429);
    expect(locked.body).toEqual({ detail: 'Request was throttled.' });
    expect(locked.headers.get('retry-after')).toBe('900');
  });

  it.runIf(ON_SQLITE)('prunes counters whose window has ended', async () => {
    await signIn(t, 'someone@example.com', 'wrong wrong wrong wrong');
    expect(counters(t.raw)).toHaveLength(2);
    t.clock.advance(2 * 3600);
    await signIn(t, ADMIN.email, ADMIN.password, '192.0.2.200');
    // The old two are gone; the new attempt's address counter stays (with its success given back).
    expect(counters(t.raw)).toEqual([
      { key: 'login:address:192.0.2.200', hits: 0, window_start: expect.any(Number) },
    ]);
  });
});

describe('C-01 counters survive a restart (SQLite file)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tokenladder-throttle-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps an account locked after the process restarts', async () => {
    const file = join(dir, 'tokenladder.db');
    const first = await testApp({ file, config: { loginThrottle: LIMITS } });
    for (let i = 0; i < 3; i++)
      expect((await signIn(first, ADMIN.email, 'wrong wrong wrong wrong')).status).toBe(401);
    first.raw.close();

    const second = await testApp({ file, kekText: first.kekText, config: { loginThrottle: LIMITS } });
    try {
      const locked = await signIn(second, ADMIN.email, ADMIN.password, '192.0.2.77');
      expect(locked.status).toBe(429);
      expect(locked.headers.get('retry-after')).toBe('900');
    } finally {
      second.raw.close();
    }
  });
});

describe('throttle configuration', () => {
  it('defaults to 10 per account and 100 per address in 15 minutes; the account cap stays within NIST’s 100', () => {
    expect(appConfigFromEnv(parseEnv({})).loginThrottle).toEqual({
      accountLimit: 10,
      addressLimit: 100,
      windowSeconds: 900,
    });
    const env = parseEnv({
      TOKENLADDER_LOGIN_LIMIT_ACCOUNT: '5',
      TOKENLADDER_LOGIN_LIMIT_ADDRESS: '1000',
      TOKENLADDER_LOGIN_WINDOW: '3600',
    });
    expect(appConfigFromEnv(env).loginThrottle).toEqual({
      accountLimit: 5,
      addressLimit: 1000,
      windowSeconds: 3600,
    });
    expect(() => parseEnv({ TOKENLADDER_LOGIN_LIMIT_ACCOUNT: '101' })).toThrow(
      /TOKENLADDER_LOGIN_LIMIT_ACCOUNT/,
    );
    expect(() => parseEnv({ TOKENLADDER_LOGIN_LIMIT_ADDRESS: '0' })).toThrow(
      /TOKENLADDER_LOGIN_LIMIT_ADDRESS/,
    );
    expect(() => parseEnv({ TOKENLADDER_LOGIN_WINDOW: '10' })).toThrow(/TOKENLADDER_LOGIN_WINDOW/);
  });
});

describe('throttle counters (src/throttle/counters.ts)', () => {
  it('counts in a window anchored at the first hit, peeks without counting, resets', async () => {
    const t = await testApp();
    const limit = { limit: 2, windowSeconds: 60 };
    expect(await peekCounter(t.deps, 'k', limit)).toMatchObject({ allowed: true, hits: 0 });
    expect(await hitCounter(t.deps, 'k', limit)).toMatchObject({
      allowed: true,
      hits: 1,
      retryAfterSeconds: 0,
    });
    t.clock.advance(10);
    expect(await hitCounter(t.deps, 'k', limit)).toMatchObject({ allowed: true, hits: 2 });
    expect(await peekCounter(t.deps, 'k', limit)).toMatchObject({
      allowed: false,
      hits: 2,
      retryAfterSeconds: 50,
    });
    expect(await hitCounter(t.deps, 'k', limit)).toMatchObject({
      allowed: false,
      hits: 3,
      retryAfterSeconds: 50,
    });
    // F-11: a clock stepping back never unlocks early, and Retry-After stays within one window.
    t.clock.advance(-3600);
    expect(await hitCounter(t.deps, 'k', limit)).toMatchObject({
      allowed: false,
      hits: 4,
      retryAfterSeconds: 60,
    });
    t.clock.advance(3600 + 50);
    expect(await hitCounter(t.deps, 'k', limit)).toMatchObject({ allowed: true, hits: 1 });
    await resetCounter(t.deps, 'k');
    expect(await peekCounter(t.deps, 'k', limit)).toMatchObject({ allowed: true, hits: 0 });
  });
});

describe('password policy', () => {
  let t: TestApp;
  let admin: string;
  beforeEach(async () => {
    t = await testApp();
    admin = await t.login();
    await warm(t, admin);
  });

  const create = (email: string, password: string) =>
    t.call('POST', '/api/v1/users', { token: admin, body: { email, password, role: 'user' } });

  it.runIf(ON_SQLITE)(
    'C-09 refuses passwords on the common-password list, case-insensitively after NFKC, also padded with digits or symbols',
    async () => {
      const before = dbDigest(t.raw);
      for (const password of [
        '1qaz2wsx3edc4rfv',
        '1QAZ2WSX3EDC4RFV',
        '１ｑａｚ２ｗｓｘ３ｅｄｃ４ｒｆｖ',
        'password12345678',
        'Baseball2024!!!!',
        'iloveyou 1234567',
      ]) {
        const reply = await create('c09@example.com', password);
        expect(reply.status, password).toBe(400);
        expect(reply.body.error.code).toBe('invalid_request');
        expect(reply.body.error.message).toMatch(/too common/);
      }
      expect(dbDigest(t.raw)).toBe(before);
    },
  );

  it('C-09 refuses the email address or its local part as the password', async () => {
    const email = 'Jonathan.Livingston@example.com';
    for (const password of [
      'jonathan.livingston@example.com',
      'JONATHAN.LIVINGSTON',
      'jonathan.livingston2024!',
      'tokenladder123456',
    ]) {
      const reply = await create(email, password);
      expect(reply.status, password).toBe(400);
      expect(reply.body.error.message).toMatch(/email address|name of this service/);
    }
    // Longer passwords that merely contain the name are fine (whole-password compare).
    expect((await create(email, 'jonathan.livingston seagull flies')).status).toBe(201);
  });

  it('C-10 accepts a passphrase without composition rules', async () => {
    expect((await create('c10@example.com', 'correct horse battery staple')).status).toBe(201);
    expect((await create('c10b@example.com', 'all lower case and spaces')).status).toBe(201);
  });

  it.runIf(ON_SQLITE)(
    'applies to an admin setting a password (PATCH) and to the first admin (ensureAdmin, on Node and Workers)',
    async () => {
      const user = (await create('pat@example.com', PASSWORD)).body;
      const before = dbDigest(t.raw);
      const patched = await t.call('PATCH', `/api/v1/users/${user.id}`, {
        token: admin,
        body: { password: 'pat@example.com' },
      });
      expect(patched.status).toBe(400);
      expect(dbDigest(t.raw)).toBe(before);

      const env = parseEnv({
        TOKENLADDER_ADMIN_EMAIL: 'root@example.com',
        TOKENLADDER_ADMIN_PASSWORD: 'password12345678',
      });
      // The first admin is made on an empty database only, so that is where the policy applies.
      const empty = await emptyDatabase();
      await expect(ensureAdmin(empty.deps, env, () => {})).rejects.toThrow(
        /TOKENLADDER_ADMIN_PASSWORD: password is too common/,
      );
      expect(empty.users()).toEqual([]);
      // Workers make their first admin through the same ensureAdmin (prepare), on an empty D1 only
      // (test/workers/handler.test.ts: refused there, ignored once D1 has users).
      await expect(
        ensureAdmin(
          empty.deps,
          parseEnv({
            TOKENLADDER_ADMIN_EMAIL: 'ops@example.com',
            TOKENLADDER_ADMIN_PASSWORD: 'ops@example.com',
          }),
        ),
      ).rejects.toThrow(/TOKENLADDER_ADMIN_PASSWORD: password must not be your email address/);
      expect(empty.users()).toEqual([]);
    },
  );

  it('lets the minimum go down to 8 (then short common passwords matter) and warns about it', () => {
    const config = { passwordMinLength: 8, passwordMaxLength: 128 };
    expect(passwordPolicyProblem({ config }, 'baseball')).toMatch(/too common/);
    expect(passwordPolicyProblem({ config }, 'blue tide')).toBeNull();
    expect(passwordLengthDeviation(config)).toMatch(
      /TOKENLADDER_PASSWORD_MIN_LENGTH=8 is below the 15 characters/,
    );
    expect(passwordLengthDeviation({ passwordMinLength: 15, passwordMaxLength: 128 })).toBeNull();
  });
});

describe('the first admin from TOKENLADDER_ADMIN_EMAIL/PASSWORD (issue 15: the quick start)', () => {
  const WEAK = parseEnv({ TOKENLADDER_ADMIN_EMAIL: 'root@example.com', TOKENLADDER_ADMIN_PASSWORD: 'short' });
  const GOOD = parseEnv({
    TOKENLADDER_ADMIN_EMAIL: 'root@example.com',
    TOKENLADDER_ADMIN_PASSWORD: 'a long admin passphrase from env',
  });

  it('are ignored once users exist, with a warning naming them and saying why; nothing changes', async () => {
    const empty = await emptyDatabase();
    const printed: string[] = [];
    await ensureAdmin(empty.deps, GOOD, (line) => printed.push(line));
    expect(empty.users()).toEqual([{ email: 'root@example.com', role: 'system_admin' }]);
    expect(empty.lines).toEqual([]);

    // A restart with other values: the existing admin stays, the variables are ignored, loudly.
    const before = dbDigest(empty.raw);
    const other = parseEnv({
      TOKENLADDER_ADMIN_EMAIL: 'admin@example.com',
      TOKENLADDER_ADMIN_PASSWORD: 'change me to a long passphrase',
    });
    await ensureAdmin(empty.deps, other, (line) => printed.push(line));
    expect(dbDigest(empty.raw)).toBe(before);
    expect(empty.lines).toEqual([
      `warn TOKENLADDER_ADMIN_EMAIL and TOKENLADDER_ADMIN_PASSWORD ignored: ${IGNORED_BECAUSE}`,
    ]);
    expect(printed).toEqual(['tokenladder: created the first system admin root@example.com']);
  });

  it('a weak TOKENLADDER_ADMIN_PASSWORD left in the environment does not block a restart once the admin exists', async () => {
    const empty = await emptyDatabase();
    await expect(ensureAdmin(empty.deps, WEAK, () => {})).rejects.toThrow(
      'TOKENLADDER_ADMIN_PASSWORD: password must be at least 15 characters',
    );
    expect(empty.users()).toEqual([]);

    await ensureAdmin(empty.deps, GOOD, () => {});
    const before = dbDigest(empty.raw);
    await ensureAdmin(empty.deps, WEAK, () => {});
    expect(dbDigest(empty.raw)).toBe(before);
    expect(empty.lines).toEqual([
      `warn TOKENLADDER_ADMIN_EMAIL and TOKENLADDER_ADMIN_PASSWORD ignored: ${IGNORED_BECAUSE}`,
    ]);
  });

  it('say nothing when unset', async () => {
    const t = await testApp();
    const lines: string[] = [];
    const deps = { ...t.deps, log: { ...t.deps.log, warn: (message: string) => lines.push(message) } };
    await ensureAdmin(deps, parseEnv({}), () => {});
    expect(lines).toEqual([]);
  });
});

describe('C-11 password change', () => {
  let t: TestApp;
  let admin: string;
  beforeEach(async () => {
    t = await testApp({ config: { loginThrottle: LIMITS } });
    admin = await t.login();
  });

  const change = (token: string, body: Record<string, unknown>) =>
    t.call('POST', '/api/v1/me/password', { token, body, headers: { 'x-test-client-ip': '203.0.113.50' } });
  const NEW = 'a brand new passphrase for alice';

  it.runIf(ON_SQLITE)(
    "C-11 an admin setting a user's password ends that user's sessions (their Account-Tokens), not their API-Tokens",
    async () => {
      const t = await testApp();
      const admin = await t.login();
      const user = await t.userWithToken(admin, 'reset@example.com');
      const base = await t.createBase(user.token, 'Reset');
      const api = await t.createApiToken(user.token, base, 'kept', 'r');
      const reset = await t.call('PATCH', `/api/v1/users/${user.id}`, {
        token: admin,
        body: { password: 'a new passphrase set by the admin' },
      });
      expect(reset.status).toBe(200);
      expect((await t.call('GET', '/api/v1/me', { token: user.token })).status).toBe(401);
      expect((await t.call('GET', '/api/v1/me', { token: admin })).status).toBe(200);
      expect((await t.call('POST', '/api/v1/base-tokens', { token: api.token })).status).toBe(201);
      const feed = (await t.call('GET', '/api/v1/revocations')).body.revocations.map(
        (entry: { value: string }) => entry.value,
      );
      const userTokenId = (
        t.raw.prepare('SELECT id FROM account_tokens WHERE user_id = ?').get(user.id) as { id: string }
      ).id;
      expect(feed).toEqual([userTokenId]);
    },
  );

  it('C-11 sets the new password and revokes the other Account-Tokens, not the calling one nor API-Tokens', async () => {
    const alice = await t.userWithToken(admin, 'alice@example.com');
    const [second, third] = [
      await t.login('alice@example.com', PASSWORD),
      await t.login('alice@example.com', PASSWORD),
    ];
    const base = await t.createBase(alice.token, 'Inventory');
    const api = await t.createApiToken(alice.token, base, 'script', 'r');

    const reply = await change(alice.token, { current_password: PASSWORD, new_password: NEW });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ revoked_account_tokens: 2 });
    for (const token of [second, third])
      expect((await t.call('GET', '/api/v1/me', { token })).body.error.code).toBe('token_revoked');
    expect((await t.call('GET', '/api/v1/me', { token: alice.token })).status).toBe(200);
    expect(
      (await t.call('POST', '/api/v1/base-tokens', { headers: { authorization: `Token ${api.token}` } }))
        .status,
    ).toBe(201);
    expect((await signIn(t, 'alice@example.com', PASSWORD)).status).toBe(401);
    expect((await signIn(t, 'alice@example.com', NEW)).status).toBe(201);
  });

  it('keeps the other tokens with keep_other_tokens', async () => {
    const alice = await t.userWithToken(admin, 'alice@example.com');
    const other = await t.login('alice@example.com', PASSWORD);
    const reply = await change(alice.token, {
      current_password: PASSWORD,
      new_password: NEW,
      keep_other_tokens: true,
    });
    expect(reply.body).toEqual({ revoked_account_tokens: 0 });
    expect((await t.call('GET', '/api/v1/me', { token: other })).status).toBe(200);
  });

  it.runIf(ON_SQLITE)(
    'C-11 refuses a wrong current password with 401, changing nothing, and counts it toward throttling',
    async () => {
      const alice = await t.userWithToken(admin, 'alice@example.com');
      const other = await t.login('alice@example.com', PASSWORD);
      await warm(t, alice.token, other);
      const before = dbDigest(t.raw);
      for (let i = 0; i < 3; i++) {
        const reply = await change(alice.token, {
          current_password: 'not my password at all',
          new_password: NEW,
        });
        expect(reply.status).toBe(401);
        expect(reply.body.error.code).toBe('invalid_credentials');
      }
      expect(dbDigest(t.raw)).toBe(before);
      const verify = vi.spyOn(t.deps.passwords, 'verify');
      const locked = await change(alice.token, { current_password: PASSWORD, new_password: NEW });
      expect(locked.status).toBe(429);
      expect(locked.headers.get('retry-after')).toBe('900');
      expect((await signIn(t, 'alice@example.com', PASSWORD, '192.0.2.99')).status).toBe(429);
      expect(verify).not.toHaveBeenCalled();
      expect(dbDigest(t.raw)).toBe(before);
      expect((await t.call('GET', '/api/v1/me', { token: other })).status).toBe(200);
    },
  );

  it.runIf(ON_SQLITE)(
    'refuses a new password outside the policy with 400 before checking the current one',
    async () => {
      const alice = await t.userWithToken(admin, 'alice@example.com');
      await warm(t, alice.token);
      const before = dbDigest(t.raw);
      const countersBefore = counters(t.raw);
      for (const new_password of ['too short', 'alice@example.com', 'password12345678']) {
        const reply = await change(alice.token, { current_password: PASSWORD, new_password });
        expect(reply.status, new_password).toBe(400);
        expect(reply.body.error.message).toMatch(/^new_password: /);
      }
      expect((await change(alice.token, { current_password: PASSWORD })).status).toBe(400);
      expect(
        (await change(alice.token, { current_password: PASSWORD, new_password: NEW, extra: 1 })).status,
      ).toBe(400);
      expect(dbDigest(t.raw)).toBe(before);
      expect(counters(t.raw)).toEqual(countersBefore);
    },
  );

  it('needs an Account-Token', async () => {
    const alice = await t.userWithToken(admin, 'alice@example.com');
    const base = await t.createBase(alice.token, 'Inventory');
    const api = await t.createApiToken(alice.token, base, 'script', 'rw');
    expect((await change(api.token, { current_password: PASSWORD, new_password: NEW })).status).toBe(401);
    expect(
      (
        await t.call('POST', '/api/v1/me/password', {
          body: { current_password: PASSWORD, new_password: NEW },
        })
      ).status,
    ).toBe(401);
  });
});

describe('admin revoke-all', () => {
  let t: TestApp;
  let admin: string;
  beforeEach(async () => {
    t = await testApp();
    admin = await t.login();
  });

  const revokeAll = (token: string, id: string) =>
    t.call('POST', `/api/v1/users/${id}/revoke-tokens`, { token });

  async function aliceWithTokens() {
    const alice = await t.userWithToken(admin, 'alice@example.com');
    const second = await t.login('alice@example.com', PASSWORD);
    const base = await t.createBase(alice.token, 'Inventory');
    const api = [
      await t.createApiToken(alice.token, base, 'one', 'r'),
      await t.createApiToken(alice.token, base, 'two', 'rw'),
    ];
    // An already revoked token is not counted again.
    await t.call('DELETE', `/api/v1/api-tokens/${api[1]!.id}`, { token: alice.token });
    const third = await t.createApiToken(alice.token, base, 'three', 'r');
    return { ...alice, accountTokens: [alice.token, second], apiTokens: [api[0]!, third] };
  }

  it('revokes every live Account-Token and API-Token of the user at once', async () => {
    const alice = await aliceWithTokens();
    const reply = await revokeAll(admin, alice.id);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ account_tokens: 2, api_tokens: 2 });
    for (const token of alice.accountTokens)
      expect((await t.call('GET', '/api/v1/me', { token })).body.error.code).toBe('token_revoked');
    for (const { token } of alice.apiTokens) {
      const exchange = await t.call('POST', '/api/v1/base-tokens', {
        headers: { authorization: `Token ${token}` },
      });
      expect(exchange.status).toBe(401);
      expect(exchange.body.error.code).toBe('token_revoked');
    }
    expect((await revokeAll(admin, alice.id)).body).toEqual({ account_tokens: 0, api_tokens: 0 });
    // The user can still sign in again (this is not a deactivation).
    expect((await signIn(t, 'alice@example.com', PASSWORD)).status).toBe(201);
  });

  it('includes the caller’s own current token when they target themselves', async () => {
    const me = (await t.call('GET', '/api/v1/me', { token: admin })).body;
    const reply = await revokeAll(admin, me.id);
    expect(reply.body).toEqual({ account_tokens: 1, api_tokens: 0 });
    expect((await t.call('GET', '/api/v1/me', { token: admin })).status).toBe(401);
  });

  it.runIf(ON_SQLITE)(
    'lets a team admin revoke for users of their own team only; others get 403/404 and nothing changes',
    async () => {
      const team = (await t.call('POST', '/api/v1/teams', { token: admin, body: { name: 'Red' } })).body.id;
      const otherTeam = (await t.call('POST', '/api/v1/teams', { token: admin, body: { name: 'Blue' } })).body
        .id;
      const tina = await t.userWithToken(admin, 'tina@example.com', { role: 'team_admin', team_id: team });
      const member = await t.userWithToken(admin, 'member@example.com', { team_id: team });
      const outsider = await t.userWithToken(admin, 'outsider@example.com', { team_id: otherTeam });
      const boss = await t.userWithToken(admin, 'boss@example.com', { role: 'system_admin', team_id: team });
      const plain = await t.userWithToken(admin, 'plain@example.com');
      await warm(t, tina.token, member.token, outsider.token, boss.token, plain.token);

      const before = dbDigest(t.raw);
      const refused = [
        [await revokeAll(plain.token, member.id), 403, 'insufficient_permission'],
        [await revokeAll(tina.token, outsider.id), 404, 'not_found'],
        [await revokeAll(tina.token, plain.id), 404, 'not_found'],
        [await revokeAll(tina.token, boss.id), 403, 'insufficient_permission'],
        [await revokeAll(admin, '00000000-0000-4000-8000-000000000000'), 404, 'not_found'],
        [await revokeAll(admin, 'not-a-uuid'), 400, 'invalid_request'],
      ] as const;
      for (const [reply, status, code] of refused) {
        expect(reply.status).toBe(status);
        expect(reply.body.error.code).toBe(code);
      }
      expect(dbDigest(t.raw)).toBe(before);

      expect((await revokeAll(tina.token, member.id)).body).toEqual({ account_tokens: 1, api_tokens: 0 });
      expect((await t.call('GET', '/api/v1/me', { token: member.token })).status).toBe(401);
      expect((await t.call('GET', '/api/v1/me', { token: outsider.token })).status).toBe(200);
    },
  );
});

import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { nodeScrypt } from '../../src/accounts/scrypt';
import type { Logger } from '../../src/deps';
import { generateKekText } from '../../src/keys/kek';
import type { D1Binding, D1Result, D1Statement } from '../../src/store/d1';
import { readMigrations } from '../../src/store/migration-files';
import { migrateSqlite } from '../../src/store/sqlite';
import { createWorkerHandler } from '../../src/workers/handler';

/**
 * The Workers handler's start-up logic, fast, in Node: a D1 stand-in over better-sqlite3 that counts
 * queries. What D1 itself does is tested in workerd (worker.test.ts); this is memoisation and failure handling.
 */
function sqliteD1(raw: Database.Database) {
  const counter = { queries: 0 };
  const execute = (sql: string, values: unknown[]): D1Result => {
    counter.queries++;
    const statement = raw.prepare(sql);
    if (statement.reader) return { results: statement.all(...values), meta: { changes: 0 } };
    return { results: [], meta: { changes: statement.run(...values).changes } };
  };
  type Prepared = D1Statement & { run(): D1Result };
  const prepare = (sql: string, values: unknown[] = []): Prepared => ({
    bind: (...next) => prepare(sql, next),
    all: async () => execute(sql, values),
    run: () => execute(sql, values),
  });
  const binding: D1Binding = {
    prepare,
    batch: async (statements) =>
      raw.transaction(() => statements.map((statement) => (statement as Prepared).run()))(),
  };
  return { binding, counter };
}

function recordingLog() {
  const lines: string[] = [];
  const log: Logger = {
    info: (message, fields) => void lines.push(`${message} ${JSON.stringify(fields)}`),
    warn: (message, fields) => void lines.push(`${message} ${JSON.stringify(fields)}`),
    error: (message, fields) => void lines.push(`${message} ${JSON.stringify(fields)}`),
  };
  return { log, lines };
}

const migrated = () => {
  const raw = new Database(':memory:');
  migrateSqlite(raw, readMigrations());
  return raw;
};

const vars = {
  TOKENLADDER_KEK: generateKekText(),
  TOKENLADDER_ISSUER: 'https://auth.example.com',
  TOKENLADDER_ADMIN_EMAIL: 'root@example.com',
  TOKENLADDER_ADMIN_PASSWORD: 'a long enough admin passphrase',
  TOKENLADDER_SCRYPT: 'ln=10,r=8,p=1',
};

const get = (path: string) => new Request(`https://auth.example.com${path}`);

describe('the Workers handler', () => {
  it('builds the app once per env object: the first admin and the signing key on the first request, nothing after', async () => {
    const { binding, counter } = sqliteD1(migrated());
    const { log, lines } = recordingLog();
    const worker = createWorkerHandler({ scrypt: nodeScrypt, log });
    const env = { DB: binding, ...vars };
    const first = await Promise.all([
      worker.fetch(get('/.well-known/jwks.json'), env),
      worker.fetch(get('/.well-known/jwks.json'), env),
    ]);
    expect(first.map((response) => response.status)).toEqual([200, 200]);
    expect(lines.filter((line) => line.startsWith('created the first system admin'))).toHaveLength(1);

    const queries = counter.queries;
    expect((await worker.fetch(get('/api/v1/ping'), env)).status).toBe(200);
    expect(counter.queries).toBe(queries);
  });

  it('offers no revocation stream (no listener shared between isolates): 404 saying to poll; the feed does not advertise it', async () => {
    const worker = createWorkerHandler({ scrypt: nodeScrypt, log: recordingLog().log });
    const env = { DB: sqliteD1(migrated()).binding, ...vars, TOKENLADDER_REVOCATION_STREAMS_MAX: '1000' };
    const stream = await worker.fetch(get('/api/v1/revocations/stream'), env);
    expect(stream.status).toBe(404);
    expect((await stream.json()).error.message).toMatch(/poll GET \/api\/v1\/revocations/);
    const feed = await worker.fetch(get('/api/v1/revocations'), env);
    expect(feed.status).toBe(200);
    expect(feed.headers.get('tokenladder-revocation-stream')).toBeNull();
  });

  it('reads TOML numbers in vars as text, as process.env would give them', async () => {
    const worker = createWorkerHandler({ scrypt: nodeScrypt, log: recordingLog().log });
    const response = await worker.fetch(get('/api/v1/server-info'), {
      DB: sqliteD1(migrated()).binding,
      ...vars,
      TOKENLADDER_BASE_TOKEN_TTL: 600,
    });
    expect(await response.json()).toMatchObject({
      issuer: 'https://auth.example.com',
      base_token: { lifetime_seconds: 600 },
    });
  });

  it('needs TOKENLADDER_ADMIN_PASSWORD while there is no user: a configuration error, kept until env changes', async () => {
    const { binding, counter } = sqliteD1(migrated());
    const { log, lines } = recordingLog();
    const worker = createWorkerHandler({ scrypt: nodeScrypt, log });
    const { TOKENLADDER_ADMIN_PASSWORD: _unset, ...withoutPassword } = vars;
    const env = { DB: binding, ...withoutPassword };
    expect((await worker.fetch(get('/api/v1/ping'), env)).status).toBe(503);
    expect(lines.join('\n')).toContain('TOKENLADDER_ADMIN_PASSWORD: required to create the first admin');
    const queries = counter.queries;
    expect((await worker.fetch(get('/api/v1/ping'), env)).status).toBe(503);
    expect(counter.queries).toBe(queries);

    expect(
      (
        await worker.fetch(get('/api/v1/ping'), {
          ...env,
          TOKENLADDER_ADMIN_PASSWORD: vars.TOKENLADDER_ADMIN_PASSWORD,
        })
      ).status,
    ).toBe(200);
  });

  it('refuses a weak TOKENLADDER_ADMIN_PASSWORD only while it would make the first admin', async () => {
    const raw = migrated();
    const weak = { ...vars, TOKENLADDER_ADMIN_PASSWORD: 'short' };
    const first = recordingLog();
    const refused = await createWorkerHandler({ scrypt: nodeScrypt, log: first.log }).fetch(
      get('/api/v1/ping'),
      {
        DB: sqliteD1(raw).binding,
        ...weak,
      },
    );
    expect(refused.status).toBe(503);
    expect(first.lines.join('\n')).toContain(
      'TOKENLADDER_ADMIN_PASSWORD: password must be at least 15 characters',
    );
    // The first admin made with a good password; a later start with the weak one left in env works.
    expect(
      (
        await createWorkerHandler({ scrypt: nodeScrypt, log: recordingLog().log }).fetch(
          get('/api/v1/ping'),
          {
            DB: sqliteD1(raw).binding,
            ...vars,
          },
        )
      ).status,
    ).toBe(200);
    const later = recordingLog();
    const started = await createWorkerHandler({ scrypt: nodeScrypt, log: later.log }).fetch(
      get('/api/v1/ping'),
      {
        DB: sqliteD1(raw).binding,
        ...weak,
      },
    );
    expect(started.status).toBe(200);
    expect(later.lines.join('\n')).toContain('TOKENLADDER_ADMIN_PASSWORD ignored');
  });

  it('retries what may pass: an unmigrated database answers 503 until it is migrated, with the same env', async () => {
    const raw = new Database(':memory:');
    const { log, lines } = recordingLog();
    const worker = createWorkerHandler({ scrypt: nodeScrypt, log });
    const env = { DB: sqliteD1(raw).binding, ...vars };
    const refused = await worker.fetch(get('/api/v1/ping'), env);
    expect([
      refused.status,
      refused.headers.get('cache-control'),
      refused.headers.get('retry-after'),
    ]).toEqual([503, 'no-store', '30']);
    expect(lines.join('\n')).toContain('the D1 database is not migrated');
    migrateSqlite(raw, readMigrations());
    expect((await worker.fetch(get('/api/v1/ping'), env)).status).toBe(200);
  });

  it('refuses a missing D1 binding and a missing issuer, naming both', async () => {
    const { log, lines } = recordingLog();
    const worker = createWorkerHandler({ scrypt: nodeScrypt, log });
    const { TOKENLADDER_ISSUER: _unset, ...withoutIssuer } = vars;
    expect((await worker.fetch(get('/api/v1/ping'), withoutIssuer)).status).toBe(503);
    expect(lines.join('\n')).toMatch(/DB: no D1 binding named DB.*TOKENLADDER_ISSUER: required on Workers/s);
  });
});

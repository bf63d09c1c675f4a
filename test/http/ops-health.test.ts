import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeScrypt } from '../../src/accounts/scrypt';
import { createWorkerHandler, PLACEHOLDER_ISSUER, placeholderIssuerProblem } from '../../src/workers/handler';
import { ROOT } from '../helpers/processes';
import { appConfigFromEnv, parseEnv } from '../../src/config';
import { OPENAPI_PATH } from '../../src/openapi/document';
import { MIGRATION_NAMES } from '../../src/store/migration-names';
import { readMigrations } from '../../src/store/migration-files';
import { dbDigest } from '../helpers/db-digest';
import { ADMIN, testApp } from '../helpers/app';

const METRICS_TOKEN = 'm'.repeat(40);

/** The value of one sample line (`name{labels} value`) of a Prometheus exposition; 0 when absent. */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((row) => row.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('GET /healthz and GET /readyz', () => {
  it('answer without credentials, uncached, and are in the OpenAPI document', async () => {
    const t = await testApp();
    const health = await t.call('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    expect(health.headers.get('cache-control')).toBe('no-store');
    const ready = await t.call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready' });
    const doc = await t.call('GET', OPENAPI_PATH);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz']));
    // Off by default: not served, not documented.
    expect(Object.keys(doc.body.paths)).not.toContain('/metrics');
  });

  it('/readyz answers 503 while migrations are not current; /healthz stays 200 (it reads no database)', async () => {
    const t = await testApp();
    t.raw.prepare("DELETE FROM d1_migrations WHERE name = '0007_revocation_generations.sql'").run();
    const before = dbDigest(t.raw);
    const ready = await t.call('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.error).toMatchObject({
      code: 'service_unavailable',
      message: 'not ready: the database migrations are not current',
    });
    expect(ready.headers.get('retry-after')).toBe('5');
    t.raw.prepare("INSERT INTO d1_migrations (name) VALUES ('9999_from_the_future.sql')").run();
    t.raw.prepare("INSERT INTO d1_migrations (name) VALUES ('0007_revocation_generations.sql')").run();
    expect((await t.call('GET', '/readyz')).status).toBe(503);
    t.raw.prepare("DELETE FROM d1_migrations WHERE name = '9999_from_the_future.sql'").run();
    expect((await t.call('GET', '/readyz')).status).toBe(200);
    t.raw.close();
    expect((await t.call('GET', '/healthz')).status).toBe(200);
    const closed = await t.call('GET', '/readyz');
    expect(closed.status).toBe(503);
    expect(closed.body.error.message).toBe('not ready: the database does not answer');
    expect(before).not.toBe('');
  });

  it('the migration list Workers and restore use is exactly migrations/', () => {
    expect(MIGRATION_NAMES).toEqual(readMigrations().map((migration) => migration.name));
  });
});

describe('GET /metrics', () => {
  it('is off by default (404) and configured by TOKENLADDER_METRICS and TOKENLADDER_METRICS_TOKEN', async () => {
    expect((await (await testApp()).call('GET', '/metrics')).status).toBe(404);
    expect(appConfigFromEnv(parseEnv({})).metrics).toBeNull();
    expect(appConfigFromEnv(parseEnv({ TOKENLADDER_METRICS: 'true' })).metrics).toEqual({ token: null });
    expect(
      appConfigFromEnv(parseEnv({ TOKENLADDER_METRICS: '1', TOKENLADDER_METRICS_TOKEN: METRICS_TOKEN }))
        .metrics,
    ).toEqual({ token: METRICS_TOKEN });
    expect(() => parseEnv({ TOKENLADDER_METRICS_TOKEN: 'short' })).toThrow(/TOKENLADDER_METRICS_TOKEN/);
  });

  it('counts exchanges, refusals by code, sign-ins, throttled sign-ins, the feed and latency per route group', async () => {
    const t = await testApp({
      config: {
        metrics: { token: null },
        loginThrottle: { accountLimit: 2, addressLimit: 1000, windowSeconds: 900 },
      },
    });
    const admin = await t.login();
    const base = await t.createBase(admin, 'metrics');
    const apiToken = await t.createApiToken(admin, base, 'sync', 'r');
    for (let i = 0; i < 3; i++) {
      const exchange = await t.call('POST', '/api/v1/base-tokens', {
        headers: { authorization: `Token ${apiToken.token}` },
      });
      expect(exchange.status).toBe(201);
    }
    expect(
      (await t.call('POST', '/api/v1/base-tokens', { headers: { authorization: 'Token tl_api_nope' } }))
        .status,
    ).toBe(401);
    await t.call('DELETE', `/api/v1/api-tokens/${apiToken.id}`, { token: admin });
    const wrong = { email: ADMIN.email, password: 'not the password at all' };
    const attempts = [];
    for (let i = 0; i < 4; i++)
      attempts.push((await t.call('POST', '/api/v1/account-tokens', { body: wrong })).status);
    expect(attempts).toEqual([401, 401, 429, 429]);

    const response = await t.app.request('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(sample(text, 'tokenladder_exchanges_total', 'outcome="ok"')).toBe(3);
    expect(sample(text, 'tokenladder_exchanges_total', 'outcome="refused"')).toBe(1);
    expect(sample(text, 'tokenladder_refusals_total', 'code="rate_limited"')).toBe(2);
    expect(sample(text, 'tokenladder_refusals_total', 'code="invalid_credentials"')).toBeGreaterThanOrEqual(
      2,
    );
    // The admin's login above, then two wrong passwords and two throttled.
    expect(sample(text, 'tokenladder_sign_ins_total', 'outcome="ok"')).toBe(1);
    expect(sample(text, 'tokenladder_sign_ins_total', 'outcome="refused"')).toBe(2);
    expect(sample(text, 'tokenladder_sign_ins_total', 'outcome="throttled"')).toBe(2);
    expect(sample(text, 'tokenladder_revocation_feed_entries')).toBeGreaterThanOrEqual(1);
    const lastSeq = t.raw.prepare('SELECT max(seq) AS m FROM revocations').get() as { m: number };
    expect(sample(text, 'tokenladder_revocation_feed_last_seq')).toBe(lastSeq.m);
    expect(
      sample(text, 'tokenladder_http_request_duration_seconds_count', 'group="exchange",status_class="2xx"'),
    ).toBe(3);
    expect(
      sample(text, 'tokenladder_http_request_duration_seconds_count', 'group="sign_in",status_class="4xx"'),
    ).toBe(4);
    expect(sample(text, 'tokenladder_database_errors_total')).toBe(0);
    // No raw paths as labels: a base's UUID never becomes a time series.
    expect(text).not.toContain(base);
  });

  it('counts a request that failed on the database', async () => {
    const t = await testApp({ config: { metrics: { token: null } } });
    const admin = await t.login();
    t.raw.exec('DROP TABLE bases');
    expect((await t.call('GET', '/api/v1/bases', { token: admin })).status).toBe(500);
    const text = await (await t.app.request('/metrics')).text();
    expect(sample(text, 'tokenladder_database_errors_total')).toBe(1);
    expect(sample(text, 'tokenladder_refusals_total', 'code="internal_error"')).toBe(1);
  });

  it('keeps one registry per app: two apps in one process count apart', async () => {
    const one = await testApp({ config: { metrics: { token: null } } });
    const two = await testApp({ config: { metrics: { token: null } } });
    await one.login();
    const text = async (t: typeof one) => (await t.app.request('/metrics')).text();
    expect(sample(await text(one), 'tokenladder_sign_ins_total', 'outcome="ok"')).toBe(1);
    expect(sample(await text(two), 'tokenladder_sign_ins_total', 'outcome="ok"')).toBe(0);
  });

  it('with a token configured, refuses a scrape without it (401) and answers its Bearer holder', async () => {
    const t = await testApp({ config: { metrics: { token: METRICS_TOKEN } } });
    const before = dbDigest(t.raw);
    for (const authorization of [
      undefined,
      `Bearer ${'x'.repeat(40)}`,
      `Bearer ${METRICS_TOKEN}x`,
      METRICS_TOKEN,
    ]) {
      const refused = await t.app.request('/metrics', {
        headers: authorization ? { authorization } : {},
      });
      expect(refused.status, authorization).toBe(401);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('missing_credentials');
    }
    expect(dbDigest(t.raw)).toBe(before);
    const ok = await t.app.request('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('tokenladder_info{version=');
    const doc = await t.call('GET', OPENAPI_PATH);
    expect(Object.keys(doc.body.paths)).toContain('/metrics');
  });
});

describe('GET /docs offline', () => {
  it('loads its script from this server (never a CDN), with a fallback that links /openapi.json', async () => {
    const t = await testApp();
    const page = await t.app.request('/docs');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<script src="/docs/scalar.js">');
    expect(html).not.toMatch(/https?:\/\/(?!localhost)[a-z0-9.-]+\.[a-z]{2,}\//i);
    expect(html).toMatch(/<noscript>[\s\S]*href="\/openapi\.json"[\s\S]*<\/noscript>/);
    const policy = page.headers.get('content-security-policy') ?? '';
    expect(policy).not.toContain('cdn.jsdelivr.net');
    expect(policy).toMatch(/^sandbox allow-scripts allow-popups; default-src 'none'; /);

    const script = await t.app.request('/docs/scalar.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    const body = await script.text();
    expect(body.length).toBeGreaterThan(100_000);
    expect(body).toContain('createApiReference');
  });
});

describe("the Worker and wrangler.toml's placeholder issuer", () => {
  const env = { TOKENLADDER_ISSUER: PLACEHOLDER_ISSUER };
  it('refuses it when reached on a public host (deployed, or wrangler dev --remote), before touching D1', async () => {
    const lines: string[] = [];
    const log = {
      info() {},
      warn() {},
      error: (message: string, fields?: object) => lines.push(`${message} ${JSON.stringify(fields)}`),
    };
    const worker = createWorkerHandler({ scrypt: nodeScrypt, log });
    const refused = await worker.fetch(new Request('https://tokenladder.example.workers.dev/healthz'), env);
    expect(refused.status).toBe(503);
    expect(lines.join('\n')).toMatch(
      /tokenladder is not configured .*TOKENLADDER_ISSUER: still wrangler\.toml's placeholder/,
    );
    const other = await worker.fetch(new Request('https://tokenladder.someone.workers.dev/healthz'), env);
    expect(other.status).toBe(503);
  });

  it('allows it on a loopback host (wrangler dev), and allows any other issuer anywhere', () => {
    for (const url of ['http://localhost:8789/', 'http://127.0.0.1:8789/', 'http://[::1]:8789/'])
      expect(placeholderIssuerProblem(env, new Request(url)), url).toBeNull();
    expect(
      placeholderIssuerProblem(
        { TOKENLADDER_ISSUER: 'https://auth.example.com' },
        new Request('https://auth.example.com/'),
      ),
    ).toBeNull();
    expect(
      placeholderIssuerProblem(
        { TOKENLADDER_ISSUER: `${PLACEHOLDER_ISSUER}/` },
        new Request('https://x.workers.dev/'),
      ),
    ).toMatch(/placeholder/);
  });

  it('is the value wrangler.toml ships', () => {
    expect(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8')).toContain(
      `TOKENLADDER_ISSUER = "${PLACEHOLDER_ISSUER}"`,
    );
  });
});

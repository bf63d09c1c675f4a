import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort, ROOT, start } from '../helpers/processes';

// Each command is a fresh `node` process, which takes seconds on a busy machine: hence the timeout.
describe('the tokenladder command', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-cli-'));
  const env = {
    PATH: process.env.PATH ?? '',
    TOKENLADDER_DB: join(dir, 'cli.db'),
    TOKENLADDER_SCRYPT: 'ln=10,r=8,p=1',
  };
  // The CLI bundled once by test/setup/build-cli.ts; the last test runs bin/tokenladder.mjs itself.
  const cli = (args: string[], input?: string, extraEnv: Record<string, string> = {}) =>
    spawnSync('node', [inject('cliBundle'), ...args], {
      cwd: ROOT,
      env: { ...env, ...extraEnv },
      input,
      encoding: 'utf8',
    });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('migrates, creates users and lists signing keys', () => {
    const migrate = cli(['migrate']);
    expect(migrate.status).toBe(0);
    expect(migrate.stdout).toContain('applied: 0001_init.sql');
    expect(cli(['migrate']).stdout).toContain('database is up to date');

    const generated = cli(['user', 'create', '--email', 'ops@example.com', '--role', 'system_admin']);
    expect(generated.status).toBe(0);
    expect(generated.stdout).toMatch(/created system_admin ops@example.com/);
    expect(generated.stdout).toMatch(/password \(shown only this once\): [A-Za-z0-9_-]{32}/);

    const fromStdin = cli(
      ['user', 'create', '--email', 'dev@example.com', '--password-stdin'],
      'a long enough passphrase\n',
    );
    expect(fromStdin.status).toBe(0);
    expect(fromStdin.stdout).not.toContain('passphrase');

    const duplicate = cli(['user', 'create', '--email', 'dev@example.com']);
    expect(duplicate.status).toBe(1);
    expect(duplicate.stderr).toContain('a user with this email already exists');

    const keys = cli(['keys', 'list', '--json']);
    expect(keys.status).toBe(0);
    expect(JSON.parse(keys.stdout)).toEqual([
      expect.objectContaining({
        alg: 'EdDSA',
        state: 'current',
        kid: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      }),
    ]);

    const rotate = cli(['keys', 'rotate', '--delay', '600']);
    expect(rotate.status).toBe(0);
    expect(rotate.stdout).toMatch(/new key \S{43} \(next\)/);
    expect(cli(['keys', 'rotate']).status).toBe(1); // one pending rotation at a time
    const emergency = cli(['keys', 'rotate', '--revoke-old']);
    expect(emergency.status).toBe(0);
    expect(
      JSON.parse(cli(['keys', 'list', '--json']).stdout).map((key: { state: string }) => key.state),
    ).toEqual(['current']);
    expect(cli(['keys', 'rotate', '--delay', 'soon']).status).toBe(2);
  });

  it('verifies the audit chain, and names the first tampered record with exit code 1', async () => {
    const intact = cli(['audit', 'verify', '--json']);
    expect(intact.status).toBe(0);
    const report = JSON.parse(intact.stdout);
    // The users created and keys rotated above were recorded.
    expect(report).toMatchObject({ ok: true, first: 1 });
    expect(report.checked).toBeGreaterThanOrEqual(4);
    const Database = (await import('better-sqlite3')).default;
    const raw = new Database(env.TOKENLADDER_DB);
    raw.prepare('UPDATE audit_events SET details = \'{"role":"user"}\' WHERE seq = 1').run();
    raw.close();
    const broken = cli(['audit', 'verify']);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toContain('audit chain BROKEN at seq 1 (hash_mismatch)');
  });

  it('exits 2 on usage errors and 0 for help', () => {
    expect(cli(['user', 'create']).status).toBe(2);
    expect(cli(['user', 'create', '--email', 'x@example.com', '--role', 'emperor']).status).toBe(2);
    expect(cli(['frobnicate']).status).toBe(2);
    const help = cli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('serve');
  });

  it('refuses to start on bad configuration, naming the variable', () => {
    const bad = cli(['serve'], undefined, { PORT: 'eighty' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('PORT');
    const weak = cli(['serve'], undefined, {
      TOKENLADDER_DB: join(dir, 'weak.db'),
      TOKENLADDER_ADMIN_EMAIL: 'root@example.com',
      TOKENLADDER_ADMIN_PASSWORD: 'short',
    });
    expect(weak.status).toBe(1);
    expect(weak.stderr).toContain('TOKENLADDER_ADMIN_PASSWORD: password must be at least 15 characters');
  });

  it('bootstraps the admin from the environment without printing the password', async () => {
    const port = await freePort();
    const server = await start(
      'node',
      ['bin/tokenladder.mjs'],
      {
        ...env,
        TOKENLADDER_DB: join(dir, 'admin.db'),
        PORT: String(port),
        TOKENLADDER_ADMIN_EMAIL: 'root@example.com',
        TOKENLADDER_ADMIN_PASSWORD: 'root password from env',
      },
      /"listening"/,
    );
    try {
      expect(server.stdout()).toContain('created the first system admin root@example.com');
      expect(server.stdout() + server.stderr()).not.toContain('root password from env');
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/account-tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'root@example.com', password: 'root password from env' }),
      });
      expect(response.status).toBe(201);
    } finally {
      await server.stop();
    }
  });
});

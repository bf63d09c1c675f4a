import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { VERSION } from '../../src/config';
import { freePort, ROOT, start } from '../helpers/processes';

// Each command is a fresh `node` process, which takes seconds on a busy machine: hence the timeout.
describe('the tokenladder command', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-cli-'));
  const env = {
    PATH: process.env.PATH ?? '',
    TOKENLADDER_DB: join(dir, 'cli.db'),
    TOKENLADDER_SCRYPT: 'ln=10,r=8,p=1',
  };
  // The CLI built once by test/setup/build-cli.ts (what bin/tokenladder.mjs runs); `bin` runs the launcher itself.
  const cli = (args: string[], input?: string, extraEnv: Record<string, string> = {}) =>
    spawnSync('node', [inject('cliBundle'), ...args], {
      cwd: ROOT,
      env: { ...env, ...extraEnv },
      input,
      encoding: 'utf8',
    });
  const bin = (args: string[], extraEnv: Record<string, string> = {}) =>
    spawnSync('node', ['bin/tokenladder.mjs', ...args], {
      cwd: ROOT,
      env: { ...env, ...extraEnv },
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

    // The same aligned table as the client commands.
    const table = cli(['keys', 'list']);
    expect(table.status).toBe(0);
    const [header, row] = table.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^KID {42}ALG {4}STATE {4}CREATED_AT +ACTIVATED_AT +RETIRED_AT$/);
    expect(row).toMatch(/^\S{43} {2}EdDSA {2}current {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}\S+Z +-$/);
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
    const missing = cli(['user', 'create']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(
      "tokenladder: required option '--email <email>' not specified; see tokenladder --help\n",
    );
    expect(cli(['user', 'create', '--email', 'x@example.com', '--role', 'emperor']).status).toBe(2);
    expect(cli(['frobnicate']).status).toBe(2);
    const help = cli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('serve');
    expect(help.stdout).toMatch(/5 +unavailable/);
  });

  it('never serves implicitly: a bare command prints help (exit 2), a typo gets a suggestion', () => {
    const fresh = { TOKENLADDER_DB: join(dir, 'never-created.db') };
    const bare = bin([], fresh);
    expect(bare.status).toBe(2);
    expect(bare.stdout).toBe('');
    expect(bare.stderr).toContain('Usage: tokenladder [options] [command]');
    expect(bare.stderr).toContain('no command given (the server is `tokenladder serve`)');

    const typo = bin(['lgoin'], fresh);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toBe(
      "tokenladder: unknown command 'lgoin'; did you mean login? see tokenladder --help\n",
    );
    // Formerly "too many arguments for 'serve'": nothing was started, no database created.
    expect(existsSync(fresh.TOKENLADDER_DB)).toBe(false);

    const json = cli(['bases', 'lst', '--json'], undefined, fresh);
    expect(json.status).toBe(2);
    expect(JSON.parse(json.stderr)).toEqual({
      error: {
        code: 'usage',
        message: "unknown command 'lst'",
        hint: 'did you mean list? see tokenladder --help',
        exit_code: 2,
      },
    });
    expect(cli(['keys'], undefined, fresh).status).toBe(2); // a group without its subcommand
    expect(existsSync(fresh.TOKENLADDER_DB)).toBe(false);
  });

  it('starts as built JavaScript: --version and --help load no server or verifier package', () => {
    // Timings are in bench/cli.ts; this checks the cause: what the built entry imports before any command runs.
    const loaded = inject('cliStaticPackages');
    expect(loaded).toContain('commander');
    for (const heavy of ['kysely', 'better-sqlite3', 'zod', 'jose', 'hono', '@hono/node-server'])
      expect(loaded).not.toContain(heavy);
    const version = bin(['--version']);
    expect(version.stderr).toBe(''); // no tsx notice, no rebuild: the build is fresh
    expect(version.stdout).toBe(`${VERSION}\n`);
    expect(version.status).toBe(0);
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
      ['bin/tokenladder.mjs', 'serve'],
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

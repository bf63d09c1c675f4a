import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ADMIN } from '../helpers/app';
import { freePort, ROOT, serveTokenladder, type Running } from '../helpers/processes';

const JWT = /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/;

// Every command is a fresh `node` process (the CLI built by test/setup/build-cli.ts); the server runs
// bin/tokenladder.mjs. Slow on a busy machine, hence the timeout.
describe('the tokenladder client commands against a running server', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-cli-client-'));
  const config = join(dir, 'config');
  const credentials = join(config, 'tokenladder', 'credentials.json');
  let server: Running;
  let url: string;
  const cli = (args: string[], options: { input?: string; env?: Record<string, string> } = {}) => {
    const result = spawnSync('node', [inject('cliBundle'), ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        XDG_CONFIG_HOME: config,
        TOKENLADDER_URL: url,
        ...options.env,
      },
      input: options.input ?? '',
      encoding: 'utf8',
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const storedToken = () => JSON.parse(readFileSync(credentials, 'utf8')).servers[url].token as string;
  // Shared by the steps below, which run in order.
  let uuid: string;
  let id: string;
  let secret: string;
  let baseToken: string;

  beforeAll(async () => {
    const started = await serveTokenladder({
      TOKENLADDER_DB: join(dir, 'server.db'),
      TOKENLADDER_SCRYPT: 'ln=10,r=8,p=1',
      TOKENLADDER_ADMIN_EMAIL: ADMIN.email,
      TOKENLADDER_ADMIN_PASSWORD: ADMIN.password,
      // Low, so the Retry-After test needs few failed sign-ins (of its own email).
      TOKENLADDER_LOGIN_LIMIT_ACCOUNT: '2',
    });
    server = started;
    url = started.url;
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs in with --password-stdin into a private credentials file, and refuses bad logins', () => {
    const wrong = cli(['login', '--email', ADMIN.email, '--password-stdin'], { input: 'not the password\n' });
    expect(wrong.status).toBe(3);
    expect(wrong.stderr).toContain(
      `POST ${url}/api/v1/account-tokens: email or password is incorrect (invalid_credentials, HTTP 401); check the email and password`,
    );
    expect(existsSync(credentials)).toBe(false);

    const noTerminal = cli(['login', '--email', ADMIN.email]);
    expect(noTerminal.status).toBe(2);
    expect(noTerminal.stderr).toContain('--password-stdin');

    const login = cli(['login', '--email', ADMIN.email, '--password-stdin'], {
      input: `${ADMIN.password}\n`,
    });
    expect(login.stderr).toBe('');
    expect(login.status).toBe(0);
    expect(login.stdout).toContain(`logged in to ${url} as ${ADMIN.email}`);
    expect(statSync(credentials).mode & 0o777).toBe(0o600);
    expect(statSync(join(config, 'tokenladder')).mode & 0o777).toBe(0o700);
    const token = storedToken();
    expect(token).toMatch(/^tl_acc_/);
    expect(login.stdout).not.toContain(token);
  });

  it('creates and lists bases as aligned tables', () => {
    const base = cli(['bases', 'create', 'Inventory', '--json']);
    expect(base.status).toBe(0);
    uuid = JSON.parse(base.stdout).uuid;

    const bases = cli(['bases', 'list']);
    expect(bases.status).toBe(0);
    const [header, row] = bases.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^UUID {2,}NAME {2,}PERMISSION {2,}CREATED_AT$/);
    expect(row).toMatch(new RegExp(`^${uuid}  Inventory  admin {6}`));
  });

  it('creates an API-Token whose secret is printed once and never listed', () => {
    const created = cli([
      'api-tokens',
      'create',
      '--base',
      uuid,
      '--permission',
      'r',
      '--name',
      'nightly',
      '--expires-in-days',
      '30',
    ]);
    expect(created.status).toBe(0);
    secret = /secret \(shown only this once\): (tl_api_\S+)/.exec(created.stdout)![1]!;
    id = /\(([a-z2-7]{16})\)/.exec(created.stdout)![1]!;

    for (const args of [
      ['api-tokens', 'list'],
      ['api-tokens', 'list', '--json'],
      ['api-tokens', 'list', '--base', uuid, '--status', 'active'],
    ]) {
      const listed = cli(args);
      expect(listed.status).toBe(0);
      expect(listed.stdout).toContain('nightly');
      expect(listed.stdout).not.toContain(secret);
      expect(listed.stdout).not.toContain(storedToken());
    }
    expect(JSON.parse(cli(['api-tokens', 'list', '--json']).stdout)).toEqual([
      expect.objectContaining({ id, name: 'nightly', permission: 'r', enabled: true }),
    ]);
  });

  it('creates an API-Token bound to networks with a repeated --allow-network', () => {
    const created = cli([
      'api-tokens',
      'create',
      '--base',
      uuid,
      '--permission',
      'r',
      '--name',
      'office only',
      '--allow-network',
      '203.0.113.0/24',
      '--allow-network',
      '2001:DB8::/48',
      '--json',
    ]);
    expect(created.status, created.stderr).toBe(0);
    const token = JSON.parse(created.stdout);
    expect(token.allowed_networks).toEqual(['203.0.113.0/24', '2001:db8::/48']);
    const bad = cli([
      'api-tokens',
      'create',
      '--base',
      uuid,
      '--permission',
      'r',
      '--name',
      'x',
      '--allow-network',
      '10.0.0.1/8',
    ]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('host bits are set');
    expect(cli(['api-tokens', 'delete', token.id]).status).toBe(0);
  });

  it('exchanges an API-Token (from the environment or stdin) or the Account-Token, printing only the JWT', () => {
    const exchanged = cli(['exchange'], { env: { TOKENLADDER_API_TOKEN: secret } });
    expect(exchanged.status).toBe(0);
    expect(exchanged.stdout.trim()).toMatch(JWT);
    const asJson = JSON.parse(
      cli(['exchange', '--api-token-stdin', '--json'], { input: `${secret}\n` }).stdout,
    );
    expect(asJson).toMatchObject({
      base_uuid: uuid,
      permission: 'r',
      base_token: expect.stringMatching(JWT),
    });
    const withAccount = cli(['exchange', '--base', uuid, '--json']);
    expect(JSON.parse(withAccount.stdout).permission).toBe('admin');
    expect(cli(['exchange']).status).toBe(2); // an Account-Token needs --base
    baseToken = exchanged.stdout.trim();
  });

  it('verifies a Base-Token against the JWKS and the revocation feed: exit 0 valid, 1 invalid, 4 revoked, 5 unchecked', async () => {
    const verified = cli(['verify', baseToken]);
    expect(verified.status).toBe(0);
    expect(verified.stdout).toMatch(new RegExp(`base_uuid +${uuid}`));
    expect(verified.stdout).toMatch(/permission +r\n/);
    expect(JSON.parse(cli(['verify', '-', '--json'], { input: baseToken }).stdout)).toMatchObject({
      valid: true,
      claims: { base_uuid: uuid, token_name: 'nightly' },
    });
    // What a downstream service would decide: revoked tokens are refused (exit 4), not "valid yes".
    const revokedToken = cli(['exchange', '--api-token-stdin'], { input: secret }).stdout.trim();
    expect(cli(['verify', revokedToken]).status).toBe(0);
    expect(cli(['verify', revokedToken]).stdout).toMatch(/revoked +no \(revocation feed read /);
    const revoke = await fetch(`${url}/api/v1/base-tokens/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: revokedToken }),
    });
    expect(revoke.status).toBe(200);
    const revoked = cli(['verify', revokedToken]);
    expect(revoked.status).toBe(4);
    expect(revoked.stdout).toBe('');
    expect(revoked.stderr).toMatch(/^tokenladder: revoked Base-Token: .*the revocation feed lists it/);
    const revokedJson = cli(['verify', revokedToken, '--json']);
    expect(revokedJson.status).toBe(4);
    expect(JSON.parse(revokedJson.stdout)).toMatchObject({
      valid: false,
      revoked: true,
      code: 'token_revoked',
    });
    expect(JSON.parse(revokedJson.stderr)).toMatchObject({
      error: { code: 'token_revoked', exit_code: 4, url: `${url}/api/v1/revocations` },
    });
    expect(cli(['verify', baseToken]).status).toBe(0); // the other Base-Token of the same API-Token

    // An opaque token passed by mistake: explained, never sent anywhere or echoed.
    for (const [token, kind] of [
      [secret, 'an API-Token'],
      [storedToken(), 'an Account-Token'],
    ] as const) {
      const mistaken = cli(['verify', token, '--server', 'http://127.0.0.1:1']);
      expect(mistaken.status).toBe(1);
      expect(mistaken.stderr).toContain(`this is ${kind}, not a Base-Token; exchange it`);
      expect(mistaken.stderr + mistaken.stdout).not.toContain(token);
    }

    // Could not check (exit 5): no server there, so neither keys nor feed.
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const unchecked = cli(['verify', baseToken, '--server', nowhere]);
    expect(unchecked.status).toBe(5);
    expect(unchecked.stderr).toContain(`cannot reach ${nowhere}: connection refused`);

    const [head, payload, signature] = baseToken.split('.');
    const tampered = cli(['verify', `${head}.${payload}.${signature!.slice(0, -4)}AAAA`]);
    expect(tampered.status).toBe(1);
    expect(tampered.stderr).toContain('invalid Base-Token');
    expect(cli(['verify', 'garbage']).status).toBe(1);
    expect(cli(['verify', baseToken, '--base', '0b5c9a3e-6a0e-4d7c-9f3e-2a1b4c5d6e7f']).status).toBe(1);
  });

  it('disables, enables, regenerates and deletes an API-Token', () => {
    expect(cli(['api-tokens', 'disable', id]).status).toBe(0);
    const disabled = cli(['exchange'], { env: { TOKENLADDER_API_TOKEN: secret } });
    expect(disabled.status).toBe(3);
    expect(disabled.stderr).toContain('token_disabled');
    expect(cli(['api-tokens', 'list', '--status', 'disabled']).stdout).toContain('disabled');
    expect(cli(['api-tokens', 'enable', id]).status).toBe(0);
    expect(cli(['exchange'], { env: { TOKENLADDER_API_TOKEN: secret } }).status).toBe(0);

    const regenerated = cli(['api-tokens', 'regenerate', id]);
    expect(regenerated.status).toBe(0);
    const newSecret = /secret \(shown only this once\): (tl_api_\S+)/.exec(regenerated.stdout)?.[1];
    expect(newSecret).toBeDefined();
    expect(newSecret).not.toBe(secret);
    expect(cli(['exchange'], { env: { TOKENLADDER_API_TOKEN: secret } }).status).toBe(3);
    expect(cli(['exchange'], { env: { TOKENLADDER_API_TOKEN: newSecret! } }).status).toBe(0);

    expect(cli(['api-tokens', 'delete', id]).status).toBe(0);
    expect(cli(['api-tokens', 'list']).stdout).toContain('no API-Tokens');
    const missing = cli(['api-tokens', 'delete', id]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`DELETE ${url}/api/v1/api-tokens/${id}: `);
    expect(missing.stderr).toContain('(not_found, HTTP 404)');
    const missingJson = cli(['api-tokens', 'delete', id, '--json']);
    expect(missingJson.stdout).toBe('');
    expect(JSON.parse(missingJson.stderr)).toEqual({
      error: {
        code: 'not_found',
        message: expect.stringContaining('(not_found, HTTP 404)'),
        url: `${url}/api/v1/api-tokens/${id}`,
        status: 404,
        request_id: expect.any(String),
        exit_code: 1,
      },
    });
  });

  it('refuses bad usage with exit code 2 and documents the exit codes', () => {
    expect(cli(['api-tokens', 'create', '--base', 'x', '--permission', 'admin', '--name', 'n']).status).toBe(
      2,
    );
    expect(cli(['api-tokens', 'create', '--permission', 'r', '--name', 'n']).status).toBe(2);
    expect(
      cli([
        'api-tokens',
        'create',
        '--base',
        'x',
        '--permission',
        'r',
        '--name',
        'n',
        '--expires-in-days',
        'soon',
      ]).status,
    ).toBe(2);
    expect(cli(['bases', 'list', '--server', 'ftp://example.com']).status).toBe(2);
    const help = cli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
    expect(help.stdout).toMatch(/3 +authentication/);
  });

  it('uses TOKENLADDER_TOKEN without a stored login, and logs out by revoking the token', async () => {
    const token = storedToken();
    const elsewhere = { XDG_CONFIG_HOME: join(dir, 'other-config') };
    expect(cli(['bases', 'list'], { env: elsewhere }).status).toBe(3);
    const viaEnv = cli(['bases', 'list', '--json'], { env: { ...elsewhere, TOKENLADDER_TOKEN: token } });
    expect(viaEnv.status).toBe(0);
    expect(JSON.parse(viaEnv.stdout).map((base: { name: string }) => base.name)).toEqual(['Inventory']);

    // A stored Account-Token the server no longer accepts: the next step is to log in again.
    const kept = `${credentials}.kept`;
    copyFileSync(credentials, kept);
    const logout = cli(['logout']);
    expect(logout.status).toBe(0);
    expect(logout.stdout).toContain('revoked');
    expect(readFileSync(credentials, 'utf8')).not.toContain(token);
    expect((await fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      401,
    );
    const afterwards = cli(['bases', 'list']);
    expect(afterwards.status).toBe(3);
    expect(afterwards.stderr).toContain('not logged in');
    const viaRevokedEnv = cli(['bases', 'list'], { env: { TOKENLADDER_TOKEN: token } });
    expect(viaRevokedEnv.status).toBe(3); // revoked on the server
    expect(viaRevokedEnv.stderr).toContain('TOKENLADDER_TOKEN was refused');

    writeFileSync(credentials, readFileSync(kept));
    const revokedStored = cli(['bases', 'list']);
    expect(revokedStored.status).toBe(3);
    expect(revokedStored.stderr).toMatch(
      new RegExp(
        `^tokenladder: GET ${url}/api/v1/bases: .*\\(token_revoked, HTTP 401\\); run tokenladder login\n$`,
      ),
    );
  });

  it('shows Retry-After when sign-ins are throttled (exit 5)', async () => {
    const email = 'throttled@example.com';
    // The failed sign-ins that use up the limit go through the command too. (A fetch from this process
    // could be sent on a kept-alive socket the server closed while spawnSync held the event loop.)
    for (let attempt = 0; attempt < 2; attempt++) {
      const refused = cli(['login', '--email', email, '--password-stdin'], {
        input: 'not the password at all\n',
      });
      expect(refused.status).toBe(3);
    }
    const throttled = cli(['login', '--email', email, '--password-stdin'], { input: 'again wrong\n' });
    expect(throttled.status).toBe(5);
    expect(throttled.stderr).toMatch(/\(rate_limited, HTTP 429\); retry after \d+ s\n$/);
    const asJson = cli(['login', '--email', email, '--password-stdin', '--json'], { input: 'again wrong\n' });
    expect(JSON.parse(asJson.stderr).error).toMatchObject({
      code: 'rate_limited',
      status: 429,
      retry_after: expect.any(Number),
      exit_code: 5,
    });
  });

  it('says which server it cannot reach and what to do (exit 5), as JSON with --json', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const unreachable = cli(['bases', 'list', '--server', nowhere], {
      env: { TOKENLADDER_TOKEN: 'tl_acc_whatever' },
    });
    expect(unreachable.status).toBe(5);
    expect(unreachable.stderr).toBe(
      `tokenladder: cannot reach ${nowhere}: connection refused; is tokenladder running there? set --server or TOKENLADDER_URL\n`,
    );
    const asJson = cli(['bases', 'list', '--json'], {
      env: { TOKENLADDER_TOKEN: 'tl_acc_whatever', TOKENLADDER_URL: nowhere },
    });
    expect(asJson.status).toBe(5);
    expect(asJson.stdout).toBe('');
    expect(JSON.parse(asJson.stderr)).toEqual({
      error: {
        code: 'unreachable',
        message: `cannot reach ${nowhere}: connection refused`,
        hint: 'is tokenladder running there? set --server or TOKENLADDER_URL',
        url: `${nowhere}/api/v1/bases`,
        exit_code: 5,
      },
    });
  });
});

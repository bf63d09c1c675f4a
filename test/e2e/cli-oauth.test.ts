// The CLI's OAuth side against a running server: `introspection-client <id>` makes credentials the
// server then accepts (its entry configures TOKENLADDER_INTROSPECTION_CLIENTS), and `exchange --oauth`
// gets Base-Tokens through POST /oauth/token for an API-Token and an Account-Token, with its refusals
// as exit codes. Every command is a fresh `node` process running the built CLI.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ADMIN } from '../helpers/app';
import { jsonCaller, ROOT, serveTokenladder, type Running } from '../helpers/processes';

const JWT = /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/;

describe('tokenladder exchange --oauth and introspection-client', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-cli-oauth-'));
  let server: Running;
  let url: string;
  let gateway: { client_id: string; client_secret: string; entry: string; basic: string };
  let accountToken: string;
  let base: string;
  let apiToken: { id: string; token: string };
  /** Deleted by the refusal test. */
  let revocable: { id: string; token: string };

  const cli = (args: string[], env: Record<string, string> = {}) => {
    const result = spawnSync('node', [inject('cliBundle'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), ...env },
      input: '',
      encoding: 'utf8',
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const call = jsonCaller(() => url);
  const introspect = async (token: string, basic: string) => {
    const response = await fetch(`${url}/oauth/introspect`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    // Made before the server starts: the command needs no server and no database.
    const made = cli(['introspection-client', 'kong', '--json']);
    expect(made.stderr).toBe('');
    expect(made.status).toBe(0);
    gateway = JSON.parse(made.stdout);
    server = await serveTokenladder({
      TOKENLADDER_DB: join(dir, 'server.db'),
      TOKENLADDER_SCRYPT: 'ln=10,r=8,p=1',
      TOKENLADDER_ADMIN_EMAIL: ADMIN.email,
      TOKENLADDER_ADMIN_PASSWORD: ADMIN.password,
      TOKENLADDER_INTROSPECTION_CLIENTS: gateway.entry,
    });
    url = (server as Running & { url: string }).url;
    const signIn = await call('POST', '/api/v1/account-tokens', undefined, { ...ADMIN, name: 'cli-oauth' });
    expect(signIn.status).toBe(201);
    accountToken = signIn.body.token;
    base = (await call('POST', '/api/v1/bases', accountToken, { name: 'Inventory' })).body.uuid;
    const created = await call('POST', `/api/v1/bases/${base}/api-tokens`, accountToken, {
      name: 'cli-oauth',
      permission: 'r',
    });
    expect(created.status).toBe(201);
    apiToken = created.body;
    revocable = (
      await call('POST', `/api/v1/bases/${base}/api-tokens`, accountToken, {
        name: 'to-revoke',
        permission: 'r',
      })
    ).body;
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('introspection-client <id>', () => {
    it('prints a fresh 256-bit secret once and the entry with its SHA-256, which the server accepts', async () => {
      expect(gateway.client_id).toBe('kong');
      expect(gateway.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(gateway.entry).toBe(`kong:${createHash('sha256').update(gateway.client_secret).digest('hex')}`);
      expect(gateway.basic).toBe(Buffer.from(`kong:${gateway.client_secret}`).toString('base64'));
      // The server configured with the entry lets the holder of the secret introspect, and no one else.
      expect(await introspect(apiToken.token, gateway.basic)).toMatchObject({
        status: 200,
        body: { active: true, client_id: apiToken.id },
      });
      const wrong = await introspect(apiToken.token, Buffer.from('kong:not-the-secret').toString('base64'));
      expect(wrong).toMatchObject({ status: 401, body: { error: 'invalid_client' } });

      const again = cli(['introspection-client', 'kong']);
      expect(again.status).toBe(0);
      const fields = Object.fromEntries(
        again.stdout
          .trimEnd()
          .split('\n')
          .map((line) => line.split(/\s+/) as [string, string]),
      );
      expect(Object.keys(fields)).toEqual(['client_id', 'client_secret', 'entry', 'basic']);
      expect(fields.client_secret).not.toBe(gateway.client_secret);
      expect(fields.entry).toBe(`kong:${createHash('sha256').update(fields.client_secret!).digest('hex')}`);
      expect(again.stderr).toContain('TOKENLADDER_INTROSPECTION_CLIENTS');
      expect(again.stderr).toContain('shown once');
    });

    it('refuses an id the configuration would refuse', () => {
      for (const id of ['has:colon', 'a'.repeat(65), 'spa ce']) {
        const refused = cli(['introspection-client', id]);
        expect(refused.status).toBe(2);
        expect(refused.stdout).toBe('');
        expect(refused.stderr).toContain('a client id is 1 to 64 letters');
      }
    });
  });

  describe('exchange --oauth', () => {
    it('exchanges an API-Token through POST /oauth/token, narrowed by --scope', () => {
      const result = cli(['exchange', '--oauth', '--scope', 'records:read', '--server', url], {
        TOKENLADDER_API_TOKEN: apiToken.token,
      });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^${JWT.source.slice(1, -1)}\\n$`));
      expect(decodeJwt(result.stdout.trim())).toMatchObject({
        aud: `urn:tokenladder:base:${base}`,
        client_id: apiToken.id,
        scope: 'records:read',
      });
    });

    it('prints the token endpoint answer with --json', () => {
      const result = cli(['exchange', '--oauth', '--json', '--server', url], {
        TOKENLADDER_API_TOKEN: apiToken.token,
      });
      expect(result.status).toBe(0);
      const answer = JSON.parse(result.stdout);
      expect(answer).toMatchObject({
        access_token: expect.stringMatching(JWT),
        token_type: 'Bearer',
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        scope: expect.stringContaining('base:r'),
      });
      expect(answer.expires_in).toBeGreaterThan(0);
    });

    it('exchanges the Account-Token for --base or --resource', () => {
      const env = { TOKENLADDER_TOKEN: accountToken };
      for (const args of [
        ['--base', base],
        ['--resource', `urn:tokenladder:base:${base}`],
      ]) {
        const result = cli(['exchange', '--oauth', ...args, '--scope', 'base:r', '--server', url], env);
        expect(result.stderr).toBe('');
        expect(result.status).toBe(0);
        const claims = decodeJwt(result.stdout.trim());
        expect(claims.aud).toBe(`urn:tokenladder:base:${base}`);
        expect(claims.scope).toMatch(/^base:r /);
      }
    });

    it('refuses mixed or missing options as usage errors, before asking the server', () => {
      const env = { TOKENLADDER_TOKEN: accountToken };
      const cases: [string[], string][] = [
        [['--scope', 'base:r'], '--resource and --scope go with --oauth'],
        [['--resource', `urn:tokenladder:base:${base}`], '--resource and --scope go with --oauth'],
        [['--oauth', '--permission', 'r', '--base', base], '--permission is the native exchange'],
        [['--oauth', '--base', base, '--resource', `urn:tokenladder:base:${base}`], '--base or --resource'],
        [['--oauth'], 'exchanging your Account-Token needs --base or --resource'],
      ];
      for (const [args, message] of cases) {
        // An unreachable server: a usage error must come first.
        const result = cli(['exchange', ...args, '--server', 'http://127.0.0.1:9'], env);
        expect(result.status, args.join(' ')).toBe(2);
        expect(result.stdout).toBe('');
        expect(result.stderr).toContain(message);
      }
    });

    it("reports the token endpoint's refusals with the RFC 6749 code and exit code", async () => {
      const tooMuch = cli(['exchange', '--oauth', '--scope', 'base:rw', '--server', url, '--json'], {
        TOKENLADDER_API_TOKEN: apiToken.token,
      });
      expect(tooMuch.status).toBe(1);
      expect(tooMuch.stdout).toBe('');
      expect(JSON.parse(tooMuch.stderr).error).toMatchObject({
        code: 'invalid_scope',
        status: 400,
        url: `${url}/oauth/token`,
        exit_code: 1,
      });

      const deleted = cli(['api-tokens', 'delete', revocable.id, '--server', url], {
        TOKENLADDER_TOKEN: accountToken,
      });
      expect(deleted.status, deleted.stderr).toBe(0);
      const revoked = cli(['exchange', '--oauth', '--server', url], {
        TOKENLADDER_API_TOKEN: revocable.token,
      });
      expect(revoked.status).toBe(3);
      expect(revoked.stdout).toBe('');
      expect(revoked.stderr).toMatch(
        new RegExp(
          `^tokenladder: POST ${url}/oauth/token: .+ \\(invalid_grant, HTTP 400\\); check the API-Token`,
        ),
      );
    });
  });

  describe("docs/oauth.md's curl commands, run as written", () => {
    const blocks = [
      ...readFileSync(join(ROOT, 'docs/oauth.md'), 'utf8').matchAll(/```sh\n([\s\S]*?)```/g),
    ].map((match) => match[1]!);
    const run = (script: string, env: Record<string, string>) => {
      const result = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
        env: { PATH: process.env.PATH ?? '', TL: url, ...env },
        encoding: 'utf8',
      });
      expect(result.status, `${script}\n${result.stdout}${result.stderr}`).toBe(0);
      return result.stdout;
    };

    it('gets tokens both ways, introspects one and revokes it', () => {
      expect(blocks.map((block) => block.split(' ')[3])).toEqual([
        '"$TL/oauth/token"',
        '"$TL/oauth/token"',
        '-u',
        '"$TL/oauth/revoke"',
      ]);
      const [clientCredentials, tokenExchange, introspection, revocation] = blocks as [
        string,
        string,
        string,
        string,
      ];
      const env = {
        API_TOKEN_ID: apiToken.id,
        API_TOKEN: apiToken.token,
        ACCOUNT_TOKEN: accountToken,
        BASE: base,
        RS_SECRET: gateway.client_secret,
      };
      const granted = JSON.parse(run(clientCredentials, env));
      expect(granted).toMatchObject({ token_type: 'Bearer', scope: 'records:read' });
      expect(decodeJwt(granted.access_token)).toMatchObject({ aud: `urn:tokenladder:base:${base}` });
      const exchanged = JSON.parse(run(tokenExchange, env));
      expect(exchanged).toMatchObject({
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        scope: expect.stringMatching(/^base:r /),
      });
      const withToken = { ...env, BASE_TOKEN: granted.access_token };
      expect(JSON.parse(run(introspection, withToken))).toMatchObject({
        active: true,
        client_id: apiToken.id,
        base_uuid: base,
        scope: 'records:read',
      });
      expect(run(revocation, withToken)).toBe('');
      expect(JSON.parse(run(introspection, withToken))).toEqual({ active: false });
    });
  });
});

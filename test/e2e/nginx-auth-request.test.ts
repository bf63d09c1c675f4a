// Issue 16, "tested against code someone else wrote": nginx's auth_request in front of a base service,
// asking a real `tokenladder serve` (the built CLI) through /oauth/introspect/check, with
// docs/examples/nginx/tokenladder-auth.conf as written (only its four CHANGE values replaced). nginx
// runs as the current user in a directory of its own (`-p`, `-e`, pid, logs and temp paths there,
// one process, no daemon); the base service is a node server that answers with the headers it got.
// Without nginx (and its auth_request module) the suite is skipped outside CI and fails in CI
// (scripts/ensure-nginx.sh installs it; .ci/run calls it).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, jsonCaller, ROOT, start, type Running } from '../helpers/processes';

const EXAMPLE = join(ROOT, 'docs/examples/nginx/tokenladder-auth.conf');
const NGINX = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'].find((path) =>
  spawnSync(path, ['-V'], { encoding: 'utf8' }).stderr?.includes('--with-http_auth_request_module'),
);

/** For `describe.skipIf`: true when nginx with auth_request is here; in CI (CI set) its absence fails. */
function hasNginx(): boolean {
  if (NGINX) return true;
  if (process.env.CI)
    throw new Error(
      'nginx with ngx_http_auth_request_module is missing; CI needs it (scripts/ensure-nginx.sh)',
    );
  console.warn('nginx auth_request suite skipped: no nginx with auth_request (run scripts/ensure-nginx.sh)');
  return false;
}

/** The example with its CHANGE values replaced; each must be there exactly once. */
function configured(example: string, values: Record<string, string>): string {
  let text = example;
  for (const [from, to] of Object.entries(values)) {
    expect(text.split(from), `${from} in ${EXAMPLE}`).toHaveLength(2);
    text = text.replace(from, to);
  }
  return text;
}

/** Resolves once something accepts connections on the port. */
async function listening(port: number, process: ChildProcess, log: () => string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (process.exitCode !== null) throw new Error(`nginx exited with ${process.exitCode}:\n${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nginx is not listening on ${port}:\n${log()}`);
}

describe.skipIf(!hasNginx())('nginx auth_request in front of a base service (docs/examples/nginx)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-nginx-'));
  const gateway = { id: 'nginx', secret: randomBytes(32).toString('base64url') };
  let tokenladder: Running;
  let nginx: ChildProcess;
  let upstream: Server;
  /** What the base service received, one entry per request that got through nginx. */
  const received: { url: string; headers: IncomingHttpHeaders }[] = [];
  let front: string;
  /** nginx with the example but a wrong secret of its own. */
  let misconfigured: string;
  let issuer: string;
  let base: string;
  let otherBase: string;
  let apiToken: { id: string; token: string };
  let userId: string;

  const call = jsonCaller(() => issuer);
  const exchange = async (resource = `urn:tokenladder:base:${base}`) => {
    const response = await fetch(`${issuer}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: apiToken.id,
        client_secret: apiToken.token,
        resource,
      }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  };
  /** A request to the base service through nginx; `seen` is what the base service got, if it got it. */
  const through = async (path: string, headers: Record<string, string> = {}) => {
    const before = received.length;
    const response = await fetch(`${front}${path}`, { headers });
    const text = await response.text();
    return { response, text, seen: received.length > before ? received.at(-1) : undefined };
  };

  beforeAll(async () => {
    const secretHash = createHash('sha256').update(gateway.secret).digest('hex');
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    tokenladder = await start(
      'node',
      [inject('cliBundle'), 'serve'],
      {
        PORT: String(port),
        TOKENLADDER_ISSUER: issuer,
        TOKENLADDER_DB: join(dir, 'tokenladder.db'),
        TOKENLADDER_KEK: randomBytes(32).toString('base64url'),
        TOKENLADDER_SCRYPT: 'ln=12,r=8,p=1',
        TOKENLADDER_ADMIN_EMAIL: 'admin@example.com',
        TOKENLADDER_ADMIN_PASSWORD: 'a long passphrase for this test',
        TOKENLADDER_INTROSPECTION_CLIENTS: `${gateway.id}:${secretHash}`,
      },
      /"listening"/,
      30_000,
    );

    upstream = createServer((request, response) => {
      received.push({ url: request.url ?? '', headers: request.headers });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ url: request.url }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamPort = (upstream.address() as { port: number }).port;

    const frontPort = await freePort();
    front = `http://127.0.0.1:${frontPort}`;
    const server = configured(readFileSync(EXAMPLE, 'utf8'), {
      'server 127.0.0.1:8787;': `server 127.0.0.1:${port};`,
      'server 127.0.0.1:3000;': `server 127.0.0.1:${upstreamPort};`,
      'listen 127.0.0.1:8080;': `listen 127.0.0.1:${frontPort};`,
      'Basic bmdpbng6UkVQTEFDRS1XSVRILVRIRS1TRUNSRVQ=': `Basic ${Buffer.from(`${gateway.id}:${gateway.secret}`).toString('base64')}`,
    });
    writeFileSync(join(dir, 'tokenladder-auth.conf'), server);
    // The same file with a wrong secret for nginx, beside it (its upstreams renamed): a misconfiguration.
    const misconfiguredPort = await freePort();
    misconfigured = `http://127.0.0.1:${misconfiguredPort}`;
    writeFileSync(
      join(dir, 'misconfigured.conf'),
      configured(server, {
        'upstream tokenladder {': 'upstream tokenladder_misconfigured {',
        'proxy_pass http://tokenladder/': 'proxy_pass http://tokenladder_misconfigured/',
        'upstream base_service {': 'upstream base_service_misconfigured {',
        'proxy_pass http://base_service;': 'proxy_pass http://base_service_misconfigured;',
        [`listen 127.0.0.1:${frontPort};`]: `listen 127.0.0.1:${misconfiguredPort};`,
        [`Basic ${Buffer.from(`${gateway.id}:${gateway.secret}`).toString('base64')}`]: `Basic ${Buffer.from(`${gateway.id}:not-the-secret`).toString('base64')}`,
      }),
    );
    for (const temp of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, temp));
    writeFileSync(
      join(dir, 'nginx.conf'),
      [
        // One process, in the foreground, as whoever runs the test: no user switch, no daemon.
        'daemon off;',
        'master_process off;',
        `pid ${dir}/nginx.pid;`,
        `error_log ${dir}/error.log info;`,
        'events { worker_connections 64; }',
        'http {',
        `  access_log ${dir}/access.log;`,
        `  client_body_temp_path ${dir}/client_body;`,
        `  proxy_temp_path ${dir}/proxy;`,
        `  fastcgi_temp_path ${dir}/fastcgi;`,
        `  uwsgi_temp_path ${dir}/uwsgi;`,
        `  scgi_temp_path ${dir}/scgi;`,
        `  include ${dir}/tokenladder-auth.conf;`,
        `  include ${dir}/misconfigured.conf;`,
        '}',
        '',
      ].join('\n'),
    );
    const args = ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')];
    const test = spawnSync(NGINX!, ['-t', ...args], { encoding: 'utf8' });
    expect(test.status, test.stderr).toBe(0);
    nginx = spawn(NGINX!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    nginx.stdout!.on('data', (chunk) => {
      output += chunk;
    });
    nginx.stderr!.on('data', (chunk) => {
      output += chunk;
    });
    await listening(frontPort, nginx, () => output + readFileSync(join(dir, 'error.log'), 'utf8'));

    const signIn = await call('POST', '/api/v1/account-tokens', undefined, {
      email: 'admin@example.com',
      password: 'a long passphrase for this test',
      name: 'nginx-test',
    });
    expect(signIn.status).toBe(201);
    const account = signIn.body.token as string;
    userId = (await call('GET', '/api/v1/me', account)).body.id;
    const bases = [];
    for (const name of ['Inventory', 'Other']) {
      const created = await call('POST', '/api/v1/bases', account, { name });
      expect(created.status).toBe(201);
      bases.push(created.body.uuid as string);
    }
    [base, otherBase] = bases as [string, string];
    const created = await call('POST', `/api/v1/bases/${base}/api-tokens`, account, {
      name: 'behind-nginx',
      permission: 'r',
    });
    expect(created.status).toBe(201);
    apiToken = created.body;
  }, 90_000);

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGQUIT');
      await exited;
    }
    await new Promise((resolve) => upstream?.close(resolve));
    await tokenladder?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets an API-Token through; the base service sees who it is, set by nginx alone', async () => {
    const { response, seen } = await through(`/bases/${base}/rows`, {
      authorization: `Bearer ${apiToken.token}`,
      // A caller cannot speak for tokenladder: these are replaced, never passed on.
      'tokenladder-subject': 'someone-else',
      'tokenladder-token-kind': 'base_token',
    });
    expect(response.status).toBe(200);
    expect(seen?.url).toBe(`/bases/${base}/rows`);
    expect(seen?.headers).toMatchObject({
      'tokenladder-subject': userId,
      'tokenladder-client-id': apiToken.id,
      'tokenladder-token-kind': 'api_token',
      'tokenladder-base': base,
      'tokenladder-scope': expect.stringContaining('records:read'),
      authorization: `Bearer ${apiToken.token}`,
    });
    expect(seen?.headers['tokenladder-scope']).not.toContain('write');
    // nginx's own credentials stay between nginx and tokenladder.
    expect(seen?.headers['tokenladder-client-authorization']).toBeUndefined();
  });

  it('lets a Base-Token for the base through', async () => {
    const baseToken = await exchange();
    const { response, seen } = await through(`/bases/${base}`, { authorization: `Bearer ${baseToken}` });
    expect(response.status).toBe(200);
    expect(seen?.headers).toMatchObject({
      'tokenladder-subject': userId,
      'tokenladder-client-id': apiToken.id,
      'tokenladder-token-kind': 'base_token',
      'tokenladder-base': base,
    });
  });

  it('answers 403 to a Base-Token for another base, without calling the base service', async () => {
    const baseToken = await exchange();
    const { response, seen } = await through(`/bases/${otherBase}/rows`, {
      authorization: `Bearer ${baseToken}`,
    });
    expect(response.status).toBe(403);
    expect(seen).toBeUndefined();
  });

  it('answers 401 to no token, a garbage one and a revoked one, without calling the base service', async () => {
    const none = await through(`/bases/${base}/rows`);
    expect(none.response.status).toBe(401);
    expect(none.response.headers.get('www-authenticate')).toBe('Bearer realm="tokenladder"');
    expect(none.seen).toBeUndefined();
    const garbage = await through(`/bases/${base}/rows`, { authorization: 'Bearer tl_api_not_a_real_token' });
    expect(garbage.response.status).toBe(401);
    expect(garbage.seen).toBeUndefined();

    const baseToken = await exchange();
    expect(
      (await through(`/bases/${base}/rows`, { authorization: `Bearer ${baseToken}` })).response.status,
    ).toBe(200);
    const revoked = await fetch(`${issuer}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: baseToken }),
    });
    expect(revoked.status).toBe(200);
    const after = await through(`/bases/${base}/rows`, { authorization: `Bearer ${baseToken}` });
    expect(after.response.status).toBe(401);
    expect(after.response.headers.get('www-authenticate')).toBe(
      'Bearer realm="tokenladder", error="invalid_token"',
    );
    expect(after.seen).toBeUndefined();
  });

  it("answers 500 when nginx's own credentials are wrong: a configuration error, not the caller's", async () => {
    const response = await fetch(`${misconfigured}/bases/${base}/rows`, {
      headers: { authorization: `Bearer ${apiToken.token}` },
    });
    expect(response.status).toBe(500);
    expect(response.headers.get('www-authenticate')).toBeNull();
    expect(readFileSync(join(dir, 'error.log'), 'utf8')).toContain('auth request unexpected status: 400');
  });

  it('refuses paths that name no base without asking anyone', async () => {
    const { response, seen } = await through('/admin', { authorization: `Bearer ${apiToken.token}` });
    expect(response.status).toBe(404);
    expect(seen).toBeUndefined();
  });
});

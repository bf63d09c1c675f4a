// `tokenladder serve` as an operator meets it: the bind address, the start line, a port already taken.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort, serveTokenladder } from '../helpers/processes';

const ADMIN = {
  TOKENLADDER_ADMIN_EMAIL: 'admin@example.com',
  TOKENLADDER_ADMIN_PASSWORD: 'correct horse battery staple',
};

describe('tokenladder serve: bind address and start-up errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-ops-serve-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('binds 127.0.0.1 by default and prints the clickable URL, /ui and /docs', {
    timeout: 60_000,
  }, async () => {
    const server = await serveTokenladder(
      { TOKENLADDER_DB: join(dir, 'a', 'tokenladder.db'), ...ADMIN },
      30_000,
    );
    try {
      const port = new URL(server.url).port;
      const listening = server
        .stderr()
        .split('\n')
        .find((line) => line.includes('"listening"'));
      expect(JSON.parse(listening!)).toMatchObject({ host: '127.0.0.1', port: Number(port) });
      await expect
        .poll(() => server.stdout())
        .toContain(
          `tokenladder listening on http://localhost:${port}  (web UI http://localhost:${port}/ui, API reference http://localhost:${port}/docs)`,
        );
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('HOST=0.0.0.0 binds every interface', { timeout: 60_000 }, async () => {
    const server = await serveTokenladder(
      { TOKENLADDER_DB: join(dir, 'b', 'tokenladder.db'), HOST: '0.0.0.0', ...ADMIN },
      30_000,
    );
    try {
      const listening = server
        .stderr()
        .split('\n')
        .find((line) => line.includes('"listening"'));
      expect(JSON.parse(listening!)).toMatchObject({ host: '0.0.0.0' });
    } finally {
      await server.stop();
    }
  });

  it('a port in use is one line, exit 1, no stack trace', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const result = spawnSync('node', [inject('cliBundle'), 'serve'], {
        env: {
          PATH: process.env.PATH,
          PORT: String(port),
          TOKENLADDER_DB: join(dir, 'c', 'tokenladder.db'),
          ...ADMIN,
        },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(result.status).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines.at(-1)).toBe(`tokenladder: port ${port} is in use; set PORT`);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(result.stdout).not.toContain('listening on');
    } finally {
      blocker.close();
    }
  });

  it('a HOST that is not this machine is one line, exit 1', { timeout: 60_000 }, async () => {
    const result = spawnSync('node', [inject('cliBundle'), 'serve'], {
      env: {
        PATH: process.env.PATH,
        PORT: String(await freePort()),
        HOST: '192.0.2.1',
        TOKENLADDER_DB: join(dir, 'd', 'tokenladder.db'),
        ...ADMIN,
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(
      /^tokenladder: cannot bind 192\.0\.2\.1: not an address of this machine; set HOST/,
    );
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});

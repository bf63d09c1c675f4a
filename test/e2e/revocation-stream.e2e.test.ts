import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRevocationList, type RevocationList } from '../../src/verify';
import { testApp } from '../helpers/app';
import { freePort, jsonCaller, serveTokenladder, type Running } from '../helpers/processes';

const PASSWORD = 'an admin password for this test';

/**
 * The push path end to end: `tokenladder serve` processes over one SQLite file and the published
 * verifier's `createRevocationList({ transport: 'sse' })` over real HTTP. A revocation through the
 * API is refused within about a second; a killed stream falls back to polling and resumes with
 * Last-Event-ID; a second instance on the same file pushes what the first wrote (the 1-s check).
 */
describe('revocations pushed over Server-Sent Events', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-stream-'));
  const running: Running[] = [];
  const lists: RevocationList[] = [];
  let a: string;
  let b: string;
  let admin: string;
  let base: string;
  const call = jsonCaller(() => a);

  beforeAll(async () => {
    const env = {
      TOKENLADDER_DB: join(dir, 'tokenladder.db'),
      TOKENLADDER_SCRYPT: 'ln=12,r=8,p=1',
      TOKENLADDER_ADMIN_PASSWORD: PASSWORD,
    };
    const first = await serveTokenladder(env);
    running.push(first);
    a = first.url;
    // The second instance finds the database, its key and the KEK file the first one made.
    const second = await serveTokenladder(env);
    running.push(second);
    b = second.url;
    admin = (
      await call('POST', '/api/v1/account-tokens', undefined, {
        email: 'admin@tokenladder.local',
        password: PASSWORD,
      })
    ).body.token;
    base = (await call('POST', '/api/v1/bases', admin, { name: 'Stream' })).body.uuid;
  }, 60_000);
  afterAll(async () => {
    for (const list of lists) list.stop();
    await Promise.all(running.map((process) => process.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function workingToken(name: string) {
    const apiToken = (
      await call('POST', `/api/v1/bases/${base}/api-tokens`, admin, { name, permission: 'r' })
    ).body;
    const jwt = (await call('POST', '/api/v1/base-tokens', apiToken.token)).body.base_token as string;
    return { apiToken, claims: decodeJwt(jwt) as Parameters<RevocationList['check']>[0] };
  }

  const refused = (list: RevocationList, claims: Parameters<RevocationList['check']>[0]) => {
    try {
      list.check(claims);
      return false;
    } catch (error) {
      return (error as { code: string }).code === 'token_revoked';
    }
  };

  /** Seconds until the list refuses the token (checked every 20 ms), at most 10 s. */
  async function secondsUntilRefused(list: RevocationList, claims: Parameters<RevocationList['check']>[0]) {
    const started = performance.now();
    while (!refused(list, claims)) {
      if (performance.now() - started > 10_000) throw new Error('still accepted after 10 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return (performance.now() - started) / 1000;
  }

  async function until(condition: () => boolean, what: string, timeoutMs = 10_000) {
    const started = performance.now();
    while (!condition()) {
      if (performance.now() - started > timeoutMs) throw new Error(`not ${what} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('a revocation through the API reaches a streaming verifier within about a second', async () => {
    const { apiToken, claims } = await workingToken('pushed');
    const list = createRevocationList({ url: `${a}/api/v1/revocations`, transport: 'sse' });
    lists.push(list);
    await list.start();
    await until(() => list.status().transport === 'sse', 'streaming');
    expect(refused(list, claims)).toBe(false);
    expect((await call('DELETE', `/api/v1/api-tokens/${apiToken.id}`, admin)).status).toBe(204);
    const seconds = await secondsUntilRefused(list, claims);
    console.log(`pushed revocation refused after ${seconds.toFixed(3)} s (poll interval 30 s)`);
    expect(seconds).toBeLessThan(5);
    list.stop();
  }, 30_000);

  it('a killed stream: polling meanwhile, then the stream resumes with Last-Event-ID, nothing missed', async () => {
    // The stream goes through a TCP proxy this test can cut; polls go straight to the server.
    const proxy = await tcpProxy(Number(new URL(a).port));
    const streamIds: (string | null)[] = [];
    const list = createRevocationList({
      url: `${a}/api/v1/revocations`,
      transport: 'sse',
      intervalSeconds: 1,
      fetch: async (input, init) => {
        const target = new URL(String(input));
        if (target.pathname.endsWith('/stream')) {
          streamIds.push(new Headers(init?.headers).get('last-event-id'));
          target.port = String(proxy.port);
        }
        return fetch(target, init);
      },
    });
    lists.push(list);
    try {
      await list.start();
      await until(() => list.status().transport === 'sse', 'streaming');
      proxy.cut();
      await until(() => list.status().transport === 'poll', 'back to polling');
      const during = await workingToken('while-cut');
      expect((await call('DELETE', `/api/v1/api-tokens/${during.apiToken.id}`, admin)).status).toBe(204);
      const polled = await secondsUntilRefused(list, during.claims);
      console.log(`stream cut: revocation refused through polling after ${polled.toFixed(3)} s`);
      const cursorAfterPoll = Number(list.status().cursor);
      proxy.restore();
      await until(() => list.status().transport === 'sse', 'streaming again', 40_000);
      expect(Number(streamIds.at(-1))).toBeGreaterThanOrEqual(cursorAfterPoll);
      const after = await workingToken('after-resume');
      expect((await call('DELETE', `/api/v1/api-tokens/${after.apiToken.id}`, admin)).status).toBe(204);
      const pushed = await secondsUntilRefused(list, after.claims);
      console.log(`stream resumed (Last-Event-ID ${streamIds.at(-1)}): refused after ${pushed.toFixed(3)} s`);
      expect(pushed).toBeLessThan(5);
      expect(refused(list, during.claims)).toBe(true);
    } finally {
      list.stop();
      await proxy.close();
    }
  }, 60_000);

  it('a revocation through instance A reaches a stream on instance B (the 1-second check)', async () => {
    const { apiToken, claims } = await workingToken('across');
    const list = createRevocationList({ url: `${b}/api/v1/revocations`, transport: 'sse' });
    lists.push(list);
    await list.start();
    await until(() => list.status().transport === 'sse', 'streaming');
    expect((await call('DELETE', `/api/v1/api-tokens/${apiToken.id}`, admin)).status).toBe(204);
    const seconds = await secondsUntilRefused(list, claims);
    console.log(`revocation through A refused by B's stream after ${seconds.toFixed(3)} s`);
    expect(seconds).toBeLessThan(5);
    list.stop();
  }, 30_000);

  it('SIGTERM stops a server with a stream open', async () => {
    const extra = await serveTokenladder({
      TOKENLADDER_DB: join(dir, 'tokenladder.db'),
      TOKENLADDER_SCRYPT: 'ln=12,r=8,p=1',
    });
    const list = createRevocationList({ url: `${extra.url}/api/v1/revocations`, transport: 'sse' });
    lists.push(list);
    await list.start();
    await until(() => list.status().transport === 'sse', 'streaming');
    const started = performance.now();
    await extra.stop();
    const seconds = (performance.now() - started) / 1000;
    console.log(`server with an open stream stopped in ${seconds.toFixed(3)} s`);
    expect(seconds).toBeLessThan(5);
    list.stop();
  }, 30_000);
});

describe('a stream served by @hono/node-server', () => {
  it('releases its subscription when the client goes away', async () => {
    const t = await testApp();
    const port = await freePort();
    const server = serve({ fetch: t.app.fetch, port, hostname: '127.0.0.1' });
    try {
      const abort = new AbortController();
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/revocations/stream`, {
        signal: abort.signal,
      });
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      await reader.read();
      expect(t.deps.feedWakeups.size).toBe(1);
      abort.abort();
      const started = performance.now();
      while (t.deps.feedWakeups.size > 0) {
        if (performance.now() - started > 5000) throw new Error('subscription still held after 5 s');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      console.log(
        `subscription released ${(performance.now() - started).toFixed(0)} ms after the client left`,
      );
    } finally {
      t.deps.feedWakeups.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

/** A TCP proxy to a local port whose connections the test can cut (and refuse) and restore. */
async function tcpProxy(targetPort: number) {
  const sockets = new Set<Socket>();
  let accepting = true;
  const server: Server = createServer((client) => {
    if (!accepting) return client.destroy();
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    cut() {
      accepting = false;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      accepting = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

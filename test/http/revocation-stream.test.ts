import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AppConfig } from '../../src/config';
import { testApp, type TestApp } from '../helpers/app';
import { dbDigest } from '../helpers/db-digest';

/** Waits for a condition (generously: the machine may be busy); not a timing assertion. */
const eventually = (check: () => void) => vi.waitFor(check, { timeout: 10_000, interval: 20 });

const STREAM = '/api/v1/revocations/stream';
const FEED_TOKEN = 'a-revocation-feed-credential-of-40-chars!';

interface SseEvent {
  id?: string;
  data?: string;
  retry?: string;
  comment?: string;
}

/** Reads a Server-Sent Events body: messages (id/data/retry) and comment lines, one at a time. */
function sseReader(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const queue: SseEvent[] = [];
  async function next(): Promise<SseEvent> {
    while (queue.length === 0) {
      const { done, value } = await reader.read();
      if (done) throw new Error('stream ended');
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: SseEvent = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) event.comment = line.slice(1).trim();
          else {
            const [field, ...rest] = line.split(':');
            const value = rest.join(':').replace(/^ /, '');
            if (field === 'data') event.data = event.data === undefined ? value : `${event.data}\n${value}`;
            else if (field === 'id' || field === 'retry') event[field] = value;
          }
        }
        queue.push(event);
        end = buffer.indexOf('\n\n');
      }
    }
    return queue.shift()!;
  }
  /** The next event carrying data (skipping `retry:` and heartbeats). */
  async function nextPage(): Promise<{ id: string; page: Record<string, unknown> }> {
    for (;;) {
      const event = await next();
      if (event.data !== undefined) return { id: event.id!, page: JSON.parse(event.data) };
    }
  }
  return { next, nextPage, close: () => reader.cancel() };
}

const open: { close: () => Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((reader) => reader.close()));
});

async function setup(config: Partial<AppConfig> = {}) {
  const t = await testApp({ config });
  const admin = await t.login();
  const base = await t.createBase(admin, 'Streamed');
  return { t, admin, base };
}

async function connect(t: TestApp, query = '', headers: Record<string, string> = {}) {
  const response = await t.app.request(`${STREAM}${query}`, { headers });
  expect(response.status).toBe(200);
  const reader = sseReader(response);
  open.push(reader);
  return { response, reader };
}

/** Deletes a new API-Token: one feed entry. */
async function revokeOne(t: TestApp, admin: string, base: string, name: string) {
  const token = await t.createApiToken(admin, base, name, 'r');
  expect((await t.call('DELETE', `/api/v1/api-tokens/${token.id}`, { token: admin })).status).toBe(204);
  return token.id;
}

const poll = async (t: TestApp, since: string) =>
  (await t.call('GET', `/api/v1/revocations?since=${since}`)).body;

describe('GET /api/v1/revocations/stream', () => {
  it('replays from ?since= with the poll pages (id = cursor), then pushes a revocation made through the API', async () => {
    const { t, admin, base } = await setup();
    const first = await revokeOne(t, admin, base, 'one');
    const { response, reader } = await connect(t, '?since=0');
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    expect(response.headers.get('connection')).toBe('close');
    expect((await reader.next()).retry).toBe('2000');
    const replay = await reader.nextPage();
    expect(replay.page).toEqual(await poll(t, '0'));
    expect(replay.id).toBe(replay.page.cursor);
    expect((replay.page.revocations as { value: string }[]).map((entry) => entry.value)).toEqual([first]);

    const second = await revokeOne(t, admin, base, 'two');
    const pushed = await reader.nextPage();
    expect(pushed.page).toEqual(await poll(t, replay.id));
    expect(pushed.id).toBe(pushed.page.cursor);
    expect((pushed.page.revocations as { value: string }[]).map((entry) => entry.value)).toEqual([second]);
    expect(Number(pushed.id)).toBeGreaterThan(Number(replay.id));
  });

  it('pushes one write to every open stream, each from its own cursor', async () => {
    const { t, admin, base } = await setup();
    await revokeOne(t, admin, base, 'before');
    const cursor = (await poll(t, '0')).cursor as string;
    const readers = await Promise.all(
      ([{}, {}, { 'Last-Event-ID': '0' }] as Record<string, string>[]).map(async (headers, i) => {
        const { reader } = await connect(t, i === 2 ? '' : `?since=${cursor}`, headers);
        await reader.nextPage();
        return reader;
      }),
    );
    const revoked = await revokeOne(t, admin, base, 'after');
    const pushed = await Promise.all(readers.map((reader) => reader.nextPage()));
    expect(pushed[0]).toEqual(pushed[1]);
    expect(pushed[0]!.page).toEqual(await poll(t, cursor));
    expect((pushed[2]!.page.revocations as { value: string }[]).map((entry) => entry.value)).toEqual([
      revoked,
    ]);
    expect(pushed[2]!.id).toBe(pushed[0]!.id);
  });

  it("wakes the app's streams after each write that publishes to the feed, and only then", async () => {
    const { t, admin, base } = await setup();
    // No stream is open, so no safety check runs: every wake-up counted here is a write's.
    const wakes = () => t.deps.feedWakeups.wakes;
    const start = wakes();
    const token = await t.createApiToken(admin, base, 'kept', 'rw');
    await t.createBase(admin, 'Another');
    expect(wakes()).toBe(start);
    await t.call('PATCH', `/api/v1/api-tokens/${token.id}`, { token: admin, body: { permission: 'r' } });
    expect(wakes()).toBe(start + 1);
    await revokeOne(t, admin, base, 'deleted');
    expect(wakes()).toBe(start + 2);
  });

  it('resumes from Last-Event-ID, which wins over ?since=; a cursor ahead of the feed gets a reset page', async () => {
    const { t, admin, base } = await setup();
    await revokeOne(t, admin, base, 'one');
    const cursor = (await poll(t, '0')).cursor as string;
    const resumed = await connect(t, '?since=0', { 'Last-Event-ID': cursor });
    const page = await resumed.reader.nextPage();
    expect(page.page).toMatchObject({ revocations: [], cursor, complete: true, reset: false });

    const ahead = await connect(t, '', { 'Last-Event-ID': '999999' });
    const reset = await ahead.reader.nextPage();
    expect(reset.page).toEqual(await poll(t, '999999'));
    expect(reset.page).toMatchObject({ reset: true, complete: true, cursor });
  });

  it('sends a heartbeat comment at the configured interval', async () => {
    const { t } = await setup({
      revocationStream: { maxStreams: 10, maxLifetimeSeconds: 3600, heartbeatMs: 20 },
    });
    const { reader } = await connect(t);
    await reader.nextPage();
    expect(await reader.next()).toEqual({ comment: 'heartbeat' });
  });

  it('needs the feed credential when the operator set one: 401 without it, nothing changed', async () => {
    const { t } = await setup({ revocationFeedToken: FEED_TOKEN });
    const before = dbDigest(t.raw);
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer not-the-feed-credential-but-long-enough' },
    ];
    for (const headers of attempts) {
      const response = await t.app.request(STREAM, { headers });
      expect(response.status).toBe(401);
      expect((await response.json()).error.code).toBe('missing_credentials');
    }
    expect(dbDigest(t.raw)).toBe(before);
    expect(t.deps.feedWakeups.size).toBe(0);
    const { reader } = await connect(t, '', { authorization: `Bearer ${FEED_TOKEN}` });
    expect((await reader.nextPage()).page.complete).toBe(true);
  });

  it('refuses a bad since or Last-Event-ID with 400 before streaming, nothing changed', async () => {
    const { t } = await setup();
    const before = dbDigest(t.raw);
    for (const [query, headers] of [
      ['?since=abc', {}],
      ['?since=-1', {}],
      ['?since=1234567890123456', {}],
      ['?cursor=1', {}],
      ['', { 'Last-Event-ID': 'x1' }],
    ] as const) {
      const response = await t.app.request(`${STREAM}${query}`, { headers });
      expect(response.status, `${query} ${JSON.stringify(headers)}`).toBe(400);
      expect((await response.json()).error.code).toBe('invalid_request');
    }
    expect(dbDigest(t.raw)).toBe(before);
    expect(t.deps.feedWakeups.size).toBe(0);
  });

  it('answers 503 with Retry-After beyond the cap, and a closed stream frees its place and subscription', async () => {
    const { t } = await setup({
      revocationStream: { maxStreams: 2, maxLifetimeSeconds: 3600, heartbeatMs: 15_000 },
    });
    const a = await connect(t);
    const b = await connect(t);
    await a.reader.nextPage();
    await b.reader.nextPage();
    expect(t.deps.feedWakeups.size).toBe(2);
    const refused = await t.app.request(STREAM);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect((await refused.json()).error.code).toBe('service_unavailable');
    await a.reader.close();
    await eventually(() => expect(t.deps.feedWakeups.size).toBe(1));
    const c = await connect(t);
    expect((await c.reader.nextPage()).page.complete).toBe(true);
    await b.reader.close();
    await c.reader.close();
    await eventually(() => expect(t.deps.feedWakeups.size).toBe(0));
  });

  it('ends a stream after its maximum lifetime', async () => {
    const { t } = await setup({
      revocationStream: { maxStreams: 10, maxLifetimeSeconds: 0.05, heartbeatMs: 15_000 },
    });
    const { reader } = await connect(t);
    await reader.nextPage();
    await expect(reader.next()).rejects.toThrow('stream ended');
    expect(t.deps.feedWakeups.size).toBe(0);
  });

  it('the poll feed says where the stream is; without a stream (Workers) it says nothing and the stream is 404', async () => {
    const offered = await setup();
    const feed = await offered.t.call('GET', '/api/v1/revocations');
    expect(feed.headers.get('tokenladder-revocation-stream')).toBe(STREAM);
    const { t } = await setup({ revocationStream: null });
    const without = await t.call('GET', '/api/v1/revocations');
    expect(without.status).toBe(200);
    expect(without.headers.get('tokenladder-revocation-stream')).toBeNull();
    const response = await t.app.request(STREAM);
    expect(response.status).toBe(404);
    expect((await response.json()).error.message).toMatch(/poll GET \/api\/v1\/revocations/);
  });

  it('a revocation through another app on the same SQLite file reaches the stream (the 1-second check)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokenladder-stream-'));
    try {
      const file = join(dir, 'shared.db');
      const a = await testApp({ file });
      const b = await testApp({ file, kekText: a.kekText });
      const admin = await a.login();
      const base = await a.createBase(admin, 'Shared');
      const { reader } = await connect(b);
      const replay = await reader.nextPage();
      const revoked = await revokeOne(a, admin, base, 'elsewhere');
      const pushed = await reader.nextPage();
      expect((pushed.page.revocations as { value: string }[]).map((entry) => entry.value)).toEqual([revoked]);
      expect(Number(pushed.id)).toBeGreaterThan(Number(replay.id));
      await reader.close();
      a.raw.close();
      b.raw.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

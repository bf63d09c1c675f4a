import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AppConfig } from '../../src/config';
import { createRevocationList, type RevocationList, type RevocationListOptions } from '../../src/verify';
import { testApp, type TestApp } from '../helpers/app';

/** Waits for a condition (generously: the machine may be busy); not a timing assertion. */
const eventually = (check: () => void) => vi.waitFor(check, { timeout: 10_000, interval: 20 });

// The verifier's push transport against the real app (through app.request): it follows the stream,
// applies pushed pages with the poll code, reconnects with Last-Event-ID and stays fail-closed.

const lists: RevocationList[] = [];
afterEach(() => {
  for (const list of lists.splice(0)) list.stop();
});

async function setup(config: Partial<AppConfig> = {}) {
  const t = await testApp({ config });
  const admin = await t.login();
  const base = await t.createBase(admin, 'Pushed');
  return { t, admin, base };
}

/** A list reading the app's feed and stream in-process; `requests` records each call and its headers. */
function listFor(t: TestApp, options: Partial<RevocationListOptions> = {}) {
  const requests: { path: string; lastEventId: string | null }[] = [];
  const errors: string[] = [];
  const list = createRevocationList({
    url: 'http://tokenladder.test/api/v1/revocations',
    fetch: async (input, init) => {
      const path = String(input).replace('http://tokenladder.test', '');
      requests.push({ path, lastEventId: new Headers(init?.headers).get('last-event-id') });
      return t.app.request(path, init);
    },
    currentDate: () => new Date(t.clock.now()),
    onError: (error) => errors.push(String(error)),
    ...options,
  });
  lists.push(list);
  const streams = () => requests.filter((request) => request.path.startsWith('/api/v1/revocations/stream'));
  return { list, requests, streams, errors };
}

/** A working token's claims: an API-Token and a Base-Token exchanged from it. */
async function tokenClaims(t: TestApp, admin: string, base: string, name: string) {
  const apiToken = await t.createApiToken(admin, base, name, 'r');
  const jwt = (await t.call('POST', '/api/v1/base-tokens', { token: apiToken.token })).body.base_token;
  const claims = decodeJwt(jwt) as {
    client_id: string;
    jti: string;
    iat: number;
    aud: string;
    sub: string;
    gen?: number;
  };
  return { apiToken, claims };
}

const outcome = (list: RevocationList, claims: Parameters<RevocationList['check']>[0]) => {
  try {
    list.check(claims);
    return 'accepted';
  } catch (error) {
    return (error as { code: string }).code;
  }
};

describe('createRevocationList: the stream transport', () => {
  it("'auto' follows the advertised stream; a revocation through the API is refused without a poll; stop() ends the stream", async () => {
    const { t, admin, base } = await setup();
    const { apiToken, claims } = await tokenClaims(t, admin, base, 'pushed');
    const { list, requests, streams } = listFor(t);
    await list.start();
    await eventually(() => expect(list.status().transport).toBe('sse'));
    expect(t.deps.feedWakeups.size).toBe(1);
    expect(outcome(list, claims)).toBe('accepted');
    const polls = requests.length - streams().length;

    await t.call('DELETE', `/api/v1/api-tokens/${apiToken.id}`, { token: admin });
    await eventually(() => expect(outcome(list, claims)).toBe('token_revoked'));
    // Pushed: no poll was made (the poll interval is 30 s), one stream opened.
    expect(requests.length - streams().length).toBe(polls);
    expect(streams()).toHaveLength(1);
    expect(streams()[0]!.lastEventId).toBe('0');

    list.stop();
    await eventually(() => expect(t.deps.feedWakeups.size).toBe(0));
    expect(list.status().transport).toBe('poll');
  });

  it("'auto' polls when the server offers no stream (Workers), and never asks for one", async () => {
    const { t, admin, base } = await setup({ revocationStream: null });
    const { apiToken, claims } = await tokenClaims(t, admin, base, 'polled');
    const { list, streams } = listFor(t);
    await list.start();
    expect(list.status()).toMatchObject({ transport: 'poll', complete: true });
    await t.call('DELETE', `/api/v1/api-tokens/${apiToken.id}`, { token: admin });
    expect(outcome(list, claims)).toBe('accepted');
    await list.sync();
    expect(outcome(list, claims)).toBe('token_revoked');
    expect(streams()).toHaveLength(0);
  });

  it("'poll' never opens a stream even when offered", async () => {
    const { t } = await setup();
    const { list, streams } = listFor(t, { transport: 'poll' });
    await list.start();
    expect(list.status().transport).toBe('poll');
    expect(streams()).toHaveLength(0);
    expect(t.deps.feedWakeups.size).toBe(0);
  });

  it('reconnects with Last-Event-ID after the server ends a stream, missing nothing written meanwhile', async () => {
    const { t, admin, base } = await setup({
      revocationStream: { maxStreams: 10, maxLifetimeSeconds: 0.3, heartbeatMs: 15_000 },
    });
    const first = await tokenClaims(t, admin, base, 'first');
    const { list, streams } = listFor(t, { transport: 'sse' });
    await list.start();
    await eventually(() => expect(list.status().transport).toBe('sse'));
    await t.call('DELETE', `/api/v1/api-tokens/${first.apiToken.id}`, { token: admin });
    await eventually(() => expect(outcome(list, first.claims)).toBe('token_revoked'));
    const afterFirst = Number(list.status().cursor);
    const opened = streams().length;
    // The server ends each stream after 0.3 s; the list reconnects from its cursor.
    await eventually(() => expect(streams().length).toBeGreaterThan(opened + 1));
    const second = await tokenClaims(t, admin, base, 'second');
    await t.call('DELETE', `/api/v1/api-tokens/${second.apiToken.id}`, { token: admin });
    await eventually(() => expect(outcome(list, second.claims)).toBe('token_revoked'));
    const resumed = streams()
      .slice(opened)
      .map((stream) => Number(stream.lastEventId));
    expect(resumed.every((cursor) => cursor >= afterFirst)).toBe(true);
    expect(outcome(list, first.claims)).toBe('token_revoked');
  });

  it('polls at its interval while the stream is refused (503), and reports each failure', async () => {
    const { t, admin, base } = await setup({
      revocationStream: { maxStreams: 0, maxLifetimeSeconds: 3600, heartbeatMs: 15_000 },
    });
    const { apiToken, claims } = await tokenClaims(t, admin, base, 'polled');
    const { list, requests, streams, errors } = listFor(t, { transport: 'sse', intervalSeconds: 1 });
    await list.start();
    await eventually(() => expect(errors).toContain('Error: revocation stream answered 503'));
    await t.call('DELETE', `/api/v1/api-tokens/${apiToken.id}`, { token: admin });
    await eventually(() => expect(outcome(list, claims)).toBe('token_revoked'));
    expect(list.status().transport).toBe('poll');
    expect(requests.length - streams().length).toBeGreaterThanOrEqual(2);
    // Retry-After (30 s) holds the next attempt back.
    expect(streams()).toHaveLength(1);
  });

  it('drops a silent stream (no heartbeat) and reconnects', async () => {
    const { t } = await setup();
    const { list, streams, errors } = listFor(t, { transport: 'sse', streamTimeoutSeconds: 0.2 });
    await list.start();
    await eventually(() => expect(streams().length).toBeGreaterThanOrEqual(2));
    expect(errors.some((error) => /silent for 0.2 s/.test(error))).toBe(true);
    list.stop();
    await eventually(() => expect(t.deps.feedWakeups.size).toBe(0));
  });

  it('stays fail-closed: a live stream without heartbeats goes stale; heartbeats keep it fresh', async () => {
    const quiet = await setup();
    const q = await tokenClaims(quiet.t, quiet.admin, quiet.base, 'quiet');
    const stale = listFor(quiet.t, { maxStalenessSeconds: 60 });
    await stale.list.start();
    await eventually(() => expect(stale.list.status().transport).toBe('sse'));
    expect(outcome(stale.list, q.claims)).toBe('accepted');
    quiet.t.clock.advance(61);
    expect(outcome(stale.list, q.claims)).toBe('revocations_unavailable');

    const lively = await setup({
      revocationStream: { maxStreams: 10, maxLifetimeSeconds: 3600, heartbeatMs: 20 },
    });
    const l = await tokenClaims(lively.t, lively.admin, lively.base, 'lively');
    const fresh = listFor(lively.t, { maxStalenessSeconds: 60 });
    await fresh.list.start();
    await eventually(() => expect(fresh.list.status().transport).toBe('sse'));
    lively.t.clock.advance(61);
    await eventually(() => expect(outcome(fresh.list, l.claims)).toBe('accepted'));
  });

  it('refuses bad options', () => {
    const url = 'http://tokenladder.test/api/v1/revocations';
    expect(() => createRevocationList({ url, transport: 'ws' as 'sse' })).toThrow(TypeError);
    expect(() => createRevocationList({ url, streamTimeoutSeconds: 0 })).toThrow(TypeError);
  });
});

import { BaseTokenError } from './errors.js';

/**
 * Options of {@link createRevocationList}.
 *
 * @example
 * ```ts
 * const revocations = createRevocationList({ url: 'https://auth.example/api/v1/revocations' });
 * ```
 */
export interface RevocationListOptions {
  /** The issuer's feed, `<issuer>/api/v1/revocations`. */
  url: string | URL;
  /** Seconds between polls. Default: what the feed advises (`poll_interval_seconds`), else 30. */
  intervalSeconds?: number;
  /** Headers for every poll, e.g. `{ Authorization: 'Bearer …' }` when the operator made the feed private. */
  headers?: Record<string, string>;
  /** Abort a poll after this long. Default 5000 ms. */
  timeoutMs?: number;
  /**
   * Fail closed: when set, tokens are refused (503 `revocations_unavailable`) once the last successful
   * poll is older than this. Unset (the default), a feed outage keeps the last known list.
   */
  maxStalenessSeconds?: number;
  /** Called with each failed poll or dropped stream (the list keeps its last state). */
  onError?: (error: unknown) => void;
  /**
   * `'auto'` (the default): follow the issuer's push stream (Server-Sent Events) when its feed
   * advertises one (`Tokenladder-Revocation-Stream`), else poll; `'sse'`: always try the stream
   * (`<url>/stream` unless advertised elsewhere); `'poll'`: never. While a stream is down the list
   * polls at the normal interval and reconnects with `Last-Event-ID`, backing off up to 30 s.
   */
  transport?: 'auto' | 'sse' | 'poll';
  /**
   * A stream that sends no byte for this long (the server's heartbeat comes every 15 s) is dead:
   * it is dropped and reconnected. Default 35.
   */
  streamTimeoutSeconds?: number;
  fetch?: typeof fetch;
  /** Clock for tests; defaults to the system clock. */
  currentDate?: () => Date;
}

/**
 * The revoked token ids and jtis a verifier checks every token against, kept current by polling
 * the issuer's feed in the background. Give it to `createBaseTokenVerifier({ revocations })`.
 *
 * @example
 * ```ts
 * const revocations = createRevocationList({ url: `${issuer}/api/v1/revocations` });
 * await revocations.start();
 * const verifier = createBaseTokenVerifier({ issuer, jwksUrl, revocations });
 * ```
 */
export interface RevocationList {
  /**
   * Polls once (waiting for it), then keeps the list current until `stop()`: through the issuer's
   * stream when `transport` allows it, polling every interval while there is no stream.
   */
  start(): Promise<void>;
  /** Stops polling and ends the stream. */
  stop(): void;
  /** One poll now; true when the list changed. Throws on a failed poll. */
  sync(): Promise<boolean>;
  /**
   * Throws `token_revoked` for a revoked token; `revocations_unavailable` until the list has read the
   * whole feed (its first poll, a catch-up longer than one poll reads, a feed entry it does not
   * understand) or when stale beyond `maxStalenessSeconds`.
   */
  check(claims: {
    client_id: string;
    jti: string;
    iat: number;
    aud: string;
    sub: string;
    gen?: number;
  }): void;
  status(): {
    lastSyncAt: Date | null;
    cursor: string;
    entries: number;
    intervalSeconds: number;
    /** Whether the list has read the feed to its newest entry (else every token is refused). */
    complete: boolean;
    /** How the list is kept current now: `sse` while a stream is open and has answered, else `poll`. */
    transport: 'poll' | 'sse';
  };
}

/**
 * `client`: Base-Tokens whose `client_id` is `value`, exchanged before the entry was written;
 * `client_base`: the same, only those whose `aud` is `aud` (the source lost one base);
 * `subject_base`: Base-Tokens whose `sub` is `value` and whose `aud` is `aud`, whatever their source
 * (the user was removed from the base or demoted on it); `jti`: one Base-Token.
 *
 * "Exchanged before": the token's `gen` claim is below the entry's `gen`. A token or an entry without
 * `gen` (from tokenladder before 0.2) compares times instead: `iat` at or before `revoked_at`.
 */
interface FeedEntry {
  kind: 'client' | 'jti' | 'client_base' | 'subject_base';
  value: string;
  aud?: string;
  revoked_at: number;
  expires_at: number;
  gen?: number;
}

/** What the list keeps per source: the latest entry's position and time, and when to forget it. */
interface SourceEntry {
  /** The highest `gen` of the source's entries (0: none carried one). */
  gen: number;
  revokedAt: number;
  expiresAt: number;
}

/** Whether a source entry refuses a token: by generation when both carry one, else by time. */
function refuses(entry: SourceEntry | undefined, claims: { iat: number; gen?: number }): boolean {
  if (entry === undefined) return false;
  if (claims.gen !== undefined && entry.gen > 0) return claims.gen < entry.gen;
  return claims.iat <= entry.revokedAt;
}

interface FeedPage {
  revocations: FeedEntry[];
  cursor: string;
  complete: boolean;
  reset: boolean;
  poll_interval_seconds?: number;
}

const DEFAULT_INTERVAL_SECONDS = 30;
const DEFAULT_STREAM_TIMEOUT_SECONDS = 35;
/** Reconnection delays after a failed stream: 1 s, doubling, at most this. */
const MAX_STREAM_BACKOFF_MS = 30_000;
/** The poll feed's header naming the stream's path, when the issuer offers one. */
const STREAM_HEADER = 'tokenladder-revocation-stream';
/** Pages one `sync()` reads at most; a longer catch-up continues at once, refusing tokens meanwhile. */
export const MAX_PAGES_PER_SYNC = 100;

function isFeedEntry(entry: unknown): entry is FeedEntry {
  const e = entry as Record<string, unknown>;
  return (
    (e?.kind === 'client' ||
      e?.kind === 'jti' ||
      ((e?.kind === 'client_base' || e?.kind === 'subject_base') && typeof e.aud === 'string')) &&
    typeof e.value === 'string' &&
    Number.isFinite(e.revoked_at) &&
    Number.isFinite(e.expires_at) &&
    (e.gen === undefined || (Number.isSafeInteger(e.gen) && (e.gen as number) > 0))
  );
}

function isFeedPage(value: unknown): value is FeedPage {
  if (typeof value !== 'object' || value === null) return false;
  const page = value as Record<string, unknown>;
  return (
    Array.isArray(page.revocations) &&
    typeof page.cursor === 'string' &&
    /^\d+$/.test(page.cursor) &&
    typeof page.complete === 'boolean' &&
    typeof page.reset === 'boolean'
  );
}

/**
 * Creates a {@link RevocationList}. Idle polls are conditional (`If-None-Match`), so they cost one
 * indexed lookup and a 304. Entries are dropped once every token they could match has expired.
 *
 * @throws TypeError on invalid options.
 */
export function createRevocationList(options: RevocationListOptions): RevocationList {
  const url = new URL(options.url);
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TypeError('revocation list: url must be http(s)');
  if (options.intervalSeconds !== undefined && !(options.intervalSeconds >= 1))
    throw new TypeError('revocation list: intervalSeconds must be >= 1');
  const transport = options.transport ?? 'auto';
  if (transport !== 'auto' && transport !== 'sse' && transport !== 'poll')
    throw new TypeError("revocation list: transport must be 'auto', 'sse' or 'poll'");
  const streamTimeoutMs = (options.streamTimeoutSeconds ?? DEFAULT_STREAM_TIMEOUT_SECONDS) * 1000;
  if (!(streamTimeoutMs >= 1)) throw new TypeError('revocation list: streamTimeoutSeconds must be > 0');
  const doFetch = options.fetch ?? fetch;
  const now = () => (options.currentDate?.() ?? new Date()).getTime();
  /** client_id → its entry: tokens exchanged before it are revoked. */
  const clients = new Map<string, SourceEntry>();
  /** `${client_id} ${aud}` → the same, for sources that lost one base. */
  const clientBases = new Map<string, SourceEntry>();
  /** `${sub} ${aud}` → the same, for a user who lost (some of) their access to one base. */
  const subjectBases = new Map<string, SourceEntry>();
  const jtis = new Map<string, number>();
  /** Whether the last sync read the feed to its newest entry: until then every token is refused. */
  let caughtUp = false;
  let cursor = '0';
  let etag: string | null = null;
  let lastSyncAt: number | null = null;
  let advisedInterval: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  /** Where the feed said its stream is (null: it offers none, or has not said yet). */
  let advertisedStream: URL | null = null;
  /** The stream loop runs (connected, connecting or waiting to reconnect). */
  let streaming = false;
  /** The open stream has answered: polls pause meanwhile. */
  let streamLive = false;
  let streamAbort: AbortController | null = null;
  let backoffTimer: ReturnType<typeof setTimeout> | undefined;
  let wakeBackoff: (() => void) | null = null;

  const intervalSeconds = () => options.intervalSeconds ?? advisedInterval ?? DEFAULT_INTERVAL_SECONDS;

  function apply(entry: FeedEntry) {
    if (entry.kind === 'jti') {
      jtis.set(entry.value, Math.max(jtis.get(entry.value) ?? 0, entry.expires_at));
      return;
    }
    const map = entry.kind === 'client' ? clients : entry.kind === 'client_base' ? clientBases : subjectBases;
    const key = entry.kind === 'client' ? entry.value : `${entry.value} ${entry.aud}`;
    const known = map.get(key);
    map.set(key, {
      gen: Math.max(known?.gen ?? 0, entry.gen ?? 0),
      revokedAt: Math.max(known?.revokedAt ?? 0, entry.revoked_at),
      expiresAt: Math.max(known?.expiresAt ?? 0, entry.expires_at),
    });
  }

  function forgetExpired() {
    const seconds = Math.floor(now() / 1000);
    for (const map of [clients, clientBases, subjectBases])
      for (const [key, entry] of map) if (entry.expiresAt <= seconds) map.delete(key);
    for (const [key, expiresAt] of jtis) if (expiresAt <= seconds) jtis.delete(key);
  }

  async function fetchPage(): Promise<FeedPage | null> {
    const pageUrl = new URL(url);
    pageUrl.searchParams.set('since', cursor);
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (etag) headers['if-none-match'] = etag;
    const response = await doFetch(pageUrl, {
      headers,
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    });
    const streamPath = response.headers.get(STREAM_HEADER);
    advertisedStream = streamPath ? new URL(streamPath, url) : null;
    if (response.status === 304) return null;
    if (!response.ok) throw new Error(`revocation feed answered ${response.status}`);
    const body = checkedPage(await response.json());
    etag = response.headers.get('etag');
    return body;
  }

  /** A feed page (a poll's body or a stream event's data), checked before anything of it is used. */
  function checkedPage(body: unknown): FeedPage {
    if (!isFeedPage(body)) throw new Error('revocation feed answered an unexpected body');
    if (!body.revocations.every(isFeedEntry)) {
      // An entry this verifier cannot read may revoke anything: refuse every token until it can.
      caughtUp = false;
      throw new Error('revocation feed holds an entry this verifier does not understand: upgrade it');
    }
    return body;
  }

  /** Applies one page, polled or pushed alike; true when the list changed. */
  function applyPage(page: FeedPage): boolean {
    if (page.reset) {
      // The feed restarted (a restored database): rebuild from what it holds now.
      clients.clear();
      clientBases.clear();
      subjectBases.clear();
      jtis.clear();
      caughtUp = false;
    }
    for (const entry of page.revocations) apply(entry);
    cursor = page.cursor;
    if (typeof page.poll_interval_seconds === 'number' && page.poll_interval_seconds >= 1)
      advisedInterval = page.poll_interval_seconds;
    return page.revocations.length > 0 || page.reset;
  }

  async function sync(): Promise<boolean> {
    let changed = false;
    let complete = false;
    for (let pages = 0; pages < MAX_PAGES_PER_SYNC; pages++) {
      const page = await fetchPage();
      if (page === null) {
        // 304: nothing after the cursor of a feed read to its end.
        complete = caughtUp;
        break;
      }
      changed = applyPage(page) || changed;
      if (page.complete) {
        complete = true;
        break;
      }
      etag = null;
    }
    // Fail closed: a partial read (the page cap) may have missed entries in pages not read yet.
    caughtUp = complete;
    if (complete) lastSyncAt = now();
    forgetExpired();
    return changed;
  }

  function schedule() {
    if (!running) return;
    // Behind the feed (a long catch-up): read on at once rather than after an interval.
    timer = setTimeout(
      () => {
        // A live stream keeps the list current: no poll while it answers.
        if (streamLive) return schedule();
        sync()
          .catch((error: unknown) => options.onError?.(error))
          .finally(() => {
            maybeStream();
            schedule();
          });
      },
      caughtUp ? intervalSeconds() * 1000 : 0,
    );
    // A background poll must not keep a Node process alive.
    unref(timer);
  }

  /** Where to connect, when the transport and the feed allow a stream; null: poll only. */
  function streamUrl(): URL | null {
    if (transport === 'poll') return null;
    if (advertisedStream) return advertisedStream;
    if (transport === 'auto') return null;
    const fallback = new URL(url);
    fallback.pathname = `${fallback.pathname.replace(/\/+$/, '')}/stream`;
    fallback.search = '';
    return fallback;
  }

  function maybeStream() {
    if (!running || streaming || streamUrl() === null) return;
    streaming = true;
    void followStream().finally(() => {
      streaming = false;
    });
  }

  /** Keeps one stream open until stop(), reconnecting with backoff; polls run meanwhile. */
  async function followStream() {
    let failures = 0;
    while (running) {
      const target = streamUrl();
      if (target === null) return;
      let waitMs = 0;
      try {
        const answered = await readStream(target);
        // The server ends a stream at its lifetime: reconnect at once after one that worked.
        failures = answered ? 0 : failures + 1;
      } catch (error) {
        if (!running) return;
        failures++;
        const retryAfter = (error as { retryAfterMs?: number }).retryAfterMs;
        if (retryAfter !== undefined) waitMs = retryAfter;
        options.onError?.(error);
      }
      if (failures > 0)
        waitMs = Math.max(waitMs, Math.min(MAX_STREAM_BACKOFF_MS, 1000 * 2 ** (failures - 1)));
      if (waitMs > 0 && running)
        await new Promise<void>((resolve) => {
          wakeBackoff = resolve;
          backoffTimer = setTimeout(resolve, waitMs);
          unref(backoffTimer);
        });
      wakeBackoff = null;
    }
  }

  /**
   * One stream connection, read until it ends, dies (no byte for `streamTimeoutSeconds`) or stop().
   * Resolves true when it delivered at least one page; throws when it could not open or failed.
   */
  async function readStream(target: URL): Promise<boolean> {
    const abort = new AbortController();
    streamAbort = abort;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const alive = () => {
      if (watchdog !== undefined) clearTimeout(watchdog);
      watchdog = setTimeout(
        () => abort.abort(new Error(`revocation stream silent for ${streamTimeoutMs / 1000} s`)),
        streamTimeoutMs,
      );
      unref(watchdog);
    };
    let delivered = false;
    try {
      alive();
      const response = await doFetch(target, {
        headers: { accept: 'text/event-stream', ...options.headers, 'last-event-id': cursor },
        signal: abort.signal,
      });
      if (!response.ok || !response.body) {
        await response.body?.cancel().catch(() => {});
        const error = new Error(`revocation stream answered ${response.status}`);
        const retryAfter = Number(response.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0)
          Object.assign(error, { retryAfterMs: Math.min(retryAfter, 300) * 1000 });
        throw error;
      }
      const reader = response.body.getReader();
      // Ends the read below whatever the fetch does with the signal, and frees the server's stream.
      abort.signal.addEventListener('abort', () => void reader.cancel().catch(() => {}));
      await readServerSentEvents(reader, {
        onBytes: alive,
        onComment: () => {
          // A heartbeat of a stream that is current: the list is as fresh as a poll just made.
          if (streamLive && caughtUp) lastSyncAt = now();
        },
        onEvent: (data) => {
          const page = checkedPage(JSON.parse(data));
          applyPage(page);
          etag = null;
          if (page.complete) {
            caughtUp = true;
            lastSyncAt = now();
          }
          forgetExpired();
          streamLive = true;
          delivered = true;
        },
      });
      if (abort.signal.aborted && running) throw abort.signal.reason;
      return delivered;
    } finally {
      streamLive = false;
      if (watchdog !== undefined) clearTimeout(watchdog);
      if (streamAbort === abort) streamAbort = null;
      if (!abort.signal.aborted) abort.abort();
    }
  }

  return {
    async start() {
      if (running) return;
      running = true;
      try {
        await sync();
      } catch (error) {
        options.onError?.(error);
      }
      maybeStream();
      schedule();
    },
    stop() {
      running = false;
      if (timer !== undefined) clearTimeout(timer);
      if (backoffTimer !== undefined) clearTimeout(backoffTimer);
      wakeBackoff?.();
      streamAbort?.abort();
    },
    sync,
    check(claims) {
      if (!caughtUp) throw new BaseTokenError('revocations_unavailable');
      if (
        options.maxStalenessSeconds !== undefined &&
        (lastSyncAt === null || now() - lastSyncAt > options.maxStalenessSeconds * 1000)
      ) {
        throw new BaseTokenError('revocations_unavailable');
      }
      if (jtis.has(claims.jti)) throw new BaseTokenError('token_revoked');
      if (
        refuses(clients.get(claims.client_id), claims) ||
        refuses(clientBases.get(`${claims.client_id} ${claims.aud}`), claims) ||
        refuses(subjectBases.get(`${claims.sub} ${claims.aud}`), claims)
      )
        throw new BaseTokenError('token_revoked');
    },
    status: () => ({
      lastSyncAt: lastSyncAt === null ? null : new Date(lastSyncAt),
      cursor,
      entries: clients.size + clientBases.size + subjectBases.size + jtis.size,
      intervalSeconds: intervalSeconds(),
      complete: caughtUp,
      transport: streamLive ? 'sse' : 'poll',
    }),
  };
}

const unref = (timer: ReturnType<typeof setTimeout>) => (timer as { unref?: () => void }).unref?.();

/**
 * A Server-Sent Events reader (the WHATWG parsing rules, for the fields the feed sends) over a fetch
 * body: EventSource cannot send headers and is missing from Node 20 and Workers. `onEvent` gets each
 * message's data; a throw from it ends the read with that error.
 */
async function readServerSentEvents(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  handlers: { onBytes: () => void; onComment: () => void; onEvent: (data: string) => void },
): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  let type = '';
  const line = (text: string) => {
    if (text === '') {
      if (data.length > 0 && (type === '' || type === 'message')) handlers.onEvent(data.join('\n'));
      data = [];
      type = '';
      return;
    }
    if (text.startsWith(':')) return handlers.onComment();
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') type = value;
    // `id` repeats the page's cursor, which the data carries; `retry` is ours to decide.
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    handlers.onBytes();
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.search(/\r\n|\r|\n/);
    while (end >= 0) {
      // A \r at the very end may be the first half of \r\n: wait for the next chunk.
      if (buffer[end] === '\r' && end === buffer.length - 1) break;
      const width = buffer.startsWith('\r\n', end) ? 2 : 1;
      line(buffer.slice(0, end));
      buffer = buffer.slice(end + width);
      end = buffer.search(/\r\n|\r|\n/);
    }
    // A server that never ends a line must not grow this without bound.
    if (buffer.length > 16 * 1024 * 1024) throw new Error('revocation stream line too long');
  }
}

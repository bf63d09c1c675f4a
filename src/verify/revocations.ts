import { BaseTokenError } from './errors';

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
  /** Called with each failed poll (the list keeps its last state). */
  onError?: (error: unknown) => void;
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
  /** Polls once (waiting for it), then keeps polling every interval until `stop()`. */
  start(): Promise<void>;
  stop(): void;
  /** One poll now; true when the list changed. Throws on a failed poll. */
  sync(): Promise<boolean>;
  /** Throws `token_revoked` for a revoked token, `revocations_unavailable` when stale beyond the bound. */
  check(claims: { client_id: string; jti: string; iat: number }): void;
  status(): { lastSyncAt: Date | null; cursor: string; entries: number; intervalSeconds: number };
}

interface FeedEntry {
  kind: 'client' | 'jti';
  value: string;
  revoked_at: number;
  expires_at: number;
}

interface FeedPage {
  revocations: FeedEntry[];
  cursor: string;
  complete: boolean;
  reset: boolean;
  poll_interval_seconds?: number;
}

const DEFAULT_INTERVAL_SECONDS = 30;
const MAX_PAGES_PER_SYNC = 100;

function isFeedPage(value: unknown): value is FeedPage {
  if (typeof value !== 'object' || value === null) return false;
  const page = value as Record<string, unknown>;
  return (
    Array.isArray(page.revocations) &&
    typeof page.cursor === 'string' &&
    /^\d+$/.test(page.cursor) &&
    typeof page.complete === 'boolean' &&
    typeof page.reset === 'boolean' &&
    page.revocations.every((entry: unknown) => {
      const e = entry as Record<string, unknown>;
      return (
        (e?.kind === 'client' || e?.kind === 'jti') &&
        typeof e.value === 'string' &&
        Number.isFinite(e.revoked_at) &&
        Number.isFinite(e.expires_at)
      );
    })
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
  const doFetch = options.fetch ?? fetch;
  const now = () => (options.currentDate?.() ?? new Date()).getTime();
  /** client_id → the latest revoked_at (tokens issued at or before it are revoked) and when to forget it. */
  const clients = new Map<string, { revokedAt: number; expiresAt: number }>();
  const jtis = new Map<string, number>();
  let cursor = '0';
  let etag: string | null = null;
  let lastSyncAt: number | null = null;
  let advisedInterval: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;

  const intervalSeconds = () => options.intervalSeconds ?? advisedInterval ?? DEFAULT_INTERVAL_SECONDS;

  function apply(entry: FeedEntry) {
    if (entry.kind === 'jti') {
      jtis.set(entry.value, Math.max(jtis.get(entry.value) ?? 0, entry.expires_at));
      return;
    }
    const known = clients.get(entry.value);
    clients.set(entry.value, {
      revokedAt: Math.max(known?.revokedAt ?? 0, entry.revoked_at),
      expiresAt: Math.max(known?.expiresAt ?? 0, entry.expires_at),
    });
  }

  function forgetExpired() {
    const seconds = Math.floor(now() / 1000);
    for (const [key, entry] of clients) if (entry.expiresAt <= seconds) clients.delete(key);
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
    if (response.status === 304) return null;
    if (!response.ok) throw new Error(`revocation feed answered ${response.status}`);
    const body: unknown = await response.json();
    if (!isFeedPage(body)) throw new Error('revocation feed answered an unexpected body');
    etag = response.headers.get('etag');
    return body;
  }

  async function sync(): Promise<boolean> {
    let changed = false;
    for (let pages = 0; pages < MAX_PAGES_PER_SYNC; pages++) {
      const page = await fetchPage();
      if (page === null) break;
      if (page.reset) {
        // The feed restarted (a restored database): rebuild from what it holds now.
        clients.clear();
        jtis.clear();
      }
      for (const entry of page.revocations) apply(entry);
      changed ||= page.revocations.length > 0 || page.reset;
      cursor = page.cursor;
      if (typeof page.poll_interval_seconds === 'number' && page.poll_interval_seconds >= 1)
        advisedInterval = page.poll_interval_seconds;
      if (page.complete) break;
      etag = null;
    }
    lastSyncAt = now();
    forgetExpired();
    return changed;
  }

  function schedule() {
    if (!running) return;
    timer = setTimeout(() => {
      sync()
        .catch((error: unknown) => options.onError?.(error))
        .finally(schedule);
    }, intervalSeconds() * 1000);
    // A background poll must not keep a Node process alive.
    (timer as { unref?: () => void }).unref?.();
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
      schedule();
    },
    stop() {
      running = false;
      if (timer !== undefined) clearTimeout(timer);
    },
    sync,
    check(claims) {
      if (
        options.maxStalenessSeconds !== undefined &&
        (lastSyncAt === null || now() - lastSyncAt > options.maxStalenessSeconds * 1000)
      ) {
        throw new BaseTokenError('revocations_unavailable');
      }
      if (jtis.has(claims.jti)) throw new BaseTokenError('token_revoked');
      const client = clients.get(claims.client_id);
      if (client !== undefined && claims.iat <= client.revokedAt) throw new BaseTokenError('token_revoked');
    },
    status: () => ({
      lastSyncAt: lastSyncAt === null ? null : new Date(lastSyncAt),
      cursor,
      entries: clients.size + jtis.size,
      intervalSeconds: intervalSeconds(),
    }),
  };
}

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
    if (response.status === 304) return null;
    if (!response.ok) throw new Error(`revocation feed answered ${response.status}`);
    const body: unknown = await response.json();
    if (!isFeedPage(body)) throw new Error('revocation feed answered an unexpected body');
    if (!body.revocations.every(isFeedEntry)) {
      // An entry this verifier cannot read may revoke anything: refuse every token until it can.
      caughtUp = false;
      throw new Error('revocation feed holds an entry this verifier does not understand: upgrade it');
    }
    etag = response.headers.get('etag');
    return body;
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
      if (page.reset) {
        // The feed restarted (a restored database): rebuild from what it holds now.
        clients.clear();
        clientBases.clear();
        subjectBases.clear();
        jtis.clear();
        caughtUp = false;
      }
      for (const entry of page.revocations) apply(entry);
      changed ||= page.revocations.length > 0 || page.reset;
      cursor = page.cursor;
      if (typeof page.poll_interval_seconds === 'number' && page.poll_interval_seconds >= 1)
        advisedInterval = page.poll_interval_seconds;
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
        sync()
          .catch((error: unknown) => options.onError?.(error))
          .finally(schedule);
      },
      caughtUp ? intervalSeconds() * 1000 : 0,
    );
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
    }),
  };
}

// Node-only: one dedicated LISTEN connection per instance (a direct pg.Client, never from the pool:
// a pooled connection is handed to others, and a transaction pooler does not carry LISTEN at all).
// The schema's triggers NOTIFY `tokenladder_revocations` and `tokenladder_keys` at commit; the
// payload is empty, a wake-up only: readers always read the tables by cursor.
import pg from 'pg';
import type { Logger } from '../lib/logger';

export const REVOCATIONS_CHANNEL = 'tokenladder_revocations';
export const KEYS_CHANNEL = 'tokenladder_keys';

export interface PostgresListener {
  /** Calls `wake` on every committed change to the revocation feed; answers how to stop. */
  onRevocations(wake: () => void): () => void;
  /** Calls `wake` on every committed change to the signing keys; answers how to stop. */
  onKeys(wake: () => void): () => void;
  /** Whether the connection is up and listening now. */
  listening(): boolean;
  /** Ends the connection and stops reconnecting. */
  close(): Promise<void>;
}

export interface PostgresListenerOptions {
  url: string;
  log?: Pick<Logger, 'info' | 'warn'>;
  /** First wait before a reconnect; doubled per failure up to `maxBackoffMillis`. */
  minBackoffMillis?: number;
  maxBackoffMillis?: number;
  /** Makes the client (tests break the connection on purpose). */
  connect?: (url: string) => pg.Client;
}

/**
 * Starts listening at once (in the background: a database that is down now is retried with backoff,
 * never thrown). On every (re)connect each handler is called once, since notifications sent while
 * the connection was down are lost: the woken reader catches up from its cursor.
 */
export function createPostgresListener(options: PostgresListenerOptions): PostgresListener {
  const minBackoff = options.minBackoffMillis ?? 250;
  const maxBackoff = options.maxBackoffMillis ?? 10_000;
  const handlers = new Map<string, Set<() => void>>([
    [REVOCATIONS_CHANNEL, new Set()],
    [KEYS_CHANNEL, new Set()],
  ]);
  let client: pg.Client | undefined;
  let up = false;
  let closed = false;
  let backoff = minBackoff;
  let retry: ReturnType<typeof setTimeout> | undefined;

  const call = (channel: string) => {
    for (const wake of handlers.get(channel) ?? []) {
      try {
        wake();
      } catch (error) {
        options.log?.warn('a LISTEN handler failed', { channel, error: String(error) });
      }
    }
  };

  const scheduleReconnect = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, backoff);
    // A waiting reconnect does not keep the process alive.
    retry.unref?.();
    backoff = Math.min(backoff * 2, maxBackoff);
  };

  const lost = (current: pg.Client, error?: Error) => {
    if (client !== current) return;
    client = undefined;
    if (up) options.log?.warn('LISTEN connection lost; reconnecting', { error: error?.message ?? 'ended' });
    up = false;
    current.removeAllListeners('notification');
    current.end().catch(() => {});
    scheduleReconnect();
  };

  async function connect(): Promise<void> {
    if (closed) return;
    const current =
      options.connect?.(options.url) ?? new pg.Client({ connectionString: options.url, keepAlive: true });
    client = current;
    current.on('error', (error) => lost(current, error));
    current.on('end', () => lost(current));
    current.on('notification', (message) => call(message.channel));
    try {
      await current.connect();
      await current.query(`LISTEN ${REVOCATIONS_CHANNEL}; LISTEN ${KEYS_CHANNEL}`);
    } catch (error) {
      if (client === current) {
        if (!closed)
          options.log?.warn('LISTEN connection failed; retrying', { error: (error as Error).message });
        lost(current, error as Error);
      }
      return;
    }
    if (closed || client !== current) {
      await current.end().catch(() => {});
      return;
    }
    up = true;
    backoff = minBackoff;
    // Whatever changed while no connection listened: every reader re-reads once.
    call(REVOCATIONS_CHANNEL);
    call(KEYS_CHANNEL);
  }

  void connect();

  const subscribe = (channel: string) => (wake: () => void) => {
    handlers.get(channel)!.add(wake);
    return () => {
      handlers.get(channel)!.delete(wake);
    };
  };

  return {
    onRevocations: subscribe(REVOCATIONS_CHANNEL),
    onKeys: subscribe(KEYS_CHANNEL),
    listening: () => up,
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      retry = undefined;
      const current = client;
      client = undefined;
      up = false;
      if (current) {
        current.removeAllListeners('notification');
        await current.end().catch(() => {});
      }
    },
  };
}

import type { CompiledQuery, OperationNode } from 'kysely';
import type { Logger } from '../lib/logger';
import type { Atomic, AtomicAfter } from '../store/atomic';

/**
 * Something that says "the feed may have grown" (PostgreSQL: a LISTEN connection woken by the feed
 * trigger's NOTIFY). Started with `wake`, it returns its stop function. Its payload is only a wake-up:
 * streams always read the entries from the table by cursor.
 */
export type FeedWakeupSource = (wake: () => void) => () => void;

/**
 * Wakes the open revocation streams of one app when the feed may have grown. Three sources: this
 * process's own writes (see {@link wakingAtomic}), an injected {@link FeedWakeupSource}, and a safety
 * check that reads the feed's newest cursor every second while anyone listens (another process on the
 * same SQLite file, a lost NOTIFY). Nothing runs while nobody listens: no timer, no source.
 */
export interface FeedWakeups {
  /** `listener` runs after each wake-up until the returned function is called. */
  subscribe(listener: () => void): () => void;
  /** Wakes every subscriber now. */
  wake(): void;
  /** How many subscribers there are (open streams). */
  readonly size: number;
  /** How many wake-ups there have been: reads made after the same count may be shared. */
  readonly wakes: number;
  /** Aborted by `close()` (the server is stopping): streams end, and no new one subscribes. */
  readonly closed: AbortSignal;
  close(): void;
}

export interface FeedWakeupsOptions {
  /** The feed's newest cursor, for the safety check. */
  latest: () => Promise<number>;
  /** Started with the first subscriber, stopped after the last one leaves. */
  source?: FeedWakeupSource;
  /** The safety check's period; 1000 ms by default. */
  safetyCheckMs?: number;
  log?: Logger;
}

export function createFeedWakeups(options: FeedWakeupsOptions): FeedWakeups {
  const listeners = new Set<() => void>();
  const closing = new AbortController();
  const period = options.safetyCheckMs ?? 1000;
  let stopSource: (() => void) | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** The newest cursor the last safety check saw; null: none yet (the first check wakes everyone). */
  let seen: number | null = null;

  let wakes = 0;

  function wake() {
    wakes++;
    for (const listener of [...listeners]) {
      try {
        listener();
      } catch (error) {
        options.log?.error('revocation stream wake-up failed', { error: String(error) });
      }
    }
  }

  function schedule() {
    if (listeners.size === 0 || closing.signal.aborted || timer !== undefined) return;
    timer = setTimeout(check, period);
    // Waiting for the next check must not keep a Node process alive.
    (timer as { unref?: () => void }).unref?.();
  }

  async function check() {
    try {
      const latest = await options.latest();
      // Any change, a restored (smaller) feed included; the first check after a quiet spell always
      // wakes, so a write that landed between a stream's catch-up read and this check is not missed.
      if (seen !== latest) wake();
      seen = latest;
    } catch (error) {
      options.log?.warn('revocation feed safety check failed', { error: String(error) });
    } finally {
      timer = undefined;
      schedule();
    }
  }

  function stopAll() {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    seen = null;
    stopSource?.();
    stopSource = null;
  }

  return {
    subscribe(listener) {
      if (closing.signal.aborted) return () => {};
      const entry = () => listener();
      listeners.add(entry);
      if (listeners.size === 1) {
        if (options.source) stopSource = options.source(wake);
        schedule();
      }
      return () => {
        if (!listeners.delete(entry)) return;
        if (listeners.size === 0) stopAll();
      };
    },
    wake,
    get size() {
      return listeners.size;
    },
    get wakes() {
      return wakes;
    },
    closed: closing.signal,
    close() {
      closing.abort();
      listeners.clear();
      stopAll();
    },
  };
}

/** Whether a statement inserts or updates rows of the `revocations` table. */
export function writesFeed(query: CompiledQuery): boolean {
  const node = query.query as OperationNode & { into?: OperationNode; table?: OperationNode };
  if (node.kind === 'InsertQueryNode') return tableName(node.into) === 'revocations';
  if (node.kind === 'UpdateQueryNode') return tableName(node.table) === 'revocations';
  // Hand-written statements (sql`INSERT INTO revocations ...`, the audit log's raw inserts).
  if (node.kind === 'RawNode')
    return /^\s*(?:insert|update|replace)\s+(?:or\s+\w+\s+)?(?:into\s+)?["`]?revocations["`]?[\s(]/i.test(
      query.sql,
    );
  return false;
}

function tableName(node: OperationNode | undefined): string | undefined {
  const n = node as
    | { kind: string; node?: OperationNode; table?: { identifier?: { name?: string } } }
    | undefined;
  if (n?.kind === 'AliasNode') return tableName(n.node);
  if (n?.kind === 'TableNode') return n.table?.identifier?.name;
  return undefined;
}

/**
 * `atomic` that wakes the streams after a write that added or moved feed entries has committed. Each
 * statement is compiled once here and handed on compiled, so the check costs no second compile.
 */
export function wakingAtomic(atomic: Atomic, wakeups: Pick<FeedWakeups, 'wake'>): Atomic {
  return async (statements) => {
    const compiled = statements.map((statement) => statement.compile());
    const results = await atomic(compiled.map((query) => ({ compile: () => query })));
    if (compiled.some(writesFeed)) wakeups.wake();
    return results;
  };
}

/** `atomicAfter` (PostgreSQL's audited writes) waking the streams as `wakingAtomic` does. */
export function wakingAtomicAfter(atomicAfter: AtomicAfter, wakeups: Pick<FeedWakeups, 'wake'>): AtomicAfter {
  return async (first, build) => {
    let wrote = false;
    const results = await atomicAfter(first, async (found) => {
      const compiled = (await build(found)).map((statement) => statement.compile());
      wrote = compiled.some(writesFeed);
      return compiled.map((query) => ({ compile: () => query }));
    });
    if (wrote) wakeups.wake();
    return results;
  };
}

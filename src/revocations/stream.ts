import type { Deps } from '../deps';
import { latestRevocation, readRevocations, type RevocationPage } from './feed';

/** The two reads a stream makes after a wake-up; {@link sharedFeedReads} makes streams share them. */
export interface FeedReads {
  latest(): Promise<number>;
  page(since: number, latest: number): Promise<RevocationPage>;
}

/**
 * Reads shared by the streams of one app: every stream wakes at once after a write, and those at the
 * same cursor need the same page, so one read serves them all instead of one per stream. A read is
 * shared only among callers after the same wake-up: one that started before a write committed (an
 * earlier wake-up) is never handed to a stream woken by that write.
 */
export function sharedFeedReads(deps: Pick<Deps, 'db' | 'clock' | 'feedWakeups'>): FeedReads {
  const inFlight = new Map<string, Promise<unknown>>();
  const shared = <T>(key: string, read: () => Promise<T>): Promise<T> => {
    const full = `${deps.feedWakeups.wakes} ${key}`;
    let promise = inFlight.get(full) as Promise<T> | undefined;
    if (promise === undefined) {
      promise = read().finally(() => inFlight.delete(full));
      inFlight.set(full, promise);
    }
    return promise;
  };
  return {
    latest: () => shared('latest', () => latestRevocation(deps)),
    page: (since, latest) => shared(`${since} ${latest}`, () => readRevocations(deps, since, latest)),
  };
}

/**
 * The feed from a cursor on, as it grows: first the catch-up (at least one page, so the reader learns
 * it is current even when nothing is new), then, after each wake-up of `deps.feedWakeups`, the pages
 * written since. Entries are always read from the table by cursor; a wake-up only says "look". A
 * cursor ahead of the feed (a restored database) gets a `reset` page, as the poll feed answers.
 * Ends when `signal` aborts or the wake-ups close (the server stops); unsubscribes either way.
 */
export async function* followRevocations(
  deps: Pick<Deps, 'db' | 'clock' | 'feedWakeups'>,
  since: number,
  signal: AbortSignal,
  reads: FeedReads = sharedFeedReads(deps),
): AsyncGenerator<RevocationPage> {
  // The catch-up reads on its own: a shared read may have started before this stream subscribed.
  const own: FeedReads = {
    latest: () => latestRevocation(deps),
    page: (from, latest) => readRevocations(deps, from, latest),
  };
  const { feedWakeups } = deps;
  let woken = true;
  let first = true;
  let resume: (() => void) | null = null;
  const stirred = () => {
    resume?.();
    resume = null;
  };
  // Subscribed before the first read: a write committed after it wakes this stream.
  const unsubscribe = feedWakeups.subscribe(() => {
    woken = true;
    stirred();
  });
  signal.addEventListener('abort', stirred);
  feedWakeups.closed.addEventListener('abort', stirred);
  const ended = () => signal.aborted || feedWakeups.closed.aborted;
  try {
    let cursor = since;
    while (!ended()) {
      if (!woken) {
        await new Promise<void>((resolve) => {
          resume = resolve;
        });
        continue;
      }
      woken = false;
      for (;;) {
        const read = first ? own : reads;
        const latest = await read.latest();
        if (latest === cursor && !first) break;
        first = false;
        const page = await read.page(cursor, latest);
        cursor = page.cursor;
        if (ended()) return;
        yield page;
        if (page.complete) break;
      }
    }
  } finally {
    unsubscribe();
    signal.removeEventListener('abort', stirred);
    feedWakeups.closed.removeEventListener('abort', stirred);
  }
}

import type { Deps } from '../deps';
import { latestRevocation, readRevocations, type RevocationPage } from './feed';

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
): AsyncGenerator<RevocationPage> {
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
        const latest = await latestRevocation(deps);
        if (latest === cursor && !first) break;
        first = false;
        const page = await readRevocations(deps, cursor, latest);
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

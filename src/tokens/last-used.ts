import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';
import type { TokenTable } from './kinds';

/**
 * `last_used_at` is recorded to the minute: a token used again within that minute causes no write,
 * so a busy token does not turn every request into a serialised write. It may lag by up to 60 s.
 */
export const LAST_USED_RESOLUTION_SECONDS = 60;

export async function touchLastUsed(
  db: Kysely<Database>,
  table: TokenTable,
  id: string,
  previous: number | null,
  now: number,
): Promise<void> {
  if (previous !== null && now - previous < LAST_USED_RESOLUTION_SECONDS) return;
  // Both tables share these columns; the cast only narrows the union for Kysely's types.
  await db
    .updateTable(table as 'api_tokens')
    .set({ last_used_at: now })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', now)]))
    .execute();
}

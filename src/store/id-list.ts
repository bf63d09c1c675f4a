import { sql, type Kysely, type RawBuilder } from 'kysely';
import { dialectOf } from './dialect';
import type { Database } from './schema';

/**
 * `column IN (ids)` with the whole list as one bound parameter. D1 binds at most 100 parameters per
 * statement, so a list of ids spelled out as `?, ?, …` breaks there long before SQLite minds.
 * SQLite and D1 read a JSON array with `json_each`; PostgreSQL takes a text array (`= ANY($1::text[])`).
 */
export function inIdList(
  db: Pick<Kysely<Database>, 'getExecutor'>,
  column: string,
  ids: readonly string[],
): RawBuilder<boolean> {
  if (dialectOf(db) === 'postgres') return sql<boolean>`${sql.ref(column)} = ANY(${[...ids]}::text[])`;
  return sql<boolean>`${sql.ref(column)} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`;
}

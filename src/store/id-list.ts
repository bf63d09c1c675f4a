import { sql, type RawBuilder } from 'kysely';

/**
 * `column IN (ids)` with the whole list as one bound JSON parameter. D1 binds at most 100 parameters
 * per statement, so a list of ids spelled out as `?, ?, …` breaks there long before SQLite minds.
 * `json_each` is SQLite's (and D1's); PostgreSQL would spell it `json_array_elements_text`.
 */
export function inIdList(column: string, ids: readonly string[]): RawBuilder<boolean> {
  return sql<boolean>`${sql.ref(column)} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`;
}

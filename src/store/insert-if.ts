import type { Compilable, Expression, Kysely } from 'kysely';
import type { Database } from './schema';

/**
 * `INSERT INTO table (…) SELECT ?, … WHERE EXISTS (onlyIf)`: a row written only if a condition holds
 * once the statements before it in the same atomic write have run (the action took effect). Portable
 * SQL; D1 has no interactive transactions to check it in between.
 */
export function insertIfExists<Row extends object>(
  db: Kysely<Database>,
  table: keyof Database,
  row: Row,
  onlyIf: Expression<unknown>,
): Compilable {
  const columns = Object.keys(row) as (keyof Row & string)[];
  const select = db
    .selectNoFrom((eb) => columns.map((column) => eb.val(row[column]).as(column)))
    .where((eb) => eb.exists(onlyIf));
  // The column list and the selection are built from the same row, which the query builder cannot see.
  return db
    .insertInto(table)
    .columns(columns as never)
    .expression(select as never);
}

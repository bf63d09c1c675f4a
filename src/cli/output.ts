/** Human output as aligned columns; `--json` output as indented JSON. Only stdout, so pipes get data. */

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export type Cell = string | number | boolean | null | undefined;

/** Aligned columns under upper-case headers; `-` for empty cells. */
export function formatTable(columns: string[], rows: Cell[][]): string {
  const text = [
    columns.map((column) => column.toUpperCase()),
    ...rows.map((row) =>
      row.map((cell) => (cell === null || cell === undefined || cell === '' ? '-' : String(cell))),
    ),
  ];
  const widths = columns.map((_, index) => Math.max(...text.map((row) => row[index]!.length)));
  return text
    .map((row) =>
      row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index]!))).join('  '),
    )
    .join('\n');
}

export function printTable(columns: string[], rows: Cell[][], empty = 'nothing to show'): void {
  process.stdout.write(rows.length === 0 ? `${empty}\n` : `${formatTable(columns, rows)}\n`);
}

/** `key  value` lines, aligned: one object for people. */
export function printFields(fields: Record<string, Cell>): void {
  const width = Math.max(...Object.keys(fields).map((key) => key.length));
  process.stdout.write(
    `${Object.entries(fields)
      .map(([key, value]) => `${key.padEnd(width)}  ${value ?? '-'}`)
      .join('\n')}\n`,
  );
}

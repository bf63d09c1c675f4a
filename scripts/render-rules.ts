// Writes docs/revocation.md's "What ends what" table from src/revocations/rules.ts (npm run docs:rules).
import { readFileSync, writeFileSync } from 'node:fs';
import { renderRules } from '../src/revocations/rules';

const PAGE = new URL('../docs/revocation.md', import.meta.url);
const START = '<!-- rules:start -->';
const END = '<!-- rules:end -->';

/** docs/revocation.md's text with the table between the markers replaced by the rendered rules. */
export function withRules(page: string): string {
  const start = page.indexOf(START);
  const end = page.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/revocation.md: ${START} … ${END} not found`);
  return `${page.slice(0, start + START.length)}\n${renderRules()}\n${page.slice(end)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(PAGE, withRules(readFileSync(PAGE, 'utf8')));
  console.log('docs/revocation.md: rules table written');
}

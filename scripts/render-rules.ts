// Writes README.md's "What ends what" table from src/revocations/rules.ts (npm run docs:rules).
import { readFileSync, writeFileSync } from 'node:fs';
import { renderRules } from '../src/revocations/rules';

const README = new URL('../README.md', import.meta.url);
const START = '<!-- rules:start -->';
const END = '<!-- rules:end -->';

/** README's text with the table between the markers replaced by the rendered rules. */
export function withRules(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md: ${START} … ${END} not found`);
  return `${readme.slice(0, start + START.length)}\n${renderRules()}\n${readme.slice(end)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(README, withRules(readFileSync(README, 'utf8')));
  console.log('README.md: rules table written');
}

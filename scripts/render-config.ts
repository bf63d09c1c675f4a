// Writes docs/configuration.md from src/config.ts: the schema gives names and defaults, SETTINGS the
// words (npm run docs:config). test/tooling/config-docs.test.ts fails when the page and the code differ.
import { writeFileSync } from 'node:fs';
import { envSchema, SETTINGS, type SettingDoc } from '../src/config';

const PAGE = new URL('../docs/configuration.md', import.meta.url);
const WIDTH = 100;

/** Words wrapped at `WIDTH` columns, never inside a `code span`. */
function wrap(text: string): string {
  const words = text.match(/(`[^`]*`|[^\s`]+)+/g) ?? [];
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line !== '' && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines.join('\n');
}

const sentence = (text: string) => {
  const capital = text.charAt(0).toUpperCase() + text.slice(1);
  return capital.endsWith('.') ? capital : `${capital}.`;
};

/** The default a variable's schema gives, as the page shows it, or the words for "unset". */
function defaultOf(name: keyof typeof SETTINGS, doc: SettingDoc, schemaDefaults: Record<string, unknown>) {
  const value = schemaDefaults[name];
  if (value !== undefined && doc.unset !== undefined)
    throw new Error(`${name}: the schema has a default (${String(value)}); drop SETTINGS.${name}.unset`);
  if (value !== undefined) return `\`${String(value)}\``;
  if (doc.unset === undefined) throw new Error(`${name}: no default in the schema; say what unset means`);
  return doc.unset;
}

/** docs/configuration.md, complete. */
export function renderConfiguration(): string {
  const schemaDefaults = envSchema.parse({}) as Record<string, unknown>;
  const names = Object.keys(envSchema.shape) as (keyof typeof SETTINGS)[];
  const anchor = (name: string) => name.toLowerCase();
  const summary = names.map(
    (name) => `| [\`${name}\`](#${anchor(name)}) | ${defaultOf(name, SETTINGS[name], schemaDefaults)} |`,
  );
  const sections = names.map((name) => {
    const doc = SETTINGS[name];
    return [
      `### \`${name}\``,
      '',
      wrap(`Default: ${defaultOf(name, doc, schemaDefaults)}.`),
      '',
      wrap(sentence(doc.description)),
    ].join('\n');
  });
  return [
    '# Configuration',
    '',
    '<!-- Generated from src/config.ts by `npm run docs:config`; edit SETTINGS there, not this page. -->',
    '',
    wrap(
      'Every setting is an environment variable, parsed once at start by one schema (`src/config.ts`) on ' +
        'Node and on Workers; a bad value stops the start with a message naming the variable. On Workers, ' +
        'non-secret values go in `[vars]` of `wrangler.toml` and secrets through `wrangler secret put` ' +
        '(see [workers.md](workers.md)); an empty value counts as unset.',
    ),
    '',
    '| variable | default |',
    '| --- | --- |',
    ...summary,
    '',
    ...sections.flatMap((section) => [section, '']),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(PAGE, renderConfiguration());
  console.log('docs/configuration.md written');
}

// Command-line flags of `npm run bench -- …`.
import { parseArgs } from 'node:util';
import { REAL_API_TOKENS } from './fixture';

export const SCENARIOS = [
  'verify-inproc',
  'verify-http',
  'exchange',
  'me',
  'login',
  'scale',
  'oauth',
  'postgres',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface Settings {
  quick: boolean;
  only: Set<ScenarioName>;
  durationSeconds: number;
  warmupSeconds: number;
  repeats: number;
  /** Length of the RSS-growth run of the exchange. */
  rssSeconds: number;
  /** Revocations per setup in the postgres scenario's push-latency measurement. */
  revocations: number;
  /** API-Token rows of the small and the large database of the scale scenario. */
  scale: [number, number];
  jsonPath: string;
  /** Where to write RESULTS.md (table, machine, command), if at all. */
  resultsPath: string | undefined;
  /** Run the tokenladder exchange server with --cpu-prof into this folder. */
  profileDir: string | undefined;
  argv: string[];
}

const USAGE = `usage: npm run bench -- [--quick] [--only ${SCENARIOS.join('|')}[,…]] [--duration s] [--warmup s]
                       [--repeats n] [--rss-seconds s] [--scale small,large] [--revocations n] [--json path]
                       [--results path] [--profile dir]`;

function number(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min)
    throw new Error(`--${name} must be a number >= ${min}\n${USAGE}`);
  return value;
}

export function parseSettings(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      repeats: { type: 'string' },
      'rss-seconds': { type: 'string' },
      scale: { type: 'string' },
      revocations: { type: 'string' },
      json: { type: 'string', default: 'bench/results/latest.json' },
      results: { type: 'string' },
      profile: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick;
  const only = new Set<ScenarioName>();
  for (const name of values.only?.split(',') ?? SCENARIOS) {
    if (!(SCENARIOS as readonly string[]).includes(name))
      throw new Error(`unknown scenario "${name}"\n${USAGE}`);
    only.add(name as ScenarioName);
  }
  const [small, large] = (values.scale ?? (quick ? '1000,20000' : '1000,1000000')).split(',').map(Number);
  if (!small || !large || small < REAL_API_TOKENS || large < small) {
    throw new Error(`--scale must be small,large with ${REAL_API_TOKENS} <= small <= large\n${USAGE}`);
  }
  return {
    quick,
    only,
    durationSeconds: number('duration', values.duration, quick ? 2 : 10, 0.5),
    warmupSeconds: number('warmup', values.warmup, quick ? 0.5 : 3, 0),
    repeats: Math.round(number('repeats', values.repeats, quick ? 1 : 3, 1)),
    rssSeconds: number('rss-seconds', values['rss-seconds'], quick ? 5 : 60, 1),
    revocations: Math.round(number('revocations', values.revocations, quick ? 10 : 100, 1)),
    scale: [small, large],
    jsonPath: values.json,
    resultsPath: values.results,
    profileDir: values.profile,
    argv,
  };
}

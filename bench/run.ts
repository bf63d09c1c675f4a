// Benchmark orchestrator: `npm run bench -- [--quick] [--only …] …` (see bench/RESULTS.md).
// Servers under test run in child processes; autocannon runs here; results go to stdout (markdown) and JSON.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { parseSettings, SCENARIOS } from './lib/args';
import { ROOT } from './lib/children';
import { buildFixture, REAL_API_TOKENS, type Fixture } from './lib/fixture';
import { log } from './lib/measure';
import {
  describeMachine,
  machineLine,
  memoryTable,
  resultsTable,
  type MemoryRow,
  type Row,
} from './lib/report';
import { createBenchDatabase, type BenchDatabase } from './lib/postgres';
import { oauthScenario } from './lib/oauth-scenario';
import { postgresScenario } from './lib/postgres-scenario';
import { scenarios as httpScenarios, type Context } from './lib/scenarios';

const scenarios = { ...httpScenarios, oauth: oauthScenario, postgres: postgresScenario } as const;

async function main(): Promise<number> {
  const settings = parseSettings(process.argv.slice(2));
  const command = ['npm run bench', ...(settings.argv.length ? ['--', ...settings.argv] : [])].join(' ');
  const machine = describeMachine();
  const started = performance.now();
  const dir = mkdtempSync(join(os.tmpdir(), 'tokenladder-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  if (settings.profileDir) mkdirSync(settings.profileDir, { recursive: true });

  log(`${machineLine(machine)}`);
  log(
    `${settings.quick ? 'quick' : 'full'} run: warm-up ${settings.warmupSeconds} s, ${settings.durationSeconds} s per run, ${settings.repeats} repeat(s), median`,
  );
  const notes: string[] = [];
  const fixtureNote = (what: string, f: Fixture) =>
    `${what}: ${f.apiTokenRows.toLocaleString('en-US')} API-Tokens (${REAL_API_TOKENS} real, minted through the HTTP API; the rest bulk-inserted ` +
    `in transactions of 10,000): setup ${f.setupSeconds.toFixed(1)} s, filler ${f.fillerSeconds.toFixed(1)} s` +
    (f.fillerSeconds > 0
      ? ` (${Math.round((f.apiTokenRows - REAL_API_TOKENS) / f.fillerSeconds).toLocaleString('en-US')} rows/s)`
      : '');

  log(`seeding the main database (${settings.scale[0]} API-Tokens)`);
  const main = await buildFixture(join(dir, 'main.db'), settings.scale[0], REAL_API_TOKENS);
  notes.push(fixtureNote('Main database', main));
  let large: Fixture | undefined;
  let database: BenchDatabase | { skipped: string } | undefined;
  let postgres: ReturnType<Context['postgres']> | undefined;
  const context: Context = {
    settings,
    main,
    large: async () => {
      log(`seeding the large database (${settings.scale[1]} API-Tokens)`);
      large ??= await buildFixture(join(dir, 'large.db'), settings.scale[1], REAL_API_TOKENS);
      notes.push(fixtureNote('Large database (scenario 6)', large));
      return large;
    },
    postgres: () => {
      postgres ??= (async () => {
        database = await createBenchDatabase();
        if ('skipped' in database) return database;
        log(`seeding the PostgreSQL database ${database.name} (${settings.scale[0]} API-Tokens)`);
        const fixture = await buildFixture(
          { kind: 'postgres', url: database.url },
          settings.scale[0],
          REAL_API_TOKENS,
        );
        notes.push(fixtureNote('PostgreSQL database (scenario postgres)', fixture));
        return { fixture, database: database.name };
      })();
      return postgres;
    },
  };

  const rows: Row[] = [];
  const memory: MemoryRow[] = [];
  const tables: string[] = [];
  try {
    for (const name of SCENARIOS) {
      if (!settings.only.has(name)) continue;
      log(`scenario ${name}`);
      const output = await scenarios[name](context);
      rows.push(...output.rows);
      memory.push(...(output.memory ?? []));
      tables.push(...(output.tables ?? []));
      notes.push(...(output.notes ?? []));
    }
  } finally {
    if (database && !('skipped' in database)) await database.drop();
  }
  const wallSeconds = (performance.now() - started) / 1000;

  notes.push(
    'Every HTTP scenario: autocannon with 50 connections (login: 1 and 4), in the orchestrator process; each server in its own ' +
      'child process on 127.0.0.1; after a warm-up, each round measures every target of a scenario in turn. req/s, p50 and p99 are medians over the rounds; ratio = median req/s ÷ median ceiling req/s; ' +
      'peak RSS is the server process (VmRSS sampled every 200 ms while measured). ' +
      '"CPU µs/req" is the CPU time (all threads) the process under test spent per request (scenario 1: per verification); it is far ' +
      'less sensitive to a busy machine than req/s. "others\' CPU" is the largest share of the whole machine that processes other than ' +
      'the benchmark used during one measured run: above a few percent, the run was disturbed.',
    'The tokenladder server is the real app (createNodeDeps + createApp on @hono/node-server, SQLite file in WAL mode, synchronous=FULL), ' +
      'logging discarded, scrypt at the production default.',
  );
  const markdown = [
    `Machine: ${machineLine(machine)}`,
    '',
    `Command: \`${command}\` (${settings.quick ? 'quick' : 'full'}: warm-up ${settings.warmupSeconds} s, ${settings.durationSeconds} s per run, ` +
      `${settings.repeats} repeat(s); wall time ${Math.round(wallSeconds)} s)`,
    '',
    resultsTable(rows),
    ...(memory.length ? ['', memoryTable(memory)] : []),
    ...tables.flatMap((table) => ['', table]),
    '',
    ...notes.map((note) => `- ${note}`),
  ].join('\n');
  process.stdout.write(`${markdown}\n`);

  const json = {
    date: new Date().toISOString(),
    command,
    settings: { ...settings, only: [...settings.only] },
    machine,
    wallSeconds,
    rows,
    memory,
    notes,
  };
  mkdirSync(dirname(settings.jsonPath), { recursive: true });
  writeFileSync(settings.jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  log(`wrote ${settings.jsonPath}`);
  if (settings.profileDir) {
    const profiles = readdirSync(settings.profileDir).filter((name) => name.endsWith('.cpuprofile'));
    log(
      `CPU profiles in ${settings.profileDir} (the main thread's ends in .0.001.cpuprofile): ${profiles.join(', ')}`,
    );
    log(`summarise with: node --import tsx bench/profile.ts ${join(settings.profileDir, '<file>')}`);
  }
  if (settings.resultsPath) {
    writeFileSync(settings.resultsPath, resultsDocument(markdown, json.date));
    log(`wrote ${settings.resultsPath}`);
  }
  return 0;
}

function resultsDocument(markdown: string, date: string): string {
  return `# Benchmark results

The two operations that run millions of times, the Base-Token exchange and Base-Token verification,
measured with \`bench/run.ts\` on ${date.slice(0, 10)}. Each ratio compares two things measured in the same run on
the same machine. Regenerate with the command below; \`npm run bench -- --quick\` (CI) checks only that the suite works.

${markdown}
`;
}

process.chdir(ROOT);
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('bench: failed:', error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);

// Scenario "postgres" (issue 14): the exchange on SQLite (the in-run reference), on PostgreSQL with one
// instance and with three instances on one database; the revocation push latency (revoke → refused by
// a verifier following the stream); where an exchange's time goes on PostgreSQL (statements, round
// trips and transactions per exchange through a counting proxy; CPU of the instances vs the database).
import os from 'node:os';
import type pg from 'pg';
import { BaseTokenError, createBaseTokenVerifier, createRevocationList } from '../../src/verify';
import { machineBusyMicros, processCpuTimes, sampleRss, startChild, type Child } from './children';
import { ISSUER } from './config';
import { serverEnv, type Fixture } from './fixture';
import { runLoads, type LoadSpec } from './load';
import { log, startServers, stopAll, urlOf } from './measure';
import { adminClient, backendCpuMeter, countingProxy, type StatementCounts } from './postgres';
import { mb, median, medianRun, type Row, type Run } from './report';
import type { Context, ScenarioOutput } from './scenarios';
import { tokenladder } from './scenarios';

const CONNECTIONS = 50;
const BUSY_TOKENS = 16;
const INSTANCES = 3;

/** One server group under load: a single instance, or several sharing the connections. */
interface Group {
  label: string;
  children: Child[];
  fixture: Fixture;
  /** PostgreSQL groups: the database whose backends' CPU counts. */
  database?: string;
}

interface GroupRun extends Run {
  requests: number;
  /** CPU µs per request of each instance (its own requests), and of all instances together per request. */
  instanceCpu: number[];
  serverCpu: number;
  /** Share of the instances' CPU spent in the kernel (system time): socket writes and reads. */
  serverKernelShare: number;
  /** CPU µs per request of the database's backends (PostgreSQL groups), and its kernel share. */
  postgresCpu?: number;
  postgresKernelShare?: number;
  /** The whole machine's busy CPU µs per request (everything: load generator, other processes). */
  machineCpu: number;
  /** The orchestrator's (load generator's) CPU µs per request. */
  loadCpu: number;
  peakRssMb: number;
}

/** The exchange, the connections split over the group's instances, each cycling through 16 API-Tokens. */
const specsOf = (group: Group): LoadSpec[] =>
  group.children.map((child, index) => ({
    url: urlOf(child),
    connections:
      Math.floor(CONNECTIONS / group.children.length) + (index < CONNECTIONS % group.children.length ? 1 : 0),
    requests: group.fixture.apiTokens.slice(0, BUSY_TOKENS).map((token) => ({
      method: 'POST',
      path: '/api/v1/base-tokens',
      headers: { authorization: `Token ${token}` },
    })),
    expectStatus: 201,
  }));

async function runGroup(group: Group, seconds: number, admin: pg.Client): Promise<GroupRun> {
  const rss = group.children.map((child) => sampleRss(child.pid));
  const cpu0 = group.children.map((child) => processCpuTimes(child.pid));
  const own0 = process.cpuUsage();
  const machine0 = machineBusyMicros();
  const started = performance.now();
  const postgres = group.database ? await backendCpuMeter(admin, group.database) : undefined;
  const load = await runLoads(specsOf(group), seconds).finally(() => {
    for (const sampler of rss) sampler.stop();
  });
  const times = group.children.map((child, index) => {
    const now = processCpuTimes(child.pid);
    return { user: now.user - cpu0[index]!.user, system: now.system - cpu0[index]!.system };
  });
  const used = times.map((time) => time.user + time.system);
  const serverSystem = times.reduce((sum, time) => sum + time.system, 0);
  const machine = machineBusyMicros() - machine0;
  const own = process.cpuUsage(own0);
  const postgresTimes = postgres ? await postgres() : { user: 0, system: 0 };
  const postgresUsed = postgresTimes.user + postgresTimes.system;
  const serverUsed = used.reduce((sum, value) => sum + value, 0);
  const capacity = (performance.now() - started) * 1000 * os.availableParallelism();
  const per = (micros: number) => micros / Math.max(1, load.requests);
  return {
    reqPerSec: load.reqPerSec,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    requests: load.requests,
    cpuUsPerReq: per(serverUsed),
    otherCpuPercent:
      (Math.max(0, machine - serverUsed - postgresUsed - own.user - own.system) / capacity) * 100,
    instanceCpu: used.map((value, index) => value / Math.max(1, load.each[index]!.requests)),
    serverCpu: per(serverUsed),
    serverKernelShare: serverSystem / Math.max(1, serverUsed),
    ...(postgres && {
      postgresCpu: per(postgresUsed),
      postgresKernelShare: postgresTimes.system / Math.max(1, postgresUsed),
    }),
    machineCpu: per(machine),
    loadCpu: per(own.user + own.system),
    peakRssMb: Math.max(...rss.map((sampler) => mb(sampler.peak()))),
  };
}

const describeRun = (run: GroupRun) =>
  `${Math.round(run.reqPerSec)}/s, p50 ${run.p50Ms.toFixed(2)} ms, p99 ${run.p99Ms.toFixed(2)} ms, ` +
  `instances ${run.instanceCpu.map(Math.round).join('/')} µs CPU each` +
  (run.postgresCpu === undefined ? '' : `, PostgreSQL ${Math.round(run.postgresCpu)} µs`) +
  `, machine ${Math.round(run.machineCpu)} µs, other processes ${Math.round(run.otherCpuPercent ?? 0)}% of the machine`;

/** Warm-up, then rounds measuring every group in turn (as measureHttp does); medians per measure. */
async function measureGroups(groups: Group[], context: Context, admin: pg.Client) {
  const { settings } = context;
  for (const group of groups)
    if (settings.warmupSeconds > 0) await runLoads(specsOf(group), settings.warmupSeconds);
  const runs = new Map<string, GroupRun[]>(groups.map((group) => [group.label, []]));
  for (let round = 1; round <= settings.repeats; round++) {
    for (const group of groups) {
      const run = await runGroup(group, settings.durationSeconds, admin);
      runs.get(group.label)!.push(run);
      log(`  ${group.label} #${round}: ${describeRun(run)}`);
    }
  }
  const of = (list: GroupRun[], pick: (run: GroupRun) => number | undefined) => {
    const values = list.map(pick).filter((value): value is number => value !== undefined);
    return values.length ? median(values) : undefined;
  };
  return new Map(
    groups.map((group) => {
      const list = runs.get(group.label)!;
      return [
        group.label,
        {
          ...medianRun(list),
          runs: list.map(({ reqPerSec, p50Ms, p99Ms, cpuUsPerReq, otherCpuPercent }) => ({
            reqPerSec,
            p50Ms,
            p99Ms,
            cpuUsPerReq,
            otherCpuPercent,
          })),
          peakRssMb: Math.max(...list.map((run) => run.peakRssMb)),
          instanceCpu: group.children.map((_, index) => of(list, (run) => run.instanceCpu[index])!),
          postgresCpu: of(list, (run) => run.postgresCpu),
          serverKernelShare: of(list, (run) => run.serverKernelShare)!,
          postgresKernelShare: of(list, (run) => run.postgresKernelShare),
          machineCpu: of(list, (run) => run.machineCpu)!,
          loadCpu: of(list, (run) => run.loadCpu)!,
        },
      ] as const;
    }),
  );
}

// ---------------------------------------------------------------------------------------------------
// Push latency

interface PushResult {
  label: string;
  /** ms from sending the DELETE to the verifier refusing the Base-Token. */
  latencies: number[];
  /** ms from sending the DELETE to its 204. */
  answered: number[];
}

async function api(
  base: string,
  method: string,
  path: string,
  expect: number,
  token?: string,
  body?: unknown,
) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = token.startsWith('Token ') ? token : `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(base + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== expect)
    throw new Error(`push: ${method} ${path} answered ${response.status}: ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `rounds` times: a fresh API-Token on `writer`, a Base-Token from it, accepted by a verifier whose
 * revocation list follows `reader`'s stream (transport 'sse'); then the token is revoked on `writer`
 * (DELETE /api/v1/api-tokens/:id) and the time until the verifier refuses the Base-Token is taken.
 * The verifier is checked right after each chunk the stream delivers (a tap on the list's fetch), and
 * every 2 ms besides.
 */
async function pushLatency(
  label: string,
  fixture: Fixture,
  writer: Child,
  reader: Child,
  rounds: number,
): Promise<PushResult> {
  const writerUrl = urlOf(writer);
  const readerUrl = urlOf(reader);
  let onChunk = () => {};
  const tapped: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (!response.body || !response.headers.get('content-type')?.includes('text/event-stream'))
      return response;
    const tap = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        controller.enqueue(chunk);
        onChunk();
      },
    });
    return new Response(response.body.pipeThrough(tap), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
  const streamErrors: unknown[] = [];
  const revocations = createRevocationList({
    url: `${readerUrl}/api/v1/revocations`,
    transport: 'sse',
    fetch: tapped,
    onError: (error) => streamErrors.push(error),
  });
  const verifier = createBaseTokenVerifier({
    issuer: ISSUER,
    jwksUrl: `${readerUrl}/.well-known/jwks.json`,
    revocations,
  });
  await revocations.start();
  try {
    for (let waited = 0; revocations.status().transport !== 'sse'; waited += 10) {
      if (waited > 10_000) throw new Error(`push: the verifier's stream from ${label} did not open`);
      await sleep(10);
    }
    const refused = async (token: string): Promise<boolean> => {
      try {
        await verifier.verify(token, { baseUuid: fixture.baseUuid });
        return false;
      } catch (error) {
        if (error instanceof BaseTokenError && error.code === 'token_revoked') return true;
        throw error;
      }
    };
    const result: PushResult = { label, latencies: [], answered: [] };
    for (let round = 0; round < rounds; round++) {
      const minted = await api(
        writerUrl,
        'POST',
        `/api/v1/bases/${fixture.baseUuid}/api-tokens`,
        201,
        fixture.accountToken,
        { name: `push-${label}-${round}-${Date.now()}`, permission: 'r' },
      );
      const { base_token: baseToken } = await api(
        writerUrl,
        'POST',
        '/api/v1/base-tokens',
        201,
        `Token ${String(minted.token)}`,
      );
      const token = String(baseToken);
      if (await refused(token)) throw new Error('push: a fresh Base-Token was refused before its revocation');
      const started = performance.now();
      let answeredAt = 0;
      const done = new Promise<number>((resolve, reject) => {
        let checking = false;
        const check = () => {
          if (checking) return;
          checking = true;
          refused(token).then(
            (yes) => {
              checking = false;
              if (yes) finish(performance.now());
            },
            (error: unknown) => {
              checking = false;
              stop();
              reject(error);
            },
          );
        };
        const poll = setInterval(check, 2);
        const limit = setTimeout(() => {
          stop();
          reject(new Error(`push: the verifier still accepts a token revoked 10 s ago (${label})`));
        }, 10_000);
        const stop = () => {
          clearInterval(poll);
          clearTimeout(limit);
          onChunk = () => {};
        };
        const finish = (at: number) => {
          stop();
          resolve(at);
        };
        onChunk = () => setImmediate(check);
      });
      await api(writerUrl, 'DELETE', `/api/v1/api-tokens/${String(minted.id)}`, 204, fixture.accountToken);
      answeredAt = performance.now();
      const refusedAt = await done;
      result.latencies.push(refusedAt - started);
      result.answered.push(answeredAt - started);
      await sleep(10 + Math.random() * 20);
    }
    if (streamErrors.length > 0)
      log(
        `  push ${label}: the stream failed ${streamErrors.length}× (reconnected): ${String(streamErrors[0])}`,
      );
    return result;
  } finally {
    revocations.stop();
  }
}

/** Per revocation: from the DELETE's answer to the refusal (negative: the stream was faster than the answer). */
const after = (push: PushResult) => push.latencies.map((latency, index) => latency - push.answered[index]!);

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
};

// ---------------------------------------------------------------------------------------------------
// Statements per exchange

interface CountResult {
  requests: number;
  seconds: number;
  perExchange: StatementCounts;
  idlePerSecond: StatementCounts;
}

const subtract = (a: StatementCounts, b: StatementCounts, scale = 1): StatementCounts => ({
  statements: a.statements - b.statements * scale,
  roundTrips: a.roundTrips - b.roundTrips * scale,
  transactions: a.transactions - b.transactions * scale,
  byKind: subtractRecords(a.byKind, b.byKind, scale),
  byText: subtractRecords(a.byText, b.byText, scale),
});
const subtractRecords = (a: Record<string, number>, b: Record<string, number>, scale: number) =>
  Object.fromEntries(
    [...new Set([...Object.keys(a), ...Object.keys(b)])].map((key) => [
      key,
      (a[key] ?? 0) - (b[key] ?? 0) * scale,
    ]),
  );
const divide = (a: StatementCounts, n: number): StatementCounts => ({
  statements: a.statements / n,
  roundTrips: a.roundTrips / n,
  transactions: a.transactions / n,
  byKind: Object.fromEntries(Object.entries(a.byKind).map(([kind, count]) => [kind, count / n])),
  byText: Object.fromEntries(Object.entries(a.byText).map(([sql, count]) => [sql, count / n])),
});

/** Exactly `n` exchanges, `concurrency` at a time, cycling through the fixture's busy API-Tokens. */
async function exchanges(child: Child, fixture: Fixture, n: number, concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const token = fixture.apiTokens[next++ % BUSY_TOKENS]!;
      await api(urlOf(child), 'POST', '/api/v1/base-tokens', 201, `Token ${token}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * One instance whose database URL goes through the counting proxy: after a warm-up, an idle window
 * (what the instance sends on its own: stream checks, key reloads) and then exactly `n` exchanges,
 * 8 at a time; per exchange = (counted − idle rate × time) ÷ n.
 */
async function countStatements(fixture: Fixture, url: string, n: number): Promise<CountResult> {
  const proxy = await countingProxy(url);
  try {
    const child = await startChild('tokenladder-pg-counted', 'bench/servers/tokenladder.ts', {
      env: { ...serverEnv(fixture), BENCH_DATABASE_URL: proxy.url },
    });
    try {
      await exchanges(child, fixture, 200, 8);
      await sleep(200);
      const idle0 = proxy.counts();
      const idleStarted = performance.now();
      await sleep(2000);
      const idle = divide(subtract(proxy.counts(), idle0), (performance.now() - idleStarted) / 1000);
      const loaded0 = proxy.counts();
      const loadStarted = performance.now();
      await exchanges(child, fixture, n, 8);
      const seconds = (performance.now() - loadStarted) / 1000;
      const loaded = subtract(subtract(proxy.counts(), loaded0), idle, seconds);
      return { requests: n, seconds, perExchange: divide(loaded, n), idlePerSecond: idle };
    } finally {
      await child.stop();
    }
  } finally {
    await proxy.close();
  }
}

// ---------------------------------------------------------------------------------------------------

const int = (value: number) => Math.round(value).toLocaleString('en-US');
const fixed = (value: number, digits = 2) => value.toFixed(digits);
const percent = (share: number) => `${Math.round(share * 100)}%`;

/** The scenario. Without a reachable PostgreSQL outside CI it is skipped with one line. */
export async function postgresScenario(context: Context): Promise<ScenarioOutput> {
  const { settings, main } = context;
  const opened = await context.postgres();
  if ('skipped' in opened) {
    log(`scenario postgres skipped: ${opened.skipped}`);
    return { rows: [], notes: [`Scenario postgres skipped: ${opened.skipped}.`] };
  }
  const { fixture: pgFixture, database } = opened;
  const pgUrl = (pgFixture.store as { url: string }).url;
  const admin = await adminClient();
  const profile = settings.profileDir ? ['--cpu-prof', '--cpu-prof-dir', settings.profileDir] : [];
  const rounds = settings.revocations;
  try {
    const children = await startServers([
      tokenladder(main, 'tokenladder-sqlite'),
      tokenladder(pgFixture, 'tokenladder-pg', profile),
      ...Array.from({ length: INSTANCES }, (_, index) =>
        tokenladder(pgFixture, `tokenladder-pg-${'abc'[index]}`),
      ),
    ]);
    try {
      const [sqlite, pg1, ...pg3] = children as [Child, Child, ...Child[]];
      const groups: Group[] = [
        { label: 'sqlite, 1 instance', children: [sqlite], fixture: main },
        { label: 'postgres, 1 instance', children: [pg1], fixture: pgFixture, database },
        { label: `postgres, ${INSTANCES} instances`, children: pg3, fixture: pgFixture, database },
      ];
      const results = await measureGroups(groups, context, admin);
      const [sqliteRun, pg1Run, pg3Run] = groups.map((group) => results.get(group.label)!) as [
        NonNullable<ReturnType<typeof results.get>>,
        NonNullable<ReturnType<typeof results.get>>,
        NonNullable<ReturnType<typeof results.get>>,
      ];

      log(`  push latency: ${rounds} revocations per setup`);
      const pushes: PushResult[] = [];
      pushes.push(await pushLatency('sqlite, 1 instance', main, sqlite, sqlite, rounds));
      log(`  push sqlite: p50 ${fixed(median(pushes.at(-1)!.latencies))} ms`);
      pushes.push(await pushLatency('postgres, 1 instance', pgFixture, pg1, pg1, rounds));
      log(`  push postgres 1: p50 ${fixed(median(pushes.at(-1)!.latencies))} ms`);
      pushes.push(
        await pushLatency(
          `postgres, ${INSTANCES} instances: revoked on A, stream from B`,
          pgFixture,
          pg3[0]!,
          pg3[1]!,
          rounds,
        ),
      );
      log(`  push postgres A→B: p50 ${fixed(median(pushes.at(-1)!.latencies))} ms`);

      log('  statements per exchange (counting proxy)');
      const counted = await countStatements(pgFixture, pgUrl, settings.quick ? 200 : 2000);
      log(`  per exchange: ${JSON.stringify(counted.perExchange, null, 1)}`);

      const exchangeRow = (scenario: string, m: typeof sqliteRun, reference?: typeof sqliteRun): Row => ({
        scenario,
        ...m,
        ...(reference && {
          ceilingReqPerSec: reference.reqPerSec,
          ratio: m.reqPerSec / reference.reqPerSec,
          target: 'report (÷ SQLite)',
        }),
      });
      const rows: Row[] = [
        exchangeRow('14 exchange on SQLite, 1 instance (reference)', sqliteRun),
        exchangeRow('14 exchange on PostgreSQL, 1 instance', pg1Run, sqliteRun),
        exchangeRow(`14 exchange on PostgreSQL, ${INSTANCES} instances, one database`, pg3Run, sqliteRun),
      ];
      const cpuTable = [
        '| exchange (CPU µs per request) | req/s | ÷ SQLite | tokenladder, each instance | tokenladder, all instances (kernel share) | PostgreSQL backends (kernel share) | load generator | whole machine |',
        '|---|--:|--:|--:|--:|--:|--:|--:|',
        ...[sqliteRun, pg1Run, pg3Run].map(
          (m, index) =>
            `| ${groups[index]!.label} | ${int(m.reqPerSec)} | ${fixed(m.reqPerSec / sqliteRun.reqPerSec)} | ${m.instanceCpu.map(int).join(' / ')} | ${int(m.cpuUsPerReq ?? 0)} (${percent(m.serverKernelShare)}) | ${m.postgresCpu === undefined ? '' : `${int(m.postgresCpu)} (${percent(m.postgresKernelShare ?? 0)})`} | ${int(m.loadCpu)} | ${int(m.machineCpu)} |`,
        ),
      ].join('\n');
      const pushTable = [
        '| revocation push: DELETE sent → verifier refuses | revocations | p50 ms | p99 ms | max ms | DELETE answered, p50 ms | answered → refused, p50 ms | answered → refused, p99 ms |',
        '|---|--:|--:|--:|--:|--:|--:|--:|',
        ...pushes.map(
          (push) =>
            `| ${push.label} | ${push.latencies.length} | ${fixed(percentile(push.latencies, 50))} | ${fixed(percentile(push.latencies, 99))} | ${fixed(Math.max(...push.latencies))} | ${fixed(percentile(push.answered, 50))} | ${fixed(percentile(after(push), 50))} | ${fixed(percentile(after(push), 99))} |`,
        ),
      ].join('\n');
      const kinds = Object.entries(counted.perExchange.byKind)
        .filter(([, count]) => Math.abs(count) >= 0.005)
        .sort(([, a], [, b]) => b - a)
        .map(([kind, count]) => `${kind} ${fixed(count)}`)
        .join(', ');
      const statementTable = [
        '| statements per exchange on PostgreSQL ([tx]: inside BEGIN … COMMIT) | per exchange |',
        '|---|--:|',
        ...Object.entries(counted.perExchange.byText)
          .filter(([, count]) => count >= 0.01)
          .sort(([, a], [, b]) => b - a)
          .map(([sql, count]) => `| \`${sql.replaceAll('|', '\\|')}\` | ${fixed(count)} |`),
      ].join('\n');
      return {
        rows,
        tables: [cpuTable, pushTable, statementTable],
        notes: [
          `Scenario postgres (issue 14): the same fixture seeded into a fresh PostgreSQL database (${database}, dropped at the end), served by the same ` +
            "bench/servers/tokenladder.ts (openStore as `tokenladder serve` opens TOKENLADDER_DATABASE_URL, pool of 10, the instance's LISTEN connection); " +
            `${INSTANCES} instances share the ${CONNECTIONS} connections (one autocannon each, ${specsOf(
              groups[2]!,
            )
              .map((spec) => spec.connections)
              .join('/')}), req/s summed. ` +
            `"PostgreSQL backends" is the CPU (from /proc) of the server processes serving the benchmark's database; the WAL writer and checkpointer, shared by every database, are not counted. ` +
            `With ${os.availableParallelism()} cores shared by the instances, PostgreSQL and the load generator, more instances cannot add throughput here: the ${INSTANCES}-instance row shows correctness under load (every answer a 201) and per-request cost.`,
          `Statements per exchange on PostgreSQL (counting proxy on the wire, ${int(counted.requests)} exchanges 8 at a time, in ${fixed(counted.seconds, 1)} s; the instance's idle traffic ` +
            `(${fixed(counted.idlePerSecond.statements)} statements/s) subtracted): ${fixed(counted.perExchange.statements)} statements, ${fixed(counted.perExchange.roundTrips)} round trips, ` +
            `${fixed(counted.perExchange.transactions)} transactions (${kinds}).`,
          `Push latency: ${rounds} revocations per setup, each of a fresh API-Token (DELETE /api/v1/api-tokens/:id) whose Base-Token a verifier (createBaseTokenVerifier + ` +
            "createRevocationList({ transport: 'sse' }), in the orchestrator) had accepted; time from sending the DELETE until verify() throws token_revoked, checked after every stream chunk and every 2 ms.",
        ],
      };
    } finally {
      await stopAll(children);
    }
  } finally {
    await admin.end();
  }
}

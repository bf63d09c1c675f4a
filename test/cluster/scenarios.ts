// The §6 scenarios as functions over a running cluster, so the same code runs on PostgreSQL
// (cluster.test.ts, the multi-instance target) and on a shared SQLite file (harness.test.ts, today's
// store: how the harness itself is debugged). Each asserts with vitest's expect and prints its numbers.
import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import { expect } from 'vitest';
import { createBaseTokenVerifier, createRevocationList, type RevocationListOptions } from '../../src/verify';
import {
  acknowledgedProblems,
  ADMIN_EMAIL,
  Balancer,
  CLIENT_IP_HEADER,
  type Cluster,
  checkAuditChain,
  createApiToken,
  type DbReader,
  exchange,
  FeedPoller,
  type Fixture,
  ISSUER,
  jwksKids,
  kidOf,
  type Load,
  type LoadOptions,
  migrationFiles,
  migrationsLogged,
  appliedMigrations,
  newAcknowledged,
  randomAddress,
  runLoad,
  setUpFixture,
  sleep,
  timeUntil,
  unexpected,
  unseenFeedEntries,
} from './harness';

const count = (items: unknown[], value: unknown) => items.filter((item) => item === value).length;

/** Scenario 1: started on an empty database, the instances made one admin, one signing key, one migration run. */
export async function checkFirstStart(cluster: Cluster, db: DbReader): Promise<void> {
  const users = await db.all<{ role: string; email: string }>('SELECT role, email FROM users');
  expect(users).toEqual([{ role: 'system_admin', email: ADMIN_EMAIL }]);
  const keys = await db.all<{ kid: string; state: string }>('SELECT kid, state FROM signing_keys');
  expect(keys.map((key) => key.state)).toEqual(['current']);
  const applied = await appliedMigrations(db);
  expect([...applied].sort()).toEqual(migrationFiles(cluster.backend));
  // Each migration applied by one instance only (the others found it applied).
  const logged = cluster.instances.flatMap(migrationsLogged);
  expect(logged.filter((name, i) => logged.indexOf(name) !== i)).toEqual([]);
  // One instance created the admin (and said so); the others found it.
  const creators = cluster.instances.filter((i) => i.allOutput().includes('created the first system admin'));
  expect(creators.length).toBe(1);
  for (const instance of cluster.instances) expect(await jwksKids(instance)).toEqual([keys[0]!.kid]);
  const chain = await checkAuditChain(db);
  expect(chain.report).toMatchObject({ ok: true });
  expect(chain.problems).toEqual([]);
  console.log(
    `[cluster] first start of ${cluster.instances.length} instances: 1 admin, 1 key (${keys[0]!.kid.slice(0, 8)}…), ${applied.length} migrations, logged by ${cluster.instances.filter((i) => migrationsLogged(i).length > 0).length} instance(s), admin created by ${creators[0]!.name}`,
  );
}

export interface FaultPlan {
  /** SIGKILL this instance at `killAtMs` (then restart it after the load). */
  kill?: { name: string; atMs: number };
  /** SIGSTOP this instance at `atMs` for `forMs`, then SIGCONT. */
  pause?: { name: string; atMs: number; forMs: number };
  /** Any other fault (a database crash), started at `atMs`. */
  custom?: { atMs: number; run: () => Promise<void> };
}

export interface MixedLoadResult {
  lb: Balancer;
  fixture: Fixture;
  acked: ReturnType<typeof newAcknowledged>;
  faultTimes: Record<string, number>;
}

/**
 * Scenario 2: the mixed load (≈ 80 % exchanges, revocations of API-Tokens and Base-Tokens, failed
 * sign-ins, feed pollers) with faults; afterwards every invariant is checked against the database.
 */
export async function mixedLoadWithFaults(
  cluster: Cluster,
  /** Opened after the load: a connection made before a database crash would not survive it. */
  openDb: () => Promise<DbReader>,
  options: {
    durationMs: number;
    workers: number;
    faults: FaultPlan;
    thinkMs?: number;
    mix?: LoadOptions['mix'];
    /** The longest the cluster may go without acknowledging an exchange while the load runs. */
    maxGapMs: number;
  },
): Promise<MixedLoadResult> {
  const lb = new Balancer(cluster.instances);
  const fixture = await setUpFixture(lb);
  const acked = newAcknowledged();
  for (let i = 0; i < 8; i++) {
    const created = await createApiToken(lb, fixture, acked, fixture.bases[i % fixture.bases.length]!);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
  }
  const pollers = [new FeedPoller(lb), new FeedPoller(lb)];
  const polling = pollers.map((poller) => poller.loop(250));
  const started = Date.now();
  const faultTimes: Record<string, number> = {};
  const load: Load = runLoad(lb, fixture, acked, {
    workers: options.workers,
    durationMs: options.durationMs,
    thinkMs: options.thinkMs ?? 10,
    mix: options.mix,
  });
  const faults: Promise<void>[] = [];
  const at = (ms: number, run: () => Promise<void> | void) =>
    faults.push(sleep(Math.max(0, started + ms - Date.now())).then(run));
  const { kill, pause, custom } = options.faults;
  if (kill)
    at(kill.atMs, async () => {
      faultTimes.kill = Date.now();
      await cluster.byName(kill.name).kill();
    });
  if (pause)
    at(pause.atMs, async () => {
      faultTimes.pause = Date.now();
      cluster.byName(pause.name).pause();
      await sleep(pause.forMs);
      cluster.byName(pause.name).resume();
      faultTimes.resume = Date.now();
    });
  if (custom)
    at(custom.atMs, async () => {
      faultTimes.custom = Date.now();
      await custom.run();
      faultTimes.customDone = Date.now();
    });
  try {
    await Promise.all(faults);
  } finally {
    await load.done;
    await Promise.all(polling.map((loop) => loop.stop()));
  }
  const ended = Date.now();

  console.log(
    `[cluster] mixed load ${((ended - started) / 1000).toFixed(1)} s, ${options.workers} workers: ${JSON.stringify(lb.summary())}`,
  );
  console.log(
    `[cluster] latency ms: exchange ${JSON.stringify(lb.latency('exchange'))}, all ${JSON.stringify(lb.latency())}; faults at ${JSON.stringify(Object.fromEntries(Object.entries(faultTimes).map(([k, v]) => [k, v - started])))} ms`,
  );

  const slow: Record<string, number> = {};
  for (const o of lb.outcomes)
    if (o.ms > 1000) slow[`${o.instance} ${o.status}`] = (slow[`${o.instance} ${o.status}`] ?? 0) + 1;
  console.log(`[cluster] answers slower than 1 s (instance, status): ${JSON.stringify(slow)}`);

  // No 500 (or any other answer an operation may not give) anywhere; 503s allowed during the faults.
  const wrong = unexpected(lb.outcomes);
  expect(
    wrong.slice(0, 5).map((o) => `${o.op} on ${o.instance}: ${o.status} ${JSON.stringify(o.body)}`),
    cluster.logs(),
  ).toEqual([]);
  // The load did what it says: enough of each write acknowledged to mean something.
  expect(acked.jtis.size).toBeGreaterThan(50);
  expect(acked.deletedApiTokens.size).toBeGreaterThan(0);
  expect(acked.revokedJtis.size).toBeGreaterThan(0);
  // Liveness: the cluster kept acknowledging exchanges after each fault began.
  for (const [fault, time] of Object.entries(faultTimes))
    expect(
      lb.outcomes.some((o) => o.op === 'exchange' && o.status === 201 && o.at > time),
      `an exchange acknowledged after ${fault}`,
    ).toBe(true);

  // Liveness: the longest stretch without an acknowledged exchange (a frozen instance holding a lock,
  // a database restarting) is bounded.
  const acks = lb.outcomes
    .filter((o) => o.op === 'exchange' && o.status === 201)
    .map((o) => o.at)
    .sort((a, b) => a - b);
  let gap = 0;
  let gapAt = 0;
  for (let i = 1; i < acks.length; i++)
    if (acks[i]! - acks[i - 1]! > gap) {
      gap = acks[i]! - acks[i - 1]!;
      gapAt = acks[i - 1]! - started;
    }
  console.log(`[cluster] longest stretch without an acknowledged exchange: ${gap} ms (from t=${gapAt} ms)`);
  expect(gap).toBeLessThan(options.maxGapMs);

  // No instance died of the faults it did not receive (a database crash must not take a process down).
  expect(
    cluster.instances.filter((i) => i.state === 'exited').map((i) => i.name),
    cluster.logs(),
  ).toEqual([]);
  // Every instance that was only frozen serves again without a restart; a killed one is restarted.
  const signedWith: Record<string, string> = {};
  for (const instance of cluster.instances) {
    if (instance.state === 'killed') await instance.restart();
    const token = acked.apiTokens.get(
      // One no deletion was sent for: a deletion that timed out may still have taken effect.
      [...acked.apiTokens.keys()].find((id) => !acked.deletionsSent.has(id))!,
    )!;
    let last = '';
    const answer = await timeUntil(
      async () => {
        const issued = await exchange(lb, acked, token.token, instance);
        last = `${issued.status} ${JSON.stringify(issued.body)}`;
        if (issued.status !== 201) return false;
        signedWith[instance.name] = kidOf(issued.body.base_token);
        return true;
      },
      15_000,
      200,
    ).catch((error: Error) => {
      throw new Error(
        `${instance.name} does not serve exchanges again (last answer: ${last}): ${error.message}`,
      );
    });
    console.log(`[cluster] ${instance.name} serves exchanges again after ${Math.round(answer)} ms`);
  }

  const db = await openDb();
  try {
    // Every instance signs with the one current key.
    const [current] = await db.all<{ kid: string }>(`SELECT kid FROM signing_keys WHERE state = 'current'`);
    expect(signedWith).toEqual(Object.fromEntries(cluster.instances.map((i) => [i.name, current!.kid])));
    await checkInvariants(cluster, db, lb, acked, pollers);
  } finally {
    await db.close();
  }
  return { lb, fixture, acked, faultTimes };
}

/** Everything that must hold after any load: chain, acknowledged writes, feed, keys. */
export async function checkInvariants(
  cluster: Cluster,
  db: DbReader,
  lb: Balancer,
  acked: ReturnType<typeof newAcknowledged>,
  pollers: FeedPoller[] = [],
): Promise<void> {
  const chain = await checkAuditChain(db);
  expect(chain.report, 'audit chain').toMatchObject({ ok: true, first: 1 });
  expect(chain.problems).toEqual([]);
  expect(await acknowledgedProblems(db, acked)).toEqual([]);
  for (const poller of pollers) {
    await poller.catchUp();
    expect(poller.violations).toEqual([]);
    expect(await unseenFeedEntries(db, poller)).toEqual([]);
  }
  // A fresh reader of the whole feed through each instance sees the same table.
  for (const instance of cluster.instances) {
    const fresh = new FeedPoller(lb);
    await fresh.catchUp(instance);
    expect(await unseenFeedEntries(db, fresh), `feed read from ${instance.name}`).toEqual([]);
  }
  await expectKeysAgree(cluster, db);
  console.log(
    `[cluster] invariants held: chain ${chain.rows} rows; acknowledged ${acked.apiTokens.size} creations, ${acked.jtis.size} exchanges, ${acked.deletedApiTokens.size} deletions, ${acked.revokedJtis.size} Base-Token revocations; ${pollers.reduce((n, p) => n + p.polls, 0)} feed polls`,
  );
}

/** Every instance publishes the database's non-retired keys, and exactly one key is `current`. */
export async function expectKeysAgree(cluster: Cluster, db: DbReader): Promise<void> {
  const keys = await db.all<{ kid: string; state: string }>('SELECT kid, state FROM signing_keys');
  expect(
    count(
      keys.map((key) => key.state),
      'current',
    ),
  ).toBe(1);
  expect(
    count(
      keys.map((key) => key.state),
      'next',
    ),
  ).toBeLessThanOrEqual(1);
  const published = keys
    .filter((key) => key.state !== 'retired')
    .map((key) => key.kid)
    .sort();
  for (const instance of cluster.instances)
    expect(await jwksKids(instance), `${instance.name}'s JWKS`).toEqual(published);
}

/**
 * Scenario 3: `3 × limit` concurrent wrong passwords for one email spread over the instances → exactly
 * `limit` reach the password check (401), the others are 429; the counter row counts every attempt.
 * With `by: 'address'`, the same from one client address over distinct emails.
 */
export async function throttleAcrossInstances(
  cluster: Cluster,
  db: DbReader,
  options: { limit: number; by: 'account' | 'address' },
): Promise<void> {
  const { limit, by } = options;
  const lb = new Balancer(cluster.instances);
  const email = `throttled-${Date.now()}@cluster.test`;
  const address = randomAddress();
  const before = await db.all<{ n: number }>('SELECT count(*) AS n FROM account_tokens');
  const attempts = 3 * limit;
  const answers = await Promise.all(
    Array.from({ length: attempts }, (_, i) =>
      lb.request('throttle', 'POST', '/api/v1/account-tokens', {
        to: cluster.instances[i % cluster.instances.length],
        headers: { [CLIENT_IP_HEADER]: by === 'address' ? address : randomAddress() },
        body: {
          email: by === 'account' ? email : `someone-${i}-${Date.now()}@cluster.test`,
          password: 'not the right password',
        },
      }),
    ),
  );
  const statuses = answers.map((answer) => answer.status);
  const passed = count(statuses, 401);
  const refused = count(statuses, 429);
  const unavailable = count(statuses, 503);
  console.log(
    `[cluster] throttle by ${by}, limit ${limit}: ${attempts} attempts over ${cluster.instances.length} instances → ${passed}×401, ${refused}×429, ${unavailable}×503`,
  );
  expect(statuses.filter((status) => status !== 401 && status !== 429 && status !== 503)).toEqual([]);
  // A 503 (the hasher was busy) gives the attempt back, so it may let a later one through: at most
  // `limit` wrong passwords are ever checked, and exactly `limit` when nothing was given back.
  expect(passed).toBeLessThanOrEqual(limit);
  if (unavailable === 0) expect(passed).toBe(limit);
  expect(passed + refused + unavailable).toBe(attempts);
  const key =
    by === 'account'
      ? `login:account:${createHash('sha256').update(email).digest('hex')}`
      : `login:address:${address}`;
  const counter = await db.all<{ hits: number }>(`SELECT hits FROM throttle_counters WHERE key = '${key}'`);
  expect(counter.map((row) => Number(row.hits))).toEqual([attempts - unavailable]);
  // Nothing else changed: no Account-Token came of it.
  expect(await db.all('SELECT count(*) AS n FROM account_tokens')).toEqual(before);
}

/**
 * Scenario 5: verifiers streaming the feed (`transport: 'sse'`) from each of `streamFrom`; an API-Token
 * is deleted on `revokeOn`; each verifier must refuse its Base-Token within `boundMs`. Returns the ms
 * each took (measured from the deletion's acknowledgement).
 */
export async function pushLatency(
  cluster: Cluster,
  options: {
    revokeOn: string;
    streamFrom: string[];
    boundMs: number;
    rounds: number;
    /** Default the stream (`'sse'`); `{ pollSeconds }` measures a polling verifier instead (the harness's own check). */
    transport?: 'sse' | { pollSeconds: number };
    /** How long to wait for a refusal before counting it as never (default 10 s). */
    giveUpMs?: number;
  },
): Promise<number[]> {
  const lb = new Balancer(cluster.instances);
  const fixture = await setUpFixture(lb, 1);
  const acked = newAcknowledged();
  const verifiers = options.streamFrom.map((name) => {
    const instance = cluster.byName(name);
    const transport = options.transport ?? 'sse';
    const listOptions: RevocationListOptions = {
      url: `${instance.url}/api/v1/revocations`,
      // A polling verifier must poll only: by default it would follow the stream the server offers.
      ...(transport === 'sse'
        ? { transport: 'sse' }
        : { transport: 'poll', intervalSeconds: transport.pollSeconds }),
      onError: () => {},
    };
    const revocations = createRevocationList(listOptions);
    const verifier = createBaseTokenVerifier({
      issuer: ISSUER,
      jwksUrl: `${instance.url}/.well-known/jwks.json`,
      revocations,
    });
    return { name, revocations, verifier };
  });
  await Promise.all(verifiers.map((v) => v.revocations.start()));
  const latencies: number[] = [];
  try {
    for (let round = 0; round < options.rounds; round++) {
      const created = await createApiToken(lb, fixture, acked, fixture.bases[0]!);
      expect(created.status).toBe(201);
      const issued = await exchange(lb, acked, created.body.token, cluster.byName(options.revokeOn));
      expect(issued.status).toBe(201);
      const jwt: string = issued.body.base_token;
      for (const v of verifiers) await v.verifier.verify(jwt, { baseUuid: fixture.bases[0]! });
      const deleted = await lb.request('delete', 'DELETE', `/api/v1/api-tokens/${created.body.id}`, {
        token: fixture.admin,
        to: cluster.byName(options.revokeOn),
      });
      expect(deleted.status).toBe(204);
      const acknowledged = performance.now();
      const refusedAfter = await Promise.all(
        verifiers.map(async (v) => {
          for (;;) {
            try {
              await v.verifier.verify(jwt, { baseUuid: fixture.bases[0]! });
            } catch (error) {
              expect((error as { code?: string }).code).toBe('token_revoked');
              return performance.now() - acknowledged;
            }
            if (performance.now() - acknowledged > (options.giveUpMs ?? 10_000))
              return Number.POSITIVE_INFINITY;
            await sleep(5);
          }
        }),
      );
      latencies.push(...refusedAfter);
      console.log(
        `[cluster] push round ${round + 1}: revoked on ${options.revokeOn}, refused by ${verifiers.map((v, i) => `${v.name} after ${Math.round(refusedAfter[i]!)} ms`).join(', ')}`,
      );
    }
  } finally {
    for (const v of verifiers) v.revocations.stop();
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(
    `[cluster] push latency ms over ${sorted.length}: p50 ${Math.round(sorted[Math.floor(sorted.length / 2)]!)}, max ${Math.round(sorted[sorted.length - 1]!)} (bound ${options.boundMs})`,
  );
  for (const ms of latencies) expect(ms).toBeLessThan(options.boundMs);
  return latencies;
}

/**
 * Scenario 6: rotations requested on every instance at once → one 201, the others 409, one `next`;
 * then an emergency rotation (`revoke_old`) on `emergencyOn` → every other instance drops the old kid
 * from its JWKS and signs with the new one within `boundMs`.
 */
export async function keyRotationRace(
  cluster: Cluster,
  db: DbReader,
  options: { emergencyOn: string; boundMs: number },
): Promise<{ dropMs: Record<string, number> }> {
  const lb = new Balancer(cluster.instances);
  const fixture = await setUpFixture(lb, 1);
  const acked = newAcknowledged();
  const keysBefore = await db.all<{ kid: string; state: string }>('SELECT kid, state FROM signing_keys');
  const rotations = await Promise.all(
    cluster.instances.map((instance) =>
      lb.request('rotate', 'POST', '/api/v1/keys/rotate', {
        token: fixture.admin,
        to: instance,
        body: { activate_after_seconds: 3600 },
      }),
    ),
  );
  const statuses = rotations.map((r) => r.status);
  console.log(
    `[cluster] concurrent rotations on ${cluster.instances.map((i) => i.name).join(', ')}: ${statuses.join(', ')}`,
  );
  expect([...statuses].sort()).toEqual([201, ...Array(cluster.instances.length - 1).fill(409)]);
  const afterRace = await db.all<{ kid: string; state: string }>('SELECT kid, state FROM signing_keys');
  expect(
    count(
      afterRace.map((k) => k.state),
      'next',
    ),
  ).toBe(1);
  expect(
    count(
      afterRace.map((k) => k.state),
      'current',
    ),
  ).toBe(1);
  expect(afterRace.length).toBe(keysBefore.length + 1);

  const oldKid = afterRace.find((key) => key.state === 'current')!.kid;
  const created = await createApiToken(lb, fixture, acked, fixture.bases[0]!);
  expect(created.status).toBe(201);
  const emergency = await lb.request('rotate', 'POST', '/api/v1/keys/rotate', {
    token: fixture.admin,
    to: cluster.byName(options.emergencyOn),
    body: { revoke_old: true },
  });
  expect(emergency.status, JSON.stringify(emergency.body)).toBe(201);
  const newKid: string = emergency.body.kid;
  const acknowledged = performance.now();
  const dropMs: Record<string, number> = {};
  await Promise.all(
    cluster.instances
      .filter((instance) => instance.name !== options.emergencyOn)
      .map(async (instance) => {
        await timeUntil(async () => !(await jwksKids(instance)).includes(oldKid), 10_000);
        dropMs[instance.name] = performance.now() - acknowledged;
        // And it signs with the new key.
        const issued = await exchange(lb, acked, created.body.token, instance);
        expect(issued.status).toBe(201);
        expect(kidOf(issued.body.base_token)).toBe(newKid);
      }),
  );
  console.log(
    `[cluster] emergency rotation on ${options.emergencyOn}: old kid gone from ${Object.entries(dropMs)
      .map(([name, ms]) => `${name}'s JWKS after ${Math.round(ms)} ms`)
      .join(', ')} (bound ${options.boundMs})`,
  );
  for (const ms of Object.values(dropMs)) expect(ms).toBeLessThan(options.boundMs);
  await expectKeysAgree(cluster, db);
  return { dropMs };
}

/**
 * Scenario 4: a burst of Base-Token revocations from `workers` concurrent clients over every instance
 * while `pollers` follow the feed on whichever instance answers: no poller may miss an entry (a
 * revocation committed with a lower seq after a reader passed it), no cursor may go back.
 */
export async function feedNeverSkips(
  cluster: Cluster,
  db: DbReader,
  options: { revocations: number; workers: number; pollers: number },
): Promise<void> {
  const lb = new Balancer(cluster.instances);
  const fixture = await setUpFixture(lb, 1);
  const acked = newAcknowledged();
  const sources: string[] = [];
  for (let i = 0; i < 5; i++) {
    const created = await createApiToken(lb, fixture, acked, fixture.bases[0]!);
    expect(created.status).toBe(201);
    sources.push(created.body.token);
  }
  const jwts: string[] = [];
  await Promise.all(
    Array.from({ length: options.workers }, async (_, w) => {
      for (let i = w; i < options.revocations; i += options.workers) {
        const issued = await exchange(lb, acked, sources[i % sources.length]!);
        expect(issued.status).toBe(201);
        jwts.push(issued.body.base_token);
      }
    }),
  );
  const pollers = Array.from({ length: options.pollers }, () => new FeedPoller(lb));
  await Promise.all(pollers.map((poller) => poller.catchUp()));
  const loops = pollers.map((poller) => poller.loop(20));
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: options.workers }, async (_, w) => {
        for (let i = w; i < jwts.length; i += options.workers) {
          const jwt = jwts[i]!;
          const revoked = await lb.request('revoke', 'POST', '/api/v1/base-tokens/revoke', {
            body: { token: jwt },
          });
          expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
          acked.revokedJtis.add(String(decodeJwt(jwt).jti));
        }
      }),
    );
  } finally {
    await Promise.all(loops.map((loop) => loop.stop()));
  }
  const ms = performance.now() - started;
  for (const poller of pollers) await poller.catchUp();
  console.log(
    `[cluster] feed: ${jwts.length} revocations by ${options.workers} clients in ${Math.round(ms)} ms, ${pollers.map((p) => p.polls).join('/')} polls by ${options.pollers} pollers`,
  );
  for (const poller of pollers) {
    expect(poller.violations).toEqual([]);
    expect(await unseenFeedEntries(db, poller)).toEqual([]);
  }
  expect(await acknowledgedProblems(db, acked)).toEqual([]);
  const chain = await checkAuditChain(db);
  expect(chain.report).toMatchObject({ ok: true });
}

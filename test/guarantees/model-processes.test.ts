import { afterAll, beforeAll, describe, it } from 'vitest';
import { type Child, newStats, startChild, twoProcessWorld } from './model/real';
import { envNumber, runModel } from './model/run';

// Issue 13's model test (see model.test.ts and model/rules.ts) with two processes on one database
// file, where races are real: this test process serves the app in-process, and a child process
// (test/helpers/child-app.ts, the real createApp with real Node deps) serves it over loopback HTTP on
// the same SQLite file, its clock set by every request to this process's clock. Every step goes to
// either process at random, and race steps send an exchange to one process and a change to the other
// at the same moment; model/commands.ts explains how a race is judged (the answer must fit an order
// of the two; the Base-Token's fate follows that order). In the slow project: it starts a process.
//
// Bounded for `npm test`: DEFAULT_RUNS sequences of at most MAX_STEPS steps. Longer:
// TOKENLADDER_MODEL_PROCESS_RUNS=<n> (TOKENLADDER_MODEL_STEPS=<max steps>) npx vitest run
// test/guarantees/model-processes.test.ts. Replay: TOKENLADDER_MODEL_SEED / TOKENLADDER_MODEL_PATH (a
// race's order is not replayed: a replay may need a few tries).

const DEFAULT_RUNS = 20;
const MAX_STEPS = 60;

let child: Child;
beforeAll(async () => {
  child = await startChild();
}, 60_000);
afterAll(async () => {
  await child?.stop();
});

describe('model: every Base-Token is accepted exactly while its source grants it (two processes, one database)', () => {
  const runs = envNumber('TOKENLADDER_MODEL_PROCESS_RUNS', DEFAULT_RUNS);
  const maxSteps = envNumber('TOKENLADDER_MODEL_STEPS', MAX_STEPS);
  it(`random sequences with races (${runs} × ≤ ${maxSteps} steps)`, { timeout: 3_600_000 }, async () => {
    const stats = newStats();
    await runModel({
      name: 'two processes',
      runs,
      maxSteps,
      processes: 2,
      world: (s, offset) => twoProcessWorld(child, s, offset),
      // The child's clock agrees, or is a second or two ahead or behind (verdicts must not depend on it).
      offsets: [0, 0, 1, -1, 2, -2],
      stats,
    });
  });
});

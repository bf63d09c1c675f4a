import fc from 'fast-check';
import { steps } from './commands';
import type { Real, Stats } from './real';
import type { Model } from './rules';

/** A number from the environment, or the default. */
export const envNumber = (name: string, fallback: number) =>
  process.env[name] === undefined ? fallback : Number(process.env[name]);

export interface ModelRun {
  name: string;
  runs: number;
  maxSteps: number;
  processes: 1 | 2;
  /**
   * A fresh world per sequence: the model and the real app it describes; with two processes, the
   * second one's clock `offset` seconds off the first one's.
   */
  world: (stats: Stats, offset: number) => Promise<{ model: Model; real: Real }>;
  /** The clock offsets to try between the processes (seconds); [0] with one process. */
  offsets?: number[];
  stats: Stats;
}

/**
 * Runs `runs` random sequences of at most `maxSteps` steps against fresh worlds. The seed is printed
 * first (TOKENLADDER_MODEL_SEED replays one; TOKENLADDER_MODEL_PATH with the path fast-check prints
 * replays the shrunk counterexample alone), and again with the counterexample on failure.
 */
export async function runModel(run: ModelRun) {
  const seed = envNumber('TOKENLADDER_MODEL_SEED', Math.floor(Math.random() * 2 ** 31));
  const path = process.env.TOKENLADDER_MODEL_PATH;
  const replay = `TOKENLADDER_MODEL_SEED=${seed}${path === undefined ? '' : ` TOKENLADDER_MODEL_PATH=${path}`}`;
  console.log(`model (${run.name}): ${run.runs} sequences of ≤ ${run.maxSteps} steps, ${replay}`);
  const started = performance.now();
  const stats = run.stats;
  try {
    await fc.assert(
      fc.asyncProperty(
        // Unbiased: sequence lengths spread evenly up to the maximum, not mostly short ones.
        fc.constantFrom(...(run.offsets ?? [0])),
        fc.noBias(fc.commands(steps(run.processes), { maxCommands: run.maxSteps, size: 'max' })),
        async (offset, cmds) => {
          const { model, real } = await run.world(stats, offset);
          try {
            await fc.asyncModelRun(() => ({ model, real }), cmds);
          } catch (error) {
            // What ran, with the answers (a race's order is not replayed: this says what happened).
            if (error instanceof Error) error.message += `\n  steps run: ${real.trace.join('; ')}`;
            throw error;
          } finally {
            real.close();
          }
          stats.sequences++;
          stats.issued += model.baseTokens.length;
          for (const b of model.baseTokens)
            if (b.ended !== null) stats.why[b.ended] = (stats.why[b.ended] ?? 0) + 1;
        },
      ),
      { numRuns: run.runs, seed, ...(path === undefined ? {} : { path, endOnFailure: true }) },
    );
  } catch (error) {
    console.error(
      `model (${run.name}) FAILED: replay with ${replay} (and the path fast-check printed below)`,
    );
    throw error;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `model (${run.name}): ${stats.sequences} sequences, ${stats.steps} steps (${stats.exchanges} exchanges, ${stats.races} races), ${stats.issued} Base-Tokens, ${stats.checks} verifier checks (${stats.accepted} accepted, ${stats.ended} refused as ended) in ${seconds} s`,
  );

  if (process.env.TOKENLADDER_MODEL_VERBOSE) console.log(stats.why);
}

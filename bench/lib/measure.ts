// Measuring: warm-up, fixed-time runs repeated and interleaved across targets, RSS sampled meanwhile.
import os from 'node:os';
import type { Settings } from './args';
import {
  machineBusyMicros,
  processCpuMicros,
  sampleRss,
  startChild,
  type Child,
  type StartOptions,
} from './children';
import { runLoad, type LoadSpec } from './load';
import { mb, median, medianRun, type MemoryRow, type Run } from './report';

export const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

export interface Measurement extends Run {
  runs: Run[];
  peakRssMb: number;
}

export interface HttpTarget {
  label: string;
  child: Child;
  spec: LoadSpec;
}

/**
 * Starts measuring CPU: the returned function gives the process's CPU per request (all its threads)
 * and the share of the machine that other processes (not this one, not `pid`) used meanwhile.
 */
export function cpuMeter(pid: number) {
  const process0 = processCpuMicros(pid);
  const own0 = process.cpuUsage();
  const machine0 = machineBusyMicros();
  const started = performance.now();
  return (requests: number) => {
    const used = processCpuMicros(pid) - process0;
    const own = process.cpuUsage(own0);
    const other = Math.max(0, machineBusyMicros() - machine0 - used - own.user - own.system);
    const capacity = (performance.now() - started) * 1000 * os.availableParallelism();
    return { cpuUsPerReq: used / Math.max(1, requests), otherCpuPercent: (other / capacity) * 100 };
  };
}

/** Loopback URL of a server child. */
export const urlOf = (child: Child) => `http://127.0.0.1:${child.port}`;

/**
 * Warms every target up, then runs `repeats` rounds, each measuring every target once in turn, so a
 * slow patch of the (shared) machine hits all targets alike. Peak RSS is sampled during measured runs.
 */
export async function measureHttp(
  targets: HttpTarget[],
  settings: Settings,
): Promise<Map<string, Measurement>> {
  for (const target of targets) {
    if (settings.warmupSeconds > 0) await runLoad(target.spec, settings.warmupSeconds);
  }
  const runs = new Map<string, Run[]>(targets.map((target) => [target.label, []]));
  const peaks = new Map<string, number>(targets.map((target) => [target.label, 0]));
  for (let round = 1; round <= settings.repeats; round++) {
    for (const target of targets) {
      const rss = sampleRss(target.child.pid);
      const cpu = cpuMeter(target.child.pid);
      const load = await runLoad(target.spec, settings.durationSeconds).finally(() => rss.stop());
      const result: Run = { ...load, ...cpu(load.requests) };
      runs.get(target.label)!.push(result);
      peaks.set(target.label, Math.max(peaks.get(target.label)!, rss.peak()));
      log(`  ${target.label} #${round}: ${describe(result)}`);
    }
  }
  return new Map(
    targets.map((target) => {
      const targetRuns = runs.get(target.label)!;
      return [
        target.label,
        { ...medianRun(targetRuns), runs: targetRuns, peakRssMb: mb(peaks.get(target.label)!) },
      ];
    }),
  );
}

const describe = (run: Run) =>
  `${Math.round(run.reqPerSec)}/s, p50 ${run.p50Ms.toFixed(2)} ms, p99 ${run.p99Ms.toFixed(2)} ms, ` +
  `${Math.round(run.cpuUsPerReq ?? 0)} µs CPU each, other processes ${Math.round(run.otherCpuPercent ?? 0)}% of the machine`;

/** In-process loops: one fresh child per mode and repeat (modes interleaved); each reports its own result. */
export async function measureInProcess(
  modes: { label: string; env: Record<string, string> }[],
  script: string,
  settings: Settings,
): Promise<Map<string, Measurement>> {
  const results = new Map<string, Measurement>(
    modes.map((mode) => [mode.label, { reqPerSec: 0, p50Ms: 0, p99Ms: 0, runs: [], peakRssMb: 0 }]),
  );
  for (let round = 1; round <= settings.repeats; round++) {
    for (const mode of modes) {
      const child = await startChild(mode.label, script, {
        env: {
          ...mode.env,
          BENCH_WARMUP_MS: String(settings.warmupSeconds * 1000),
          BENCH_DURATION_MS: String(settings.durationSeconds * 1000),
        },
      });
      const rss = sampleRss(child.pid);
      const cpu = cpuMeter(child.pid);
      try {
        const message = await child.nextMessage();
        const run: Run = {
          reqPerSec: Number(message.reqPerSec),
          p50Ms: Number(message.p50Ms),
          p99Ms: Number(message.p99Ms),
          cpuUsPerReq: Number(message.cpuUsPerReq),
          otherCpuPercent: cpu(1).otherCpuPercent,
        };
        const entry = results.get(mode.label)!;
        entry.runs.push(run);
        entry.peakRssMb = Math.max(entry.peakRssMb, mb(rss.peak()));
        log(`  ${mode.label} #${round}: ${describe(run)}`);
      } finally {
        rss.stop();
        await child.stop();
      }
    }
  }
  for (const entry of results.values()) Object.assign(entry, medianRun(entry.runs));
  return results;
}

/** One long run with RSS sampled throughout: the medians of its first and last tenth are start and end. */
export async function measureRssGrowth(
  target: HttpTarget,
  seconds: number,
): Promise<Omit<MemoryRow, 'scenario' | 'target' | 'met'>> {
  const rss = sampleRss(target.child.pid, 250);
  const result = await runLoad(target.spec, seconds).finally(() => rss.stop());
  const tenth = (seconds * 1000) / 10;
  const window = (from: number, to: number) =>
    rss.samples.filter((sample) => sample.atMs >= from && sample.atMs <= to).map((sample) => sample.rss);
  const startMb = mb(median(window(0, tenth)));
  const endMb = mb(median(window(seconds * 1000 - tenth, Infinity)));
  return {
    seconds,
    reqPerSec: result.reqPerSec,
    startMb,
    endMb,
    peakMb: mb(rss.peak()),
    growthPercent: ((endMb - startMb) / startMb) * 100,
  };
}

/** Starts several server children, stopping the ones already started if one fails. */
export async function startServers(
  specs: { name: string; script: string; options?: StartOptions }[],
): Promise<Child[]> {
  const children: Child[] = [];
  try {
    for (const spec of specs) children.push(await startChild(spec.name, spec.script, spec.options));
    return children;
  } catch (error) {
    await stopAll(children);
    throw error;
  }
}

export const stopAll = (children: Child[]) => Promise.all(children.map((child) => child.stop()));

// Orchestrator side: child processes (servers under test, in-process loops), their RSS, and cleanup.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const live = new Set<ChildProcess>();

/** Every child dies with the orchestrator, however it ends (normal exit, error, Ctrl-C). */
function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

export interface Child {
  name: string;
  pid: number;
  /** The JSON line the child printed when ready (servers: `{ ready: true, port }`). */
  ready: Record<string, unknown>;
  port: number;
  /** Resolves with the next JSON line the child prints after `ready` (in-process loops report results so). */
  nextMessage(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}

/**
 * Runs `node --import tsx <script>` and resolves once it prints a JSON line with `ready`.
 * The child's stdin is a pipe it watches: when the orchestrator goes away (even by SIGKILL), the child exits.
 */
export function startChild(name: string, script: string, options: StartOptions = {}): Promise<Child> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));

  const messages: Record<string, unknown>[] = [];
  const waiters: ((message: Record<string, unknown>) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      process.stderr.write(`[${name}] ${line}\n`);
      return;
    }
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else messages.push(message);
  });
  const nextMessage = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const queued = messages.shift();
      if (queued) return resolve(queued);
      waiters.push(resolve);
      void exited.then(() => reject(new Error(`${name} exited (code ${child.exitCode}) before reporting`)));
    });

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  return new Promise<Child>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} not ready after ${options.readyTimeoutMs ?? 30_000} ms`));
    }, options.readyTimeoutMs ?? 30_000);
    nextMessage().then(
      (ready) => {
        clearTimeout(timer);
        resolve({ name, pid: child.pid!, ready, port: Number(ready.port ?? 0), nextMessage, stop });
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Resident set size of a process in bytes (Linux /proc), or undefined once it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface RssSampler {
  /** Samples so far, in bytes, with their time since start in ms. */
  samples: { atMs: number; rss: number }[];
  peak(): number;
  stop(): void;
}

/** Samples a process's RSS every `intervalMs` until stopped. */
export function sampleRss(pid: number, intervalMs = 200): RssSampler {
  const started = performance.now();
  const samples: { atMs: number; rss: number }[] = [];
  const take = () => {
    const rss = rssBytes(pid);
    if (rss !== undefined) samples.push({ atMs: performance.now() - started, rss });
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    samples,
    peak: () => samples.reduce((max, sample) => Math.max(max, sample.rss), 0),
    stop: () => {
      take();
      clearInterval(timer);
    },
  };
}

/** Kernel clock ticks per second, the unit of /proc CPU times. */
const TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system, all threads) a process has used so far, in µs; 0 once it is gone. */
export function processCpuMicros(pid: number): number {
  const { user, system } = processCpuTimes(pid);
  return user + system;
}

/** The same, split: user and system (kernel) time, in µs; zeros once it is gone. */
export function processCpuTimes(pid: number): { user: number; system: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: (Number(fields[11]) / TICKS) * 1e6, system: (Number(fields[12]) / TICKS) * 1e6 };
  } catch {
    return { user: 0, system: 0 };
  }
}

/** CPU time the whole machine has been busy (all cores, everything but idle and iowait), in µs. */
export function machineBusyMicros(): number {
  try {
    const [, ...times] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const values = times.map(Number);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    // guest times are already counted in user/nice
    const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
    return ((total - idle) / TICKS) * 1e6;
  } catch {
    return 0;
  }
}

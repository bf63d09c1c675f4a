// Results: medians, the markdown tables and the machine description.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Run {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time of the process under test (all threads) per request or operation, in µs. */
  cpuUsPerReq?: number;
  /** Share of the machine's CPU that other processes used during the run: noise. */
  otherCpuPercent?: number;
}

export interface Row extends Run {
  scenario: string;
  peakRssMb: number;
  runs: Run[];
  ceilingReqPerSec?: number;
  ratio?: number;
  target?: string;
  met?: boolean;
}

export interface MemoryRow {
  scenario: string;
  seconds: number;
  reqPerSec: number;
  startMb: number;
  endMb: number;
  peakMb: number;
  growthPercent: number;
  target: string;
  met: boolean;
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** The median of each measure over the repeats (each measure on its own). */
export const medianRun = (runs: Run[]): Run => ({
  reqPerSec: median(runs.map((run) => run.reqPerSec)),
  p50Ms: median(runs.map((run) => run.p50Ms)),
  p99Ms: median(runs.map((run) => run.p99Ms)),
  cpuUsPerReq: median(runs.map((run) => run.cpuUsPerReq ?? 0)),
  otherCpuPercent: Math.max(...runs.map((run) => run.otherCpuPercent ?? 0)),
});

export const mb = (bytes: number) => bytes / (1024 * 1024);

const int = (value: number) => Math.round(value).toLocaleString('en-US');
const ms = (value: number) =>
  value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0);
const yesNo = (met: boolean | undefined) => (met === undefined ? '' : met ? 'yes' : '**no**');

export function resultsTable(rows: Row[]): string {
  const lines = [
    "| scenario | req/s | p50 ms | p99 ms | peak RSS MB | ceiling req/s | ratio | target | met? | CPU µs/req | others' CPU |",
    '|---|--:|--:|--:|--:|--:|--:|---|---|--:|--:|',
  ];
  for (const row of rows) {
    const ceiling = row.ceilingReqPerSec === undefined ? '' : int(row.ceilingReqPerSec);
    const ratio = row.ratio === undefined ? '' : row.ratio.toFixed(2);
    lines.push(
      `| ${row.scenario} | ${int(row.reqPerSec)} | ${ms(row.p50Ms)} | ${ms(row.p99Ms)} | ${row.peakRssMb.toFixed(0)} | ${ceiling} | ${ratio} | ${row.target ?? ''} | ${yesNo(row.met)} | ${int(row.cpuUsPerReq ?? 0)} | ${Math.round(row.otherCpuPercent ?? 0)}% |`,
    );
  }
  return lines.join('\n');
}

export function memoryTable(rows: MemoryRow[]): string {
  const lines = [
    '| run | seconds | req/s | RSS start MB | RSS end MB | growth | peak RSS MB | target | met? |',
    '|---|--:|--:|--:|--:|--:|--:|---|---|',
  ];
  for (const row of rows) {
    const growth = `${row.growthPercent >= 0 ? '+' : ''}${row.growthPercent.toFixed(1)}%`;
    lines.push(
      `| ${row.scenario} | ${row.seconds} | ${int(row.reqPerSec)} | ${row.startMb.toFixed(0)} | ${row.endMb.toFixed(0)} | ${growth} | ${row.peakMb.toFixed(0)} | ${row.target} | ${yesNo(row.met)} |`,
    );
  }
  return lines.join('\n');
}

export interface Machine {
  cores: number;
  cpu: string;
  memoryGb: number;
  node: string;
  kernel: string;
  loadAverageAtStart: number[];
  note: string;
}

export function describeMachine(): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {
    // not Linux: keep os.cpus()
  }
  const cores = os.availableParallelism();
  return {
    cores,
    cpu,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    loadAverageAtStart: os.loadavg().map((load) => Math.round(load * 100) / 100),
    note: `${cores} cores shared by the server under test and the load generator (autocannon runs on the same machine)`,
  };
}

export const machineLine = (m: Machine) =>
  `${m.cores} cores (nproc), ${m.cpu}, ${m.memoryGb} GB RAM, Node ${m.node}, ${m.kernel}; ${m.note}. Load average at start: ${m.loadAverageAtStart.join(' ')}.`;

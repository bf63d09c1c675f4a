// The load generator: autocannon in the orchestrator process (never inside a server under test),
// with our own microsecond latency histogram (autocannon's own has 1 ms resolution).
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  connections: number;
  /** Cycled through by every connection (e.g. several API-Tokens). */
  requests: autocannon.Request[];
  /** Status every response must have; anything else makes the run fail. */
  expectStatus: number;
}

export interface LoadResult {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  seconds: number;
}

/** Runs one fixed-time load; throws if any request failed or answered another status than expected. */
export function runLoad(spec: LoadSpec, seconds: number): Promise<LoadResult> {
  return runLoadInto(spec, seconds, createHistogram());
}

/**
 * Several loads at once (one autocannon per server of a group, the connections split between them):
 * req/s summed, latency percentiles over every response of all of them; `each` is each load's own.
 */
export async function runLoads(
  specs: LoadSpec[],
  seconds: number,
): Promise<LoadResult & { each: LoadResult[] }> {
  const latency = createHistogram();
  const each = await Promise.all(specs.map((spec) => runLoadInto(spec, seconds, latency)));
  const requests = each.reduce((sum, result) => sum + result.requests, 0);
  return {
    reqPerSec: each.reduce((sum, result) => sum + result.reqPerSec, 0),
    p50Ms: latency.percentile(50) / 1000,
    p99Ms: latency.percentile(99) / 1000,
    requests,
    seconds: Math.max(...each.map((result) => result.seconds)),
    each,
  };
}

function runLoadInto(spec: LoadSpec, seconds: number, latency: RecordableHistogram): Promise<LoadResult> {
  const unexpected = new Map<number, number>();
  // Responses with the expected status (the histogram may be shared with other loads).
  let answered = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: seconds,
        requests: spec.requests,
        timeout: 30,
      },
      (error: unknown, result: autocannon.Result) => {
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        const problems = [...unexpected].map(([status, count]) => `${count}× HTTP ${status}`);
        if (result.errors > 0)
          problems.push(`${result.errors} connection errors (${result.timeouts} timeouts)`);
        if (problems.length > 0)
          return reject(
            new Error(`${spec.url}: expected HTTP ${spec.expectStatus}, got ${problems.join(', ')}`),
          );
        const total = answered;
        resolve({
          reqPerSec: total / result.duration,
          p50Ms: latency.percentile(50) / 1000,
          p99Ms: latency.percentile(99) / 1000,
          requests: total,
          seconds: result.duration,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode === spec.expectStatus) {
        answered++;
        latency.record(Math.max(1, Math.round(responseTime * 1000)));
      } else unexpected.set(statusCode, (unexpected.get(statusCode) ?? 0) + 1);
    });
  });
}

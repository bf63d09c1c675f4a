// In-process verification loop (scenario 1), one mode per process so modes never share a JIT or heap.
// Env: BENCH_MODE (verifier-key | verifier-jwks | verifier-cached | jose), BENCH_TOKEN, BENCH_JWKS, BENCH_ISSUER,
// BENCH_BASE_UUID, BENCH_WARMUP_MS, BENCH_DURATION_MS, BENCH_CONCURRENCY.
import { createHistogram } from 'node:perf_hooks';
import { importJWK, jwtVerify, type JSONWebKeySet } from 'jose';
import { createBaseTokenVerifier } from '../../src/verify';
import { exitWithParent, report } from '../lib/child';

const env = (name: string) => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};
const mode = env('BENCH_MODE');
const token = env('BENCH_TOKEN');
const jwks = JSON.parse(env('BENCH_JWKS')) as JSONWebKeySet;
const issuer = env('BENCH_ISSUER');
const baseUuid = env('BENCH_BASE_UUID');
const concurrency = Number(env('BENCH_CONCURRENCY'));

// "The same key": the one public key of the fixture's JWKS, imported once.
const key = (await importJWK(jwks.keys[0]!, 'EdDSA')) as CryptoKey;
const verifierOf = (verifier: ReturnType<typeof createBaseTokenVerifier>) => () =>
  verifier.verify(token, { baseUuid });
// verifier-key / verifier-jwks: every call verifies in full (cache off), the per-verification cost;
// verifier-cached: the default verifier, the same token again and again as a client sends it.
const verify: () => Promise<unknown> =
  mode === 'jose'
    ? () => jwtVerify(token, key)
    : mode === 'verifier-key'
      ? verifierOf(createBaseTokenVerifier({ issuer, key, cache: false }))
      : mode === 'verifier-jwks'
        ? verifierOf(createBaseTokenVerifier({ issuer, jwks, cache: false }))
        : mode === 'verifier-cached'
          ? verifierOf(createBaseTokenVerifier({ issuer, jwks }))
          : () => Promise.reject(new Error(`unknown BENCH_MODE ${mode}`));

/** `concurrency` loops of back-to-back verifications for `ms`; returns ops and per-op latency. */
async function loop(ms: number) {
  const latency = createHistogram();
  const until = performance.now() + ms;
  const worker = async () => {
    while (performance.now() < until) {
      const started = process.hrtime.bigint();
      await verify();
      latency.record(process.hrtime.bigint() - started);
    }
  };
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const { user, system } = process.cpuUsage(cpu);
  return { ops: latency.count, seconds: (performance.now() - started) / 1000, latency, cpuUs: user + system };
}

exitWithParent();
report({ ready: true });
await verify(); // fails loudly (and the run with it) if the token does not verify
await loop(Number(env('BENCH_WARMUP_MS')));
const { ops, seconds, latency, cpuUs } = await loop(Number(env('BENCH_DURATION_MS')));
report({
  reqPerSec: ops / seconds,
  p50Ms: latency.percentile(50) / 1e6,
  p99Ms: latency.percentile(99) / 1e6,
  cpuUsPerReq: cpuUs / ops,
  requests: ops,
  seconds,
});

// Per-request cost of a DPoP-bound Base-Token (RFC 9449) beside plain Bearer verification (issue 17), as
// ratios measured in the same run. Not a test: it prints a Markdown table and asserts nothing.
//
//   node --import tsx bench/dpop.ts              # 5 interleaved rounds of 4,000 requests per scenario
//   node --import tsx bench/dpop.ts --quick      # 2 rounds of 500: checks that it runs
//   node --import tsx bench/dpop.ts --rounds 7 --requests 8000
//
// In process, no HTTP: @tokenladder/verify with an Ed25519 issuer key (JWKS set), a Base-Token signed as
// the server signs it (plus `cnf.jkt`), 8 verifications in flight. A DPoP request adds one proof: parse,
// thumbprint, one signature check (the client's key), one SHA-256 of the token (`ath`) and a replay-cache
// insert. Proofs are made before each measured batch (a client's cost, not the resource server's), each
// with its own jti. CPU µs per request is the process's CPU time (all threads) over the batch; medians
// over the rounds.
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import {
  base64url,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey as JoseKey,
  type JWK,
} from 'jose';
import { baseAudience, createBaseTokenVerifier, type BaseTokenVerifier } from '../src/verify';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    requests: { type: 'string' },
  },
});
const rounds = Number(values.rounds ?? (values.quick ? 2 : 5));
const requests = Number(values.requests ?? (values.quick ? 500 : 4000));
const CONCURRENCY = 8;
const ISSUER = 'https://auth.example.com';
const BASE = '0f8fad5b-d9cb-469f-a165-70867728950e';
const URL_ = `https://rows.example/bases/${BASE}/rows`;

const median = (list: number[]) => {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** `requests` calls of `operation(i)`, `CONCURRENCY` in flight: requests per second and CPU µs per request. */
async function measure(operation: (i: number) => Promise<unknown>) {
  let next = 0;
  const worker = async () => {
    while (next < requests) await operation(next++);
  };
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const { user, system } = process.cpuUsage(cpu);
  return { perSecond: requests / ((performance.now() - started) / 1000), cpuUs: (user + system) / requests };
}

const issuer = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
const issuerJwk = await exportJWK(issuer.publicKey);
const kid = await calculateJwkThumbprint(issuerJwk);
const jwks = { keys: [{ ...issuerJwk, kid, alg: 'EdDSA', use: 'sig' }] };

async function baseToken(cnf?: { jkt: string }) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    client_id: '3f0c9a52-1b7e-4d0c-9a51-7f6e2b1c0d9e',
    token_type: 'api_token',
    token_name: 'nightly report',
    base_uuid: BASE,
    permission: 'r',
    gen: 1234,
    ...(cnf && { cnf }),
  })
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
    .setIssuer(ISSUER)
    .setAudience(baseAudience(BASE))
    .setSubject('5d2f0c1a-3b4e-4f6a-8c9d-0e1f2a3b4c5d')
    .setJti(crypto.randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + 3 * 86400)
    .sign(issuer.privateKey);
}

interface Client {
  alg: 'EdDSA' | 'ES256';
  privateKey: JoseKey;
  jwk: JWK;
  jkt: string;
}
async function client(alg: Client['alg']): Promise<Client> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const jwk = await exportJWK(publicKey);
  return { alg, privateKey, jwk, jkt: await calculateJwkThumbprint(jwk) };
}
async function proofs(key: Client, token: string, count: number): Promise<string[]> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  const ath = base64url.encode(new Uint8Array(digest));
  const iat = Math.floor(Date.now() / 1000);
  return Promise.all(
    Array.from({ length: count }, () =>
      new SignJWT({ jti: crypto.randomUUID(), htm: 'GET', htu: URL_, iat, ath })
        .setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk: key.jwk })
        .sign(key.privateKey),
    ),
  );
}

const verifiers = {
  cached: createBaseTokenVerifier({ issuer: ISSUER, jwks, audience: baseAudience(BASE) }),
  uncached: createBaseTokenVerifier({ issuer: ISSUER, jwks, audience: baseAudience(BASE), cache: false }),
};
const bearer = await baseToken();
const edClient = await client('EdDSA');
const esClient = await client('ES256');
const edBound = await baseToken({ jkt: edClient.jkt });
const esBound = await baseToken({ jkt: esClient.jkt });

interface Scenario {
  name: string;
  /** Made before the batch (not measured). */
  prepare?: () => Promise<string[]>;
  run: (verifier: BaseTokenVerifier, proofs: string[] | undefined, i: number) => Promise<unknown>;
  verifier: BaseTokenVerifier;
}
const dpopCall = (token: string) => (verifier: BaseTokenVerifier, list: string[] | undefined, i: number) =>
  verifier.verify(token, { dpop: { proof: list![i], method: 'GET', url: URL_ } });
const scenarios: Scenario[] = [
  {
    name: 'Bearer, token verified in full (cache: false)',
    verifier: verifiers.uncached,
    run: (v) => v.verify(bearer),
  },
  {
    name: 'Bearer, repeated token (default cache)',
    verifier: verifiers.cached,
    run: (v) => v.verify(bearer),
  },
  {
    name: 'DPoP, repeated token (cache) + EdDSA proof',
    verifier: verifiers.cached,
    prepare: () => proofs(edClient, edBound, requests),
    run: dpopCall(edBound),
  },
  {
    name: 'DPoP, repeated token (cache) + ES256 proof',
    verifier: verifiers.cached,
    prepare: () => proofs(esClient, esBound, requests),
    run: dpopCall(esBound),
  },
  {
    name: 'DPoP, token verified in full + EdDSA proof',
    verifier: verifiers.uncached,
    prepare: () => proofs(edClient, edBound, requests),
    run: dpopCall(edBound),
  },
];

// Fails loudly if a scenario does not verify; also warms up.
for (const each of scenarios) {
  const list = await each.prepare?.();
  await measure((i) => each.run(each.verifier, list, i));
}
const load = loadavg()
  .map((n) => n.toFixed(2))
  .join(' ');
const samples = scenarios.map(() => ({ perSecond: [] as number[], cpuUs: [] as number[] }));
for (let round = 0; round < rounds; round += 1)
  for (const [index, each] of scenarios.entries()) {
    const list = await each.prepare?.();
    const { perSecond, cpuUs } = await measure((i) => each.run(each.verifier, list, i));
    samples[index]!.perSecond.push(perSecond);
    samples[index]!.cpuUs.push(cpuUs);
  }

const rows = scenarios.map((each, index) => ({
  name: each.name,
  perSecond: median(samples[index]!.perSecond),
  cpuUs: median(samples[index]!.cpuUs),
}));
const [full, cached] = rows;
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ratio = (n: number, d: number) => (n / d).toFixed(2);
console.log(
  `Machine: ${availableParallelism()} cores (${cpus()[0]?.model.trim()}), Node ${process.version}; load average at start ${load}.`,
);
console.log(
  `Command: node --import tsx bench/dpop.ts${values.quick ? ' --quick' : ''} (${rounds} rounds of ${requests} requests per scenario, ${CONCURRENCY} in flight; medians)\n`,
);
console.log('| per request | verifications/s | CPU µs | CPU ÷ Bearer cached | CPU ÷ Bearer in full |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const row of rows)
  console.log(
    `| ${row.name} | ${int(row.perSecond)} | ${int(row.cpuUs)} | ${ratio(row.cpuUs, cached!.cpuUs)} | ${ratio(row.cpuUs, full!.cpuUs)} |`,
  );

// Signing and verifying a Base-Token per signing algorithm (issue 16: TOKENLADDER_SIGNING_ALG), each as
// a ratio to EdDSA measured in the same run. Not a test: it prints a Markdown table and asserts nothing.
//
//   node --import tsx bench/algorithms.ts                # 5 interleaved rounds of 2 s per operation
//   node --import tsx bench/algorithms.ts --quick        # 2 rounds of 0.5 s: checks that it runs
//   node --import tsx bench/algorithms.ts --rounds 7 --duration 3 --keygen 30
//
// In process, no HTTP: keys made by the server's own generateSigningKey (sealed, unsealed and imported
// as the key ring does), tokens signed with the header and claims signBaseToken writes (less its audit
// record), verified by @tokenladder/verify with its defaults but no verified-token cache. Each round
// measures every algorithm's signing, then every algorithm's verifying, in turn, 8 operations in flight
// (Web Crypto runs them on libuv's threads); medians over the rounds.
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { importJWK, SignJWT, type JWK } from 'jose';
import { generateKekText, importKek, unseal } from '../src/keys/kek';
import { generateSigningKey, SIGNING_ALGS, type SigningAlg } from '../src/keys/signing-keys';
import { baseAudience, createBaseTokenVerifier } from '../src/verify';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    keygen: { type: 'string' },
  },
});
const rounds = Number(values.rounds ?? (values.quick ? 2 : 5));
const durationMs = Number(values.duration ?? (values.quick ? 0.5 : 2)) * 1000;
const keygenRuns = Number(values.keygen ?? (values.quick ? 3 : 20));
const CONCURRENCY = 8;
const ISSUER = 'https://auth.example.com';
const BASE = '0f8fad5b-d9cb-469f-a165-70867728950e';

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** `CONCURRENCY` loops of back-to-back `operation` for `ms`: operations per second and CPU µs per operation. */
async function measure(operation: () => Promise<unknown>, ms: number) {
  let ops = 0;
  const until = performance.now() + ms;
  const worker = async () => {
    while (performance.now() < until) {
      await operation();
      ops += 1;
    }
  };
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const { user, system } = process.cpuUsage(cpu);
  return { perSecond: ops / ((performance.now() - started) / 1000), cpuUs: (user + system) / ops };
}

const kek = await importKek(generateKekText());

/** One algorithm's key as the server holds it, its JWKS, and a Base-Token signer and verifier. */
async function setup(alg: SigningAlg) {
  const keygenMs: number[] = [];
  let made = await generateSigningKey(kek, alg);
  for (let run = 0; run < keygenRuns; run += 1) {
    const started = performance.now();
    made = await generateSigningKey(kek, alg);
    keygenMs.push(performance.now() - started);
  }
  const privateJwk = JSON.parse(await unseal(kek, made.sealed, made.kid)) as JWK;
  const privateKey = (await importJWK(privateJwk, alg, { extractable: false })) as CryptoKey;
  const now = Math.floor(Date.now() / 1000);
  const sign = () =>
    new SignJWT({
      client_id: '3f0c9a52-1b7e-4d0c-9a51-7f6e2b1c0d9e',
      token_type: 'api_token',
      token_name: 'nightly report',
      base_uuid: BASE,
      permission: 'r',
      gen: 1234,
      dtable_uuid: BASE,
      username: '5d2f0c1a-3b4e-4f6a-8c9d-0e1f2a3b4c5d',
      app_name: 'nightly report',
    })
      .setProtectedHeader({ alg, kid: made.kid, typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(baseAudience(BASE))
      .setSubject('5d2f0c1a-3b4e-4f6a-8c9d-0e1f2a3b4c5d')
      .setJti(crypto.randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + 3 * 86400)
      .sign(privateKey);
  const token = await sign();
  const verifier = createBaseTokenVerifier({
    issuer: ISSUER,
    jwks: { keys: [made.publicJwk] },
    cache: false,
  });
  const verify = () => verifier.verify(token, { baseUuid: BASE });
  await verify(); // fails loudly if the token does not verify
  return { alg, keygenMs: median(keygenMs), tokenLength: token.length, sign, verify };
}

const setups = [];
for (const alg of SIGNING_ALGS) setups.push(await setup(alg));
const samples = new Map(setups.map(({ alg }) => [alg, { sign: [] as number[][], verify: [] as number[][] }]));
const load = loadavg()
  .map((n) => n.toFixed(2))
  .join(' ');

for (const each of setups) {
  await measure(each.sign, durationMs / 2); // warm-up
  await measure(each.verify, durationMs / 2);
}
for (let round = 0; round < rounds; round += 1)
  for (const operation of ['sign', 'verify'] as const)
    for (const each of setups) {
      const { perSecond, cpuUs } = await measure(each[operation], durationMs);
      samples.get(each.alg)![operation].push([perSecond, cpuUs]);
    }

const rows = setups.map((each) => {
  const of = (operation: 'sign' | 'verify') => {
    const list = samples.get(each.alg)![operation];
    return { perSecond: median(list.map(([ps]) => ps!)), cpuUs: median(list.map(([, us]) => us!)) };
  };
  return { ...each, sign: of('sign'), verify: of('verify') };
});
const reference = rows[0]!;
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ratio = (n: number, d: number) => (n / d).toFixed(2);

console.log(
  `Machine: ${availableParallelism()} cores (${cpus()[0]?.model.trim()}), Node ${process.version}; load average at start ${load}.`,
);
console.log(
  `Command: node --import tsx bench/algorithms.ts${values.quick ? ' --quick' : ''} (${rounds} rounds of ${durationMs / 1000} s per operation, ${CONCURRENCY} in flight; keygen: median of ${keygenRuns})\n`,
);
console.log(
  '| alg | key | keygen ms | token chars | sign/s | sign CPU µs | sign ÷ EdDSA (CPU) | verify/s | verify CPU µs | verify ÷ EdDSA (CPU) |',
);
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
const KEYS: Record<SigningAlg, string> = { EdDSA: 'Ed25519', ES256: 'P-256', RS256: 'RSA 2048' };
for (const row of rows)
  console.log(
    `| ${row.alg} | ${KEYS[row.alg]} | ${row.keygenMs.toFixed(2)} | ${row.tokenLength} | ${int(row.sign.perSecond)} | ${int(row.sign.cpuUs)} | ${ratio(row.sign.cpuUs, reference.sign.cpuUs)} | ${int(row.verify.perSecond)} | ${int(row.verify.cpuUs)} | ${ratio(row.verify.cpuUs, reference.verify.cpuUs)} |`,
  );
console.log(
  `\nThroughput ratios to EdDSA (ops/s): ${rows
    .map(
      (row) =>
        `${row.alg} sign ${ratio(row.sign.perSecond, reference.sign.perSecond)}, verify ${ratio(row.verify.perSecond, reference.verify.perSecond)}`,
    )
    .join('; ')}`,
);

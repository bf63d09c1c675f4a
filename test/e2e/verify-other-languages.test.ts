// Issue 16, "tested against code someone else wrote": the verification snippets in
// docs/examples/verify/ (Python with PyJWT and with jwcrypto, Go with go-jose, Java with the JDK
// alone) are run as written, the docs files themselves, against a real `tokenladder serve` (the
// bundled CLI), once signing with EdDSA (the default) and once with ES256 (TOKENLADDER_SIGNING_ALG).
// Each must accept a fresh Base-Token (exit 0, the sub printed) and refuse, with exit 1 and a reason,
// one for another base, a tampered signature, an expired one, a typ other than at+jwt, another
// issuer, and a header alg other than its key's (each snippet pins the alg to the JWK's).
// A missing toolchain skips that language outside CI and fails in CI
// (scripts/ensure-verifier-toolchains.sh installs them; .ci/run calls it).
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, jsonCaller, ROOT, runToEnd, start, type Running } from '../helpers/processes';

const EXAMPLES = join(ROOT, 'docs/examples/verify');
const dir = mkdtempSync(join(tmpdir(), 'tokenladder-verify-langs-'));
const GO = {
  GO111MODULE: 'off',
  GOPATH: '/usr/share/gocode',
  GOCACHE: join(dir, 'gocache'),
  HOME: dir,
};

/** Whether a command runs and exits 0 (the toolchain is there). */
const works = (command: string, args: string[], env: Record<string, string> = {}) => {
  const result = spawnSync(command, args, {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: 'ignore',
  });
  return result.status === 0;
};

interface Language {
  name: string;
  /** Why it cannot run here, or null. */
  missing: string | null;
  /** The command and arguments before `<issuer> <base_uuid> <token>`. */
  command: () => [string, string[]];
  env: Record<string, string>;
}

const goBinary = join(dir, 'verify-go');
const LANGUAGES: Language[] = [
  {
    name: 'Python (PyJWT)',
    missing: works('/usr/bin/python3', ['-c', 'import jwt, cryptography; jwt.PyJWKClient'])
      ? null
      : '/usr/bin/python3 with python3-jwt and python3-cryptography',
    command: () => ['/usr/bin/python3', [join(EXAMPLES, 'verify.py')]],
    env: {},
  },
  {
    name: 'Python (jwcrypto)',
    missing: works('/usr/bin/python3', ['-c', 'import jwcrypto.jwt'])
      ? null
      : '/usr/bin/python3 with python3-jwcrypto',
    command: () => ['/usr/bin/python3', [join(EXAMPLES, 'verify_jwcrypto.py')]],
    env: {},
  },
  {
    name: 'Go (go-jose v2)',
    missing:
      works('go', ['version'], GO) && existsSync('/usr/share/gocode/src/gopkg.in/square/go-jose.v2/jwt')
        ? null
        : 'golang-go and golang-gopkg-square-go-jose.v2-dev',
    command: () => [goBinary, []],
    env: {},
  },
  {
    name: 'Java (JDK Ed25519 and ECDSA)',
    missing: works('java', ['--version']) && works('javac', ['--version']) ? null : 'a JDK 17 (java, javac)',
    command: () => ['java', [join(EXAMPLES, 'Verify.java')]],
    env: { HOME: dir },
  },
];

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

/** The algorithms the snippets verify; a server (with a database of its own) signs with each. */
const ALGS = ['EdDSA', 'ES256'] as const;
type Alg = (typeof ALGS)[number];

/** One running issuer: a base with an API-Token, and a second instance on its database under another name. */
interface Issuer {
  issuer: string;
  otherIssuer: string;
  base: string;
  otherBase: string;
  apiToken: string;
  /** Exchanged first: by the expiry tests (the last ones) it has expired. */
  early: string;
}

describe('verifying Base-Tokens in other languages, with the snippets in docs/examples/verify/', () => {
  const running: Running[] = [];
  const issuers = {} as Record<Alg, Issuer>;

  const exchange = async ({ issuer, apiToken }: Issuer) => {
    const response = await fetch(`${issuer}/api/v1/base-tokens`, {
      method: 'POST',
      headers: { authorization: `Token ${apiToken}` },
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { base_token: string }).base_token;
  };

  const run = (language: Language, args: string[]) => {
    const [command, before] = language.command();
    return runToEnd(command, [...before, ...args], { ...language.env });
  };

  beforeAll(async () => {
    for (const language of LANGUAGES) {
      if (language.missing && process.env.CI)
        throw new Error(
          `${language.name}: ${language.missing} missing: run scripts/ensure-verifier-toolchains.sh`,
        );
      if (language.missing) console.warn(`skipping ${language.name}: ${language.missing} missing`);
    }
    const kek = randomBytes(32).toString('base64url');
    const serve = async (db: string, extra: Record<string, string>) => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const server = await start(
        'node',
        [inject('cliBundle'), 'serve'],
        {
          PORT: String(port),
          TOKENLADDER_ISSUER: url,
          TOKENLADDER_DB: db,
          TOKENLADDER_KEK: kek,
          TOKENLADDER_SCRYPT: 'ln=12,r=8,p=1',
          ...extra,
        },
        /"listening"/,
        30_000,
      );
      running.push(server);
      return url;
    };

    const startIssuer = async (alg: Alg): Promise<Issuer> => {
      const db = join(dir, `tokenladder-${alg}.db`);
      // The shortest Base-Token lifetime the configuration allows, so one can expire during the test.
      const issuer = await serve(db, {
        TOKENLADDER_SIGNING_ALG: alg,
        TOKENLADDER_BASE_TOKEN_TTL: '60',
        TOKENLADDER_ADMIN_EMAIL: 'admin@example.com',
        TOKENLADDER_ADMIN_PASSWORD: 'a long passphrase for this test',
      });
      // A second instance on the same database, so the same signing keys, under another issuer name.
      const otherIssuer = await serve(db, { TOKENLADDER_SIGNING_ALG: alg });

      const call = jsonCaller(() => issuer);
      const jwks = await call('GET', '/.well-known/jwks.json');
      expect(jwks.body.keys).toEqual([expect.objectContaining({ alg, use: 'sig' })]);
      const signIn = await call('POST', '/api/v1/account-tokens', undefined, {
        email: 'admin@example.com',
        password: 'a long passphrase for this test',
        name: 'verify-langs',
      });
      expect(signIn.status).toBe(201);
      const account = signIn.body.token as string;
      const bases = [];
      for (const name of ['Inventory', 'Other']) {
        const created = await call('POST', '/api/v1/bases', account, { name });
        expect(created.status).toBe(201);
        bases.push(created.body.uuid as string);
      }
      const [base, otherBase] = bases as [string, string];
      const token = await call('POST', `/api/v1/bases/${base}/api-tokens`, account, {
        name: 'verify-langs',
        permission: 'r',
      });
      expect(token.status).toBe(201);
      const started = {
        issuer,
        otherIssuer,
        base,
        otherBase,
        apiToken: token.body.token as string,
        early: '',
      };
      started.early = await exchange(started);
      return started;
    };
    for (const alg of ALGS) issuers[alg] = await startIssuer(alg);

    const go = LANGUAGES.find((language) => language.name.startsWith('Go'))!;
    if (!go.missing) {
      const build = await runToEnd('go', ['build', '-o', goBinary, join(EXAMPLES, 'verify.go')], {
        ...GO,
      });
      expect(build.stderr).toBe('');
      expect(build.status).toBe(0);
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(running.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  for (const alg of ALGS)
    for (const language of LANGUAGES) {
      describe.skipIf(language.missing !== null)(`${language.name}, ${alg} Base-Tokens`, () => {
        const at = () => issuers[alg];

        it('accepts a fresh Base-Token and prints its sub', async () => {
          const token = await exchange(at());
          const sub = claimsOf(token).sub;
          expect(typeof sub).toBe('string');
          const result = await run(language, [at().issuer, at().base, token]);
          expect(result.stderr).toBe('');
          expect(result.stdout).toBe(`${sub}\n`);
          expect(result.status).toBe(0);
        }, 30_000);

        const refuses = async (args: string[], reason: RegExp) => {
          const result = await run(language, args);
          expect(result.status, result.stdout + result.stderr).toBe(1);
          const lines = result.stdout.trimEnd().split('\n');
          expect(lines).toHaveLength(1);
          expect(lines[0]).toMatch(/^rejected: /);
          expect(lines[0]).toMatch(reason);
        };

        it('refuses it for another base (audience)', async () => {
          await refuses([at().issuer, at().otherBase, await exchange(at())], /aud/i);
        }, 30_000);

        it('refuses a tampered signature', async () => {
          const [header, payload, signature] = (await exchange(at())).split('.') as [string, string, string];
          // A character in the middle: the last one may only carry padding bits.
          const flipped = signature[20] === 'A' ? 'B' : 'A';
          const tampered = `${signature.slice(0, 20)}${flipped}${signature.slice(21)}`;
          await refuses([at().issuer, at().base, `${header}.${payload}.${tampered}`], /signature|verif/i);
        }, 30_000);

        it('refuses a typ other than at+jwt, before the signature', async () => {
          const [header, payload, signature] = (await exchange(at())).split('.') as [string, string, string];
          const decoded = JSON.parse(Buffer.from(header, 'base64url').toString());
          expect(decoded).toMatchObject({ alg, typ: 'at+jwt' });
          for (const typ of ['JWT', undefined]) {
            const changed = b64({ ...decoded, typ });
            await refuses([at().issuer, at().base, `${changed}.${payload}.${signature}`], /typ/);
          }
        }, 30_000);

        it("refuses a header alg other than its key's JWK alg, whatever the header says", async () => {
          const [header, payload, signature] = (await exchange(at())).split('.') as [string, string, string];
          const decoded = JSON.parse(Buffer.from(header, 'base64url').toString());
          for (const other of [...ALGS.filter((a) => a !== alg), 'RS256', 'HS256', 'none']) {
            const changed = b64({ ...decoded, alg: other });
            await refuses([at().issuer, at().base, `${changed}.${payload}.${signature}`], /alg/);
          }
        }, 90_000);

        it('refuses another issuer (same keys, another name)', async () => {
          const token = await exchange(at());
          expect(claimsOf(token)).toMatchObject({
            iss: at().issuer,
            aud: `urn:tokenladder:base:${at().base}`,
          });
          await refuses([at().otherIssuer, at().base, token], /iss/i);
        }, 30_000);
      });
    }

  // Last, so the waiting happens once: the first Base-Tokens have a 60-second lifetime.
  describe('an expired Base-Token', () => {
    for (const alg of ALGS)
      for (const language of LANGUAGES) {
        it.skipIf(language.missing !== null)(
          `${alg}: is refused by ${language.name}`,
          async () => {
            const { issuer, base, early } = issuers[alg];
            const exp = claimsOf(early).exp as number;
            const wait = exp * 1000 + 1_500 - Date.now();
            if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
            const result = await run(language, [issuer, base, early]);
            expect(result.status, result.stdout + result.stderr).toBe(1);
            expect(result.stdout).toMatch(/^rejected: .*expir.*\n$/i);
          },
          90_000,
        );
      }
  });
});

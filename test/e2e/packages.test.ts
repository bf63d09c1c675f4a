import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN } from '../helpers/app';
import { ROOT, serveTokenladder, type Running } from '../helpers/processes';

// @tokenladder/verify and @tokenladder/client as another project gets them: `npm pack` (its prepack
// builds dist/), the tarballs installed into a project outside the repository, then used from plain
// Node ESM (against a running server), CommonJS, tsc under NodeNext and Bundler, and an esbuild bundle.
const run = promisify(execFile);

/** npm and tsc without the npm_* settings of the `npm test` that started vitest. */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
const exec = (command: string, args: string[], cwd: string, timeout = 240_000) =>
  run(command, args, { cwd, env: cleanEnv, timeout, maxBuffer: 64 * 1024 * 1024 });
const versionOf = (name: string): string =>
  JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;

interface Packed {
  name: string;
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

/** The whole chain against the server, from plain Node: prints what each step saw as one JSON line. */
const consumerMjs = `
import { createClient, exchange, unwrap } from '@tokenladder/client';
import { BaseTokenError, createBaseTokenVerifier, createRevocationList } from '@tokenladder/verify';
import { baseTokenAuth, requireWrite } from '@tokenladder/verify/hono';
import { Hono } from 'hono';

const [baseUrl, email, password] = process.argv.slice(2);
const anonymous = createClient({ baseUrl });
const signedIn = unwrap(await anonymous.POST('/api/v1/account-tokens', { body: { email, password } }));
const tl = createClient({ baseUrl, token: signedIn.token });
const base = unwrap(await tl.POST('/api/v1/bases', { body: { name: 'Packaged' } }));
const apiToken = unwrap(
  await tl.POST('/api/v1/bases/{uuid}/api-tokens', {
    params: { path: { uuid: base.uuid } },
    body: { name: 'packaged', permission: 'rw' },
  }),
);
const writer = await exchange(anonymous, apiToken.token);
const reader = await exchange(anonymous, apiToken.token, { permission: 'r' });

const revocations = createRevocationList({ url: baseUrl + '/api/v1/revocations' });
await revocations.start();
const verifier = createBaseTokenVerifier({
  issuer: baseUrl,
  jwksUrl: baseUrl + '/.well-known/jwks.json',
  revocations,
  cache: false,
});
const codeOf = (promise) =>
  promise.then(
    () => 'accepted',
    (error) => (error instanceof BaseTokenError ? error.code : 'unexpected ' + error),
  );
const claims = await verifier.verify(writer.base_token, { baseUuid: base.uuid });

const app = new Hono().post(
  '/bases/:base_uuid/rows',
  baseTokenAuth(verifier, { baseUuid: (c) => c.req.param('base_uuid') }),
  requireWrite(),
  (c) => c.json({ sub: c.var.baseToken.sub }),
);
const post = async (token) =>
  (await app.request('/bases/' + base.uuid + '/rows', {
    method: 'POST',
    headers: { authorization: 'Bearer ' + token },
  })).status;
const hono = { writer: await post(writer.base_token), reader: await post(reader.base_token), garbage: await post('garbage') };

unwrap(await anonymous.POST('/api/v1/base-tokens/revoke', { body: { token: writer.base_token } }));
await revocations.sync();
console.log(JSON.stringify({
  sub: claims.sub,
  me: unwrap(await tl.GET('/api/v1/me')).id,
  permission: claims.permission,
  aud: claims.aud,
  base: base.uuid,
  hono,
  malformed: await codeOf(verifier.verify('not-a-jwt', { baseUuid: base.uuid })),
  otherBase: await codeOf(verifier.verify(reader.base_token, { baseUuid: '00000000-0000-4000-8000-000000000000' })),
  revoked: await codeOf(verifier.verify(writer.base_token, { baseUuid: base.uuid })),
  reader: await codeOf(verifier.verify(reader.base_token, { baseUuid: base.uuid })),
}));
revocations.stop();
`;

/** CommonJS: require() of the ES modules (Node >= 20.19's require(esm)); no server needed. */
const consumerCjs = `
const { BaseTokenError, createBaseTokenVerifier } = require('@tokenladder/verify');
const { baseTokenAuth } = require('@tokenladder/verify/hono');
const { createClient, TokenladderError } = require('@tokenladder/client');
const verifier = createBaseTokenVerifier({ issuer: 'https://auth.example', jwks: { keys: [] }, audience: 'x' });
verifier.verify('a.b').then(
  () => console.log('accepted'),
  (error) => console.log(JSON.stringify({
    code: error instanceof BaseTokenError ? error.code : String(error),
    middleware: typeof baseTokenAuth,
    client: typeof createClient({ baseUrl: 'https://auth.example' }).GET,
    error: typeof TokenladderError,
  })),
);
`;

/** Compiled by tsc: the types must resolve (the @ts-expect-error lines fail if they fell back to any). */
const consumerTs = `
import { Hono } from 'hono';
import {
  BaseTokenError,
  createBaseTokenVerifier,
  createRevocationList,
  type BaseTokenClaims,
  type BaseTokenErrorCode,
} from '@tokenladder/verify';
import { baseTokenAuth, requireScope, requireWrite, type BaseTokenEnv } from '@tokenladder/verify/hono';
import { createClient, unwrap, type Schema, type TokenladderClient } from '@tokenladder/client';

const revocations = createRevocationList({ url: 'https://auth.example/api/v1/revocations' });
const verifier = createBaseTokenVerifier({
  issuer: 'https://auth.example',
  jwksUrl: 'https://auth.example/.well-known/jwks.json',
  revocations,
});

export async function check(token: string): Promise<BaseTokenClaims | BaseTokenErrorCode> {
  try {
    return await verifier.verify(token, { baseUuid: '00000000-0000-4000-8000-000000000000' });
  } catch (error) {
    if (error instanceof BaseTokenError) return error.code;
    throw error;
  }
}
// @ts-expect-error: not an error code
export const notACode: BaseTokenErrorCode = 'no_such_code';

export const app = new Hono<BaseTokenEnv>()
  .get('/bases/:base_uuid', baseTokenAuth(verifier), requireScope('records:read'), (c) =>
    c.json({ sub: c.var.baseToken.sub, permission: c.var.baseToken.permission }),
  )
  .post('/bases/:base_uuid', baseTokenAuth(verifier), requireWrite(), (c) => c.body(null, 204));

const client: TokenladderClient = createClient({ baseUrl: 'https://auth.example', token: 'x' });
export async function bases(): Promise<Schema<'Base'>[]> {
  return unwrap(await client.GET('/api/v1/bases')).bases;
}
// @ts-expect-error: not a path of the API
export const wrongPath = () => client.GET('/api/v1/no-such-path');
`;

/** What a Workers/Deno/Bun-style bundler sees: the browser/worker conditions, no Node built-ins. */
const bundleEntry = `
import { BaseTokenError, createBaseTokenVerifier } from '@tokenladder/verify';
import { baseTokenAuth } from '@tokenladder/verify/hono';
import { createClient } from '@tokenladder/client';
const verifier = createBaseTokenVerifier({ issuer: 'https://auth.example', jwks: { keys: [] }, audience: 'x' });
const code = await verifier.verify('a.b').then(() => 'accepted', (e) => (e instanceof BaseTokenError ? e.code : String(e)));
console.log(JSON.stringify({ code, middleware: typeof baseTokenAuth, client: typeof createClient }));
`;

const tsconfig = (options: Record<string, unknown>) =>
  JSON.stringify({
    compilerOptions: { target: 'ES2022', strict: true, noEmit: true, ...options },
    files: ['consumer.ts'],
  });

describe('the libraries as packages another project installs', () => {
  const work = mkdtempSync(join(tmpdir(), 'tokenladder-packages-'));
  const project = join(work, 'consumer');
  let packed: Packed[];
  let server: Running & { url: string };
  const tsc = (config: string) =>
    exec(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config], project);

  beforeAll(async () => {
    const packing = await exec(
      'npm',
      [
        'pack',
        '--json',
        '--pack-destination',
        work,
        '--workspace',
        'packages/verify',
        '--workspace',
        'packages/client',
      ],
      ROOT,
    );
    packed = JSON.parse(packing.stdout);
    // The stdout of `npm pack --json` is the JSON only; the build's output went to stderr.
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    await exec(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        ...packed.map((p) => join(work, p.filename)),
        `hono@${versionOf('hono')}`,
        `@types/node@${versionOf('@types/node')}`,
      ],
      project,
    );
    server = await serveTokenladder({
      TOKENLADDER_DB: join(work, 'packages.db'),
      TOKENLADDER_SCRYPT: 'ln=10,r=8,p=1',
      TOKENLADDER_ADMIN_EMAIL: ADMIN.email,
      TOKENLADDER_ADMIN_PASSWORD: ADMIN.password,
    });
  }, 400_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('packs only the built library, its README and LICENSE', () => {
    expect(packed.map((p) => p.name)).toEqual(['@tokenladder/verify', '@tokenladder/client']);
    for (const { name, files, size, unpackedSize } of packed) {
      const paths = files.map((file) => file.path);
      expect(paths, name).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE']));
      expect(paths, name).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts']));
      for (const path of paths)
        expect(path, name).toMatch(/^(?:package\.json|README\.md|LICENSE|dist\/[\w-]+\.(?:js|d\.ts))$/);
      expect(size, name).toBeLessThan(64 * 1024);
      console.log(`${name}: ${files.length} files, ${size} B packed, ${unpackedSize} B unpacked`);
    }
    expect(packed[0]!.files.map((file) => file.path)).toEqual(
      expect.arrayContaining(['dist/hono.js', 'dist/hono.d.ts']),
    );
  });

  it('installs nothing of the server: the verifier brings jose, the client openapi-fetch', () => {
    const installed = readdirSync(join(project, 'node_modules'))
      .filter((name) => !name.startsWith('.'))
      .flatMap((name) =>
        name.startsWith('@')
          ? readdirSync(join(project, 'node_modules', name)).map((inner) => `${name}/${inner}`)
          : [name],
      )
      .sort();
    // hono and @types/node (with undici-types) are the consumer's own choices.
    expect(installed).toEqual([
      '@tokenladder/client',
      '@tokenladder/verify',
      '@types/node',
      'hono',
      'jose',
      'openapi-fetch',
      'openapi-typescript-helpers',
      'undici-types',
    ]);
  });

  it('runs under plain Node ESM against the running server: verifies, refuses, revokes', async () => {
    writeFileSync(join(project, 'consumer.mjs'), consumerMjs);
    const { stdout } = await exec(
      process.execPath,
      ['consumer.mjs', server.url, ADMIN.email, ADMIN.password],
      project,
      60_000,
    );
    const seen = JSON.parse(stdout);
    expect(seen).toEqual({
      sub: seen.me,
      me: expect.any(String),
      permission: 'rw',
      aud: `urn:tokenladder:base:${seen.base}`,
      base: expect.any(String),
      hono: { writer: 200, reader: 403, garbage: 401 },
      malformed: 'token_malformed',
      otherBase: 'token_audience_mismatch',
      revoked: 'token_revoked',
      reader: 'accepted',
    });
  }, 60_000);

  it('loads through require() from CommonJS', async () => {
    writeFileSync(join(project, 'consumer.cjs'), consumerCjs);
    const { stdout } = await exec(process.execPath, ['consumer.cjs'], project, 30_000);
    expect(JSON.parse(stdout)).toEqual({
      code: 'token_malformed',
      middleware: 'function',
      client: 'function',
      error: 'function',
    });
  }, 30_000);

  it('type-checks under TypeScript NodeNext, strict, including the packages’ .d.ts', async () => {
    writeFileSync(join(project, 'consumer.ts'), consumerTs);
    writeFileSync(
      join(project, 'tsconfig.nodenext.json'),
      tsconfig({ module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], skipLibCheck: false }),
    );
    await expect(tsc('tsconfig.nodenext.json')).resolves.toMatchObject({ stdout: '' });
  }, 180_000);

  it('type-checks under TypeScript Bundler resolution, without Node types', async () => {
    writeFileSync(join(project, 'consumer.ts'), consumerTs);
    writeFileSync(
      join(project, 'tsconfig.bundler.json'),
      tsconfig({
        module: 'ESNext',
        moduleResolution: 'Bundler',
        lib: ['ES2022', 'DOM'],
        types: [],
        skipLibCheck: true,
      }),
    );
    await expect(tsc('tsconfig.bundler.json')).resolves.toMatchObject({ stdout: '' });
  }, 180_000);

  it('bundles with esbuild under the Workers conditions, with no Node built-in, and the bundle runs', async () => {
    writeFileSync(join(project, 'bundle-entry.mjs'), bundleEntry);
    const outfile = join(project, 'bundle.mjs');
    const result = await build({
      absWorkingDir: project,
      entryPoints: ['bundle-entry.mjs'],
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      mainFields: ['module', 'main'],
      conditions: ['workerd', 'worker', 'browser'],
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((input) => input.includes('node_modules/@tokenladder/'))).toEqual(
      expect.arrayContaining([
        'node_modules/@tokenladder/verify/dist/index.js',
        'node_modules/@tokenladder/verify/dist/hono.js',
        'node_modules/@tokenladder/client/dist/index.js',
      ]),
    );
    const { stdout } = await exec(process.execPath, [outfile], project, 30_000);
    expect(JSON.parse(stdout)).toEqual({
      code: 'token_malformed',
      middleware: 'function',
      client: 'function',
    });
  }, 60_000);
});

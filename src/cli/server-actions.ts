// What the server commands do (serve, migrate, user create, keys, audit): they open the database
// directly. Loaded only when one of them runs (src/cli/server-commands.ts imports this lazily), so
// `tokenladder --version`, `--help` and the client commands never load the server (kysely, zod, hono).
import { OPERATOR } from '../accounts/operator';
import { createUser } from '../accounts/users';
import type { Role } from '../store/schema';
import { checkAuditChain } from '../audit/query';
import { isoTime } from '../clock';
import { appConfigFromEnv, parseEnv } from '../config';
import { listSigningKeys, rotateSigningKey } from '../keys/admin';
import type { SigningAlg } from '../keys/signing-keys';
import { base64url, randomBytes } from '../lib/bytes';
import { startServer } from '../node';
import { openStore } from '../runtime/node/database';
import { createNodeDeps } from '../runtime/node/deps';
import { loadKek } from '../runtime/node/kek';
import { printJson, printTable } from './output';
import { readStdin } from './prompt';

/** Opens the configured database with full dependencies for a one-off command, and closes it after. */
async function withDeps<T>(
  task: (deps: Awaited<ReturnType<typeof createNodeDeps>>) => Promise<T>,
): Promise<T> {
  const env = parseEnv(process.env);
  const store = await openStore(env);
  try {
    return await task(
      await createNodeDeps({ store, kek: await loadKek(env, store), config: appConfigFromEnv(env) }),
    );
  } finally {
    await store.close();
  }
}

export async function serve(): Promise<void> {
  await startServer();
}

export async function migrate(): Promise<void> {
  const { applied, close } = await openStore(parseEnv(process.env));
  await close();
  console.log(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'database is up to date');
}

export async function userCreate(options: {
  email: string;
  role: Role;
  name?: string;
  team?: string;
  passwordStdin?: boolean;
}): Promise<void> {
  const password = options.passwordStdin ? await readStdin() : base64url(randomBytes(24));
  const created = await withDeps((deps) =>
    createUser(deps, OPERATOR, {
      email: options.email,
      password,
      role: options.role,
      name: options.name,
      team_id: options.team ?? null,
    }),
  );
  console.log(`created ${created.role} ${created.email} (id ${created.id})`);
  if (!options.passwordStdin) console.log(`password (shown only this once): ${password}`);
}

export async function keysList(options: { json?: boolean }): Promise<void> {
  const rows = await withDeps((deps) => listSigningKeys(deps, OPERATOR));
  if (options.json)
    // The command's own JSON: the database's column names, epoch seconds.
    return printJson(
      rows.map((row) => ({
        kid: row.kid,
        alg: row.alg,
        state: row.state,
        created_at: row.createdAt,
        activated_at: row.activatedAt,
        retired_at: row.retiredAt,
      })),
    );
  printTable(
    ['kid', 'alg', 'state', 'created_at', 'activated_at', 'retired_at'],
    rows.map((row) => [
      row.kid,
      row.alg,
      row.state,
      isoTime(row.createdAt),
      isoTime(row.activatedAt),
      isoTime(row.retiredAt),
    ]),
    'no signing keys',
  );
}

export async function keysRotate(options: {
  delay?: number;
  revokeOld?: boolean;
  alg?: SigningAlg;
}): Promise<void> {
  const key = await withDeps((deps) =>
    rotateSigningKey(deps, OPERATOR, {
      activateAfterSeconds: options.delay ?? deps.config.keyActivationDelaySeconds,
      revokeOld: options.revokeOld ?? false,
      alg: options.alg,
    }),
  );
  console.log(`new key ${key.kid} (${key.state}), ${key.alg}, signs from ${isoTime(key.activatedAt)}`);
  if (options.revokeOld)
    console.log('the old key is deleted; verifiers drop it when they next fetch the JWKS');
}

export async function auditVerify(options: { json?: boolean }): Promise<void> {
  const report = await withDeps((deps) => checkAuditChain(deps, OPERATOR));
  if (options.json) printJson(report);
  else if (report.ok) {
    console.log(
      `audit chain ok: ${report.checked} records (seq ${report.first ?? '-'}..${report.last ?? '-'})`,
    );
    if (report.anchoredAt)
      console.log(`older records were removed by retention; the chain is anchored at ${report.anchoredAt}`);
  } else
    console.error(
      `audit chain BROKEN at seq ${report.broken!.seq} (${report.broken!.reason}); ${report.checked} records before it are intact`,
    );
  if (!report.ok) process.exitCode = 1;
}

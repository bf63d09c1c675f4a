// The `tokenladder` command: serve, migrate, create users, list signing keys; and the client commands (src/cli/).
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { createUser, ROLES } from './accounts/users';
import { OPERATOR } from './accounts/operator';
import { checkAuditChain } from './audit/query';
import { isoTime } from './clock';
import { registerClientCommands } from './cli/client-commands';
import { describeError, exitCodeOf } from './cli/exit-codes';
import { registerOpsCommands } from './cli/ops-commands';
import { appConfigFromEnv, parseEnv, VERSION } from './config';
import { listSigningKeys, rotateSigningKey } from './keys/admin';
import { base64url, randomBytes } from './lib/bytes';
import { startServer } from './node';
import { openDatabase } from './runtime/node/database';
import { createNodeDeps } from './runtime/node/deps';
import { loadKek } from './runtime/node/kek';

/** Opens the configured database with full dependencies for a one-off command, and closes it after. */
async function withDeps<T>(
  task: (deps: Awaited<ReturnType<typeof createNodeDeps>>) => Promise<T>,
): Promise<T> {
  const env = parseEnv(process.env);
  const { raw } = openDatabase(env);
  try {
    return await task(
      await createNodeDeps({ raw, kek: await loadKek(env, raw), config: appConfigFromEnv(env) }),
    );
  } finally {
    raw.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

const program = new Command('tokenladder')
  .description(
    'Token-hierarchy authentication service. Configuration comes from TOKENLADDER_* environment variables (see README).',
  )
  .version(VERSION)
  .exitOverride();

program
  .command('serve', { isDefault: true })
  .description('run the HTTP service (migrates the database first)')
  .action(async () => {
    await startServer();
  });

program
  .command('migrate')
  .description('apply pending migrations to TOKENLADDER_DB and exit')
  .action(() => {
    const { raw, applied } = openDatabase(parseEnv(process.env));
    raw.close();
    console.log(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'database is up to date');
  });

const user = program.command('user').description('manage users directly in the database');
user
  .command('create')
  .description(
    'create a user; the password is read from stdin with --password-stdin, else generated and printed once',
  )
  .requiredOption('--email <email>', 'email address (the login)')
  .addOption(new Option('--role <role>', 'role').choices(ROLES).default('user'))
  .option('--name <name>', 'display name')
  .option('--team <team_id>', 'team id')
  .option('--password-stdin', 'read the password from standard input')
  .action(
    async (options: {
      email: string;
      role: (typeof ROLES)[number];
      name?: string;
      team?: string;
      passwordStdin?: boolean;
    }) => {
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
    },
  );

const keys = program.command('keys').description('signing keys');
keys
  .command('list')
  .description('list signing keys and their states')
  .option('--json', 'machine-readable output')
  .action(async (options: { json?: boolean }) => {
    const rows = await withDeps((deps) => listSigningKeys(deps, OPERATOR));
    if (options.json) {
      // The command's own JSON: the database's column names, epoch seconds.
      const json = rows.map((row) => ({
        kid: row.kid,
        alg: row.alg,
        state: row.state,
        created_at: row.createdAt,
        activated_at: row.activatedAt,
        retired_at: row.retiredAt,
      }));
      return console.log(JSON.stringify(json, null, 2));
    }
    console.table(
      rows.map((row) => ({
        kid: row.kid,
        alg: row.alg,
        state: row.state,
        created: isoTime(row.createdAt),
        retired: isoTime(row.retiredAt),
      })),
    );
  });

keys
  .command('rotate')
  .description(
    'publish a new signing key now; it signs after --delay seconds (default TOKENLADDER_KEY_ACTIVATION_DELAY); --revoke-old: sign with it at once and delete the old key',
  )
  .option('--delay <seconds>', 'seconds before the new key signs', (value) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError('a whole number of seconds');
    return Number(value);
  })
  .option('--revoke-old', 'emergency: the old key is compromised')
  .action(async (options: { delay?: number; revokeOld?: boolean }) => {
    const key = await withDeps((deps) =>
      rotateSigningKey(deps, OPERATOR, {
        activateAfterSeconds: options.delay ?? deps.config.keyActivationDelaySeconds,
        revokeOld: options.revokeOld ?? false,
      }),
    );
    console.log(`new key ${key.kid} (${key.state}), signs from ${isoTime(key.activatedAt)}`);
    if (options.revokeOld)
      console.log('the old key is deleted; verifiers drop it when they next fetch the JWKS');
  });

const audit = program.command('audit').description('the audit log');
audit
  .command('verify')
  .description(
    'recompute the audit log hash chain; exit 1 and name the first bad record if it was edited, deleted or inserted',
  )
  .option('--json', 'machine-readable output')
  .action(async (options: { json?: boolean }) => {
    const report = await withDeps((deps) => checkAuditChain(deps, OPERATOR));
    if (options.json) console.log(JSON.stringify(report, null, 2));
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
  });

registerClientCommands(program);
registerOpsCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Help and version exit 0, usage errors 2 (commander already printed them); see src/cli/exit-codes.ts.
  if (!(error instanceof CommanderError)) console.error(`tokenladder: ${describeError(error)}`);
  process.exit(exitCodeOf(error));
}

// The server commands: serve, migrate, user create, keys, audit. They open TOKENLADDER_DB directly,
// unlike the client commands (src/cli/client-commands.ts), which talk to a running server.
// Each action imports its implementation (src/cli/server-actions.ts) when it runs: loading the
// server costs about a second, which --version, --help and the client commands must not pay.
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { SigningAlg } from '../keys/signing-keys';
import type { Role } from '../store/schema';

/** The roles `user create --role` accepts (the type check keeps it equal to the server's list). */
const ROLES = ['user', 'team_admin', 'system_admin'] as const satisfies readonly Role[];
type AllRoles = Role extends (typeof ROLES)[number] ? true : never;
const allRoles: AllRoles = true;
void allRoles;

/** The algorithms `keys rotate --alg` accepts: the server's SIGNING_ALGS, spelled here so --help loads no jose. */
const SIGNING_ALGS = ['EdDSA', 'ES256', 'RS256'] as const satisfies readonly SigningAlg[];
type AllAlgs = SigningAlg extends (typeof SIGNING_ALGS)[number] ? true : never;
const allAlgs: AllAlgs = true;
void allAlgs;

const actions = () => import('./server-actions');

export function registerServerCommands(program: Command) {
  program
    .command('serve')
    .description('run the HTTP service (migrates the database first)')
    .action(async () => (await actions()).serve());

  program
    .command('migrate')
    .description(
      'apply pending migrations to the database (TOKENLADDER_DB, or TOKENLADDER_DATABASE_URL) and exit',
    )
    .action(async () => (await actions()).migrate());

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
    .action(async (options) => (await actions()).userCreate(options));

  const keys = program.command('keys').description('signing keys');
  keys
    .command('list')
    .description('list signing keys and their states')
    .option('--json', 'machine-readable output')
    .action(async (options) => (await actions()).keysList(options));
  keys
    .command('rotate')
    .description(
      'publish a new signing key now; it signs after --delay seconds (default TOKENLADDER_KEY_ACTIVATION_DELAY); --revoke-old: sign with it at once and delete the old key; --alg: its algorithm (default TOKENLADDER_SIGNING_ALG)',
    )
    .option('--delay <seconds>', 'seconds before the new key signs', (value) => {
      if (!/^\d+$/.test(value)) throw new InvalidArgumentError('a whole number of seconds');
      return Number(value);
    })
    .option('--revoke-old', 'emergency: the old key is compromised')
    .addOption(
      new Option('--alg <alg>', "the new key's algorithm (default TOKENLADDER_SIGNING_ALG)").choices(
        SIGNING_ALGS,
      ),
    )
    .action(async (options) => (await actions()).keysRotate(options));

  const audit = program.command('audit').description('the audit log');
  audit
    .command('verify')
    .description(
      'recompute the audit log hash chain; exit 1 and name the first bad record if it was edited, deleted or inserted',
    )
    .option('--json', 'machine-readable output')
    .action(async (options) => (await actions()).auditVerify(options));
}

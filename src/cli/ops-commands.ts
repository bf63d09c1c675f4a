// `tokenladder backup <file>`, `tokenladder restore <file>`, `tokenladder migrate-store --to <url>` and
// `tokenladder introspection-client <id>`. What they do is in src/cli/ops-actions.ts (and
// src/cli/oauth.ts), imported only when one of them runs, so the CLI's start stays light.
import type { Command } from 'commander';

const actions = () => import('./ops-actions');

export function registerOpsCommands(program: Command): void {
  program
    .command('backup')
    .description(
      'copy TOKENLADDER_DB to <file> while the server runs (SQLite backup API: consistent, WAL-safe); the KEK is not in it',
    )
    .argument('<file>', 'where to write the backup (must not exist)')
    .action(async (file: string) => (await actions()).backup(file));

  program
    .command('restore')
    .description(
      'replace TOKENLADDER_DB with <file> after checking its integrity, schema version and audit chain; stop the server first',
    )
    .argument('<file>', 'a backup written by `tokenladder backup`')
    .action(async (file: string) => (await actions()).restore(file));

  program
    .command('migrate-store')
    .description(
      'copy everything in TOKENLADDER_DB (SQLite) into an empty PostgreSQL database, checked (every row, the audit chain) before it commits; stop the server first',
    )
    .requiredOption('--to <url>', 'the PostgreSQL database (postgres://user:password@host:port/database)')
    .action(async (options: { to: string }) => (await import('./migrate-store')).migrateStore(options));

  program
    .command('introspection-client')
    .description(
      'make credentials for a resource server (a gateway such as Kong or nginx) that may call /oauth/introspect: prints a new secret once and its TOKENLADDER_INTROSPECTION_CLIENTS entry (<id>:<SHA-256 hex>)',
    )
    .argument('<id>', 'the resource server: 1 to 64 letters, digits, dots, _ or -')
    .option('--json', 'machine-readable JSON output')
    .action(async (id: string, options: { json?: boolean }) =>
      (await import('./oauth')).introspectionClient(id, options),
    );
}

import { Option, type Command } from 'commander';
import type { Schema } from '../client';
import { clientOptions, signedInClient, type ClientOptions } from './context';
import { ok } from './http';
import { printJson, printTable } from './output';

type ApiToken = Schema<'ApiToken'>;

const status = (token: ApiToken) => (!token.enabled ? 'disabled' : token.expired ? 'expired' : 'active');
const reach = (token: ApiToken) => {
  const { resources } = token;
  if (resources.type === 'base') return resources.base_uuid;
  if (resources.type === 'bases') return `${resources.base_uuids.length} bases`;
  return resources.type === 'workspace' ? `workspace ${resources.workspace_id}` : 'all bases';
};

/** Lists never carry a secret: the server sends none, and only these columns are printed. */
function printTokens(tokens: ApiToken[]) {
  printTable(
    ['id', 'name', 'permission', 'base', 'status', 'expires_at', 'last_used_at'],
    tokens.map((token) => [
      token.id,
      token.name,
      token.scopes ? `${token.permission} (scopes)` : token.permission,
      reach(token),
      status(token),
      token.expires_at ?? 'never',
      token.last_used_at,
    ]),
    'no API-Tokens',
  );
}

/** The secret is printed here and by `regenerate`, once; `--json` includes it as `token`. */
function printSecret(verb: string, token: ApiToken & { token: string }, json?: boolean) {
  if (json) return printJson(token);
  console.log(
    `${verb} API-Token ${token.name} (${token.id}), ${token.permission} on ${reach(token)}, expires ${token.expires_at ?? 'never'}`,
  );
  if (token.allowed_networks) console.log(`only from: ${token.allowed_networks.join(', ')}`);
  console.log(`secret (shown only this once): ${token.token}`);
}

/** `api-tokens list|create|delete|regenerate|disable|enable`. */
export function registerApiTokenCommands(
  program: Command,
  parseDays: (value: string) => number,
  parseSeconds: (value: string) => number,
) {
  const apiTokens = program.command('api-tokens').description('API-Tokens for scripts and integrations');

  clientOptions(
    apiTokens
      .command('list')
      .description('the API-Tokens you may manage (never their secrets)')
      .option('--base <uuid>', 'only tokens for this base')
      .addOption(
        new Option('--status <status>', 'only tokens in this state').choices([
          'active',
          'expired',
          'disabled',
        ]),
      ),
  ).action(async (options: ClientOptions & { base?: string; status?: 'active' | 'expired' | 'disabled' }) => {
    const { api_tokens } = ok(
      await signedInClient(options).GET('/api/v1/api-tokens', {
        params: { query: { base_uuid: options.base, status: options.status } },
      }),
    );
    if (options.json) return printJson(api_tokens);
    printTokens(api_tokens);
  });

  clientOptions(
    apiTokens
      .command('create')
      .description('create an API-Token for one base; prints its secret once')
      .requiredOption('--base <uuid>', 'the base')
      .addOption(
        new Option('--permission <permission>', 'read (r) or read-write (rw)')
          .choices(['r', 'rw'])
          .makeOptionMandatory(),
      )
      .requiredOption('--name <name>', 'a name, unique per base')
      .option(
        '--expires-in-days <days>',
        'expiry in days (default: never, unless the token policy requires one)',
        parseDays,
      )
      .option(
        '--allow-network <cidr>',
        'only usable from this network (IPv4/IPv6 CIDR or address); repeat for several (default: any)',
        (value: string, previous: string[] = []) => [...previous, value],
      ),
  ).action(
    async (
      options: ClientOptions & {
        base: string;
        permission: 'r' | 'rw';
        name: string;
        expiresInDays?: number;
        allowNetwork?: string[];
      },
    ) => {
      const created = ok(
        await signedInClient(options).POST('/api/v1/bases/{uuid}/api-tokens', {
          params: { path: { uuid: options.base } },
          body: {
            name: options.name,
            permission: options.permission,
            expires_in_days: options.expiresInDays,
            allowed_networks: options.allowNetwork,
          },
        }),
      );
      printSecret('created', created, options.json);
    },
  );

  clientOptions(
    apiTokens.command('delete').description('revoke an API-Token at once').argument('<id>', 'the token id'),
  ).action(async (id: string, options: ClientOptions) => {
    ok(await signedInClient(options).DELETE('/api/v1/api-tokens/{id}', { params: { path: { id } } }));
    if (options.json) return printJson({ id, deleted: true });
    console.log(`deleted API-Token ${id}`);
  });

  clientOptions(
    apiTokens
      .command('regenerate')
      .description('new secret, same id, name and grant; prints it once')
      .argument('<id>', 'the token id')
      .option('--grace-seconds <seconds>', 'keep the old secret working this long (default 0)', parseSeconds),
  ).action(async (id: string, options: ClientOptions & { graceSeconds?: number }) => {
    const regenerated = ok(
      await signedInClient(options).POST('/api/v1/api-tokens/{id}/regenerate', {
        params: { path: { id } },
        body: { grace_seconds: options.graceSeconds },
      }),
    );
    printSecret('regenerated', regenerated, options.json);
  });

  for (const [name, enabled] of [
    ['disable', false],
    ['enable', true],
  ] as const) {
    clientOptions(
      apiTokens
        .command(name)
        .description(`${name} an API-Token without deleting it`)
        .argument('<id>', 'the token id'),
    ).action(async (id: string, options: ClientOptions) => {
      const token = ok(
        await signedInClient(options).PATCH('/api/v1/api-tokens/{id}', {
          params: { path: { id } },
          body: { enabled },
        }),
      );
      if (options.json) return printJson(token);
      console.log(`${name}d API-Token ${token.name} (${token.id})`);
    });
  }
}

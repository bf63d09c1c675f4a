import { Option, type Command } from 'commander';
import { anonymousClient, clientOptions, serverOf, signedInClient, type ClientOptions } from './context';
import { CliError, EXIT } from './exit-codes';
import { ok } from './http';
import { oauthExchange } from './oauth';
import { printFields, printJson } from './output';
import { readStdin } from './prompt';

interface ExchangeOptions extends ClientOptions {
  base?: string;
  permission?: 'r' | 'rw';
  table?: string;
  ttl?: number;
  apiTokenStdin?: boolean;
  oauth?: boolean;
  resource?: string;
  scope?: string;
}

/** `exchange` (API-Token or Account-Token → Base-Token) and `verify` (src/cli/verify-command.ts). */
export function registerBaseTokenCommands(program: Command, parseSeconds: (value: string) => number) {
  clientOptions(
    program
      .command('exchange')
      .description(
        'print a Base-Token: for the API-Token from --api-token-stdin or TOKENLADDER_API_TOKEN, else for your Account-Token and --base',
      )
      .option('--base <uuid>', 'the base (required with an Account-Token or a multi-base API-Token)')
      .addOption(new Option('--permission <permission>', 'ask for less: r').choices(['r', 'rw']))
      .option('--table <id>', 'ask for one table only')
      .option('--ttl <seconds>', 'ask for a shorter lifetime', parseSeconds)
      .option('--api-token-stdin', 'read the API-Token from standard input')
      .option('--oauth', 'through the OAuth token endpoint (POST /oauth/token, RFC 8693 token exchange)')
      .option('--resource <uri>', 'with --oauth: the base, urn:tokenladder:base:<uuid> (or --base)')
      .option(
        '--scope <scopes>',
        'with --oauth: ask for less, e.g. "records:read comments:read" (docs/oauth.md)',
      ),
  ).action(async (options: ExchangeOptions) => {
    if (!options.oauth && (options.resource !== undefined || options.scope !== undefined))
      throw new CliError('--resource and --scope go with --oauth', EXIT.usage, {
        hint: 'add --oauth, or use --base, --permission and --table',
      });
    const request = {
      base_uuid: options.base,
      permission: options.permission,
      table: options.table,
      ttl: options.ttl,
    };
    const apiToken = options.apiTokenStdin ? (await readStdin()).trim() : process.env.TOKENLADDER_API_TOKEN;
    if (options.oauth) return oauthExchange(options, apiToken || undefined);
    let issued: { base_token: string };
    if (apiToken) {
      issued = ok(
        await anonymousClient(options).POST('/api/v1/base-tokens', {
          headers: { authorization: `Token ${apiToken}` },
          body: request,
        }),
        'api-token',
      );
    } else {
      if (!options.base)
        throw new CliError('exchanging your Account-Token needs --base', EXIT.usage, {
          hint: 'or give an API-Token: --api-token-stdin, TOKENLADDER_API_TOKEN',
        });
      // The signed-in client sends the Account-Token as Bearer; the exchange accepts it with base_uuid.
      issued = ok(await signedInClient(options).POST('/api/v1/base-tokens', { body: request }));
    }
    if (options.json) return printJson(issued);
    process.stdout.write(`${issued.base_token}\n`);
  });

  clientOptions(
    program
      .command('verify')
      .description(
        "verify a Base-Token against the server's JWKS and revocation feed and print its claims; exit 1 invalid, 4 revoked, 5 could not check",
      )
      .argument('<jwt>', 'the Base-Token, or - to read it from standard input')
      .option('--base <uuid>', 'require this base (default: the base the token names)'),
  ).action(async (jwt: string, options: ClientOptions & { base?: string }) => {
    const token = jwt === '-' ? (await readStdin()).trim() : jwt.trim();
    const { verifyBaseToken } = await import('./verify-command');
    const verdict = await verifyBaseToken(token, serverOf(options), options);
    if (options.json) return printJson(verdict);
    const { claims } = verdict;
    printFields({
      valid: 'yes',
      revoked: `no (revocation feed read ${verdict.revocations_checked_at})`,
      base_uuid: claims.base_uuid,
      permission: claims.permission,
      scopes: claims.scp ? JSON.stringify(claims.scp) : undefined,
      sub: claims.sub,
      token_type: claims.token_type,
      token_name: claims.token_name,
      client_id: claims.client_id,
      issued_at: new Date(claims.iat * 1000).toISOString(),
      expires_at: new Date(claims.exp * 1000).toISOString(),
      iss: claims.iss,
      jti: claims.jti,
    });
  });
}

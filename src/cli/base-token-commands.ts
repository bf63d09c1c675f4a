import { decodeJwt } from 'jose';
import { Option, type Command } from 'commander';
import { anonymousClient, clientOptions, serverOf, signedInClient, type ClientOptions } from './context';
import { exchange, unwrap } from '../client';
import { BaseTokenError, createBaseTokenVerifier } from '../verify';
import { CliError, EXIT } from './exit-codes';
import { printFields, printJson } from './output';
import { readStdin } from './prompt';

interface ExchangeOptions extends ClientOptions {
  base?: string;
  permission?: 'r' | 'rw';
  table?: string;
  ttl?: number;
  apiTokenStdin?: boolean;
}

const time = (seconds: number) => new Date(seconds * 1000).toISOString();

/** `exchange` (API-Token or Account-Token → Base-Token) and `verify` (offline, against the server's JWKS). */
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
      .option('--api-token-stdin', 'read the API-Token from standard input'),
  ).action(async (options: ExchangeOptions) => {
    const request = {
      base_uuid: options.base,
      permission: options.permission,
      table: options.table,
      ttl: options.ttl,
    };
    const apiToken = options.apiTokenStdin ? (await readStdin()).trim() : process.env.TOKENLADDER_API_TOKEN;
    let issued: Awaited<ReturnType<typeof exchange>>;
    if (apiToken) {
      issued = await exchange(anonymousClient(options), apiToken, request);
    } else {
      if (!options.base)
        throw new CliError(
          'exchanging your Account-Token needs --base (or give an API-Token: --api-token-stdin, TOKENLADDER_API_TOKEN)',
          EXIT.usage,
        );
      // The signed-in client sends the Account-Token as Bearer; the exchange accepts it with base_uuid.
      issued = unwrap(await signedInClient(options).POST('/api/v1/base-tokens', { body: request }));
    }
    if (options.json) return printJson(issued);
    process.stdout.write(`${issued.base_token}\n`);
  });

  clientOptions(
    program
      .command('verify')
      .description(
        "verify a Base-Token offline against the server's JWKS and print its claims; exit code 1 when invalid",
      )
      .argument('<jwt>', 'the Base-Token, or - to read it from standard input')
      .option('--base <uuid>', 'require this base (default: the base the token names)'),
  ).action(async (jwt: string, options: ClientOptions & { base?: string }) => {
    const token = jwt === '-' ? (await readStdin()).trim() : jwt;
    const server = serverOf(options);
    const info = unwrap(await anonymousClient(options).GET('/api/v1/server-info'));
    const invalid = (code: string, message: string) => {
      if (options.json) printJson({ valid: false, code, message });
      return new CliError(`invalid Base-Token: ${message} (${code})`, EXIT.failure);
    };
    let audience: string | undefined;
    if (!options.base) {
      try {
        audience = decodeJwt(token).aud as string | undefined;
      } catch {
        throw invalid('token_malformed', 'not a JWT');
      }
      if (typeof audience !== 'string' || !audience.startsWith(info.base_token.audience_prefix))
        throw invalid('token_audience_mismatch', 'the token names no tokenladder base');
    }
    // Keys from the server the user chose; the issuer it reports must be the token's.
    const verifier = createBaseTokenVerifier({
      issuer: info.issuer,
      jwksUrl: `${server}/.well-known/jwks.json`,
      lifetimeSeconds: info.base_token.lifetime_seconds,
      cache: false,
    });
    try {
      const claims = await verifier.verify(
        token,
        options.base ? { baseUuid: options.base } : { audience: audience! },
      );
      if (options.json) return printJson({ valid: true, claims });
      printFields({
        valid: 'yes',
        base_uuid: claims.base_uuid,
        permission: claims.permission,
        scopes: claims.scp ? JSON.stringify(claims.scp) : undefined,
        sub: claims.sub,
        token_type: claims.token_type,
        token_name: claims.token_name,
        client_id: claims.client_id,
        issued_at: time(claims.iat),
        expires_at: time(claims.exp),
        iss: claims.iss,
        jti: claims.jti,
      });
    } catch (error) {
      if (error instanceof BaseTokenError) throw invalid(error.code, error.message);
      throw error;
    }
  });
}

// The OAuth side of the CLI: `exchange --oauth` (the token endpoint, RFC 8693 token exchange) and
// `introspection-client <id>` (a resource server's credentials for TOKENLADDER_INTROSPECTION_CLIENTS).
// Web Crypto and the typed client only: nothing here may slow the CLI's start.
import { anonymousClient, serverOf, type ClientOptions } from './context';
import { accountToken } from './credentials';
import { CliError, EXIT, type ExitCode } from './exit-codes';
import { requestOf } from './http';
import { printFields, printJson } from './output';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const BASE_RESOURCE = 'urn:tokenladder:base:';

export interface OAuthExchangeOptions extends ClientOptions {
  base?: string;
  resource?: string;
  scope?: string;
  permission?: string;
  table?: string;
  ttl?: number;
}

/** What `POST /oauth/token` answers. */
export interface OAuthTokenAnswer {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  issued_token_type?: string;
}

/**
 * `exchange --oauth`: the same Base-Token through `POST /oauth/token`, as an OAuth client gets it:
 * token exchange with the API-Token (or, without one, the Account-Token) as the subject token,
 * `--resource` (or `--base`) naming the base, `--scope` asking for less.
 */
export async function oauthExchange(options: OAuthExchangeOptions, apiToken: string | undefined) {
  const native = (['permission', 'table', 'ttl'] as const).filter((name) => options[name] !== undefined);
  if (native.length > 0)
    throw new CliError(`--${native[0]} is the native exchange's; with --oauth ask with --scope`, EXIT.usage, {
      hint: 'e.g. --scope base:r, --scope "records:read table:<id>"',
    });
  if (options.base !== undefined && options.resource !== undefined)
    throw new CliError('--base or --resource, not both', EXIT.usage, {
      hint: `--base <uuid> is --resource ${BASE_RESOURCE}<uuid>`,
    });
  const resource =
    options.resource ?? (options.base === undefined ? undefined : `${BASE_RESOURCE}${options.base}`);
  if (apiToken === undefined && resource === undefined)
    throw new CliError('exchanging your Account-Token needs --base or --resource', EXIT.usage, {
      hint: 'or give an API-Token: --api-token-stdin, TOKENLADDER_API_TOKEN',
    });
  const body = {
    grant_type: TOKEN_EXCHANGE,
    subject_token: apiToken ?? accountToken(serverOf(options)),
    subject_token_type: `urn:tokenladder:token-type:${apiToken === undefined ? 'account_token' : 'api_token'}`,
    ...(resource !== undefined && { resource }),
    ...(options.scope !== undefined && { scope: options.scope }),
  };
  const result = await anonymousClient(options).POST('/oauth/token', {
    body,
    bodySerializer: (fields) => new URLSearchParams(fields as Record<string, string>).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  const answer = oauthOk(result, apiToken === undefined ? 'account' : 'api-token') as OAuthTokenAnswer;
  if (options.json) return printJson(answer);
  process.stdout.write(`${answer.access_token}\n`);
}

/**
 * The data of an OAuth endpoint's answer; otherwise a {@link CliError} with the RFC 6749 `error`
 * as its code: a refused credential (`invalid_client`, `invalid_grant`) exits 3, a busy server 5.
 */
function oauthOk(
  result: { data?: unknown; error?: unknown; response: Response },
  credential: 'account' | 'api-token',
): unknown {
  const { response } = result;
  if (response.ok && result.error === undefined) return result.data;
  const body = (result.error ?? {}) as { error?: unknown; error_description?: unknown };
  const status = response.status;
  const request = requestOf.get(response);
  const url = request?.url ?? response.url;
  const code = typeof body.error === 'string' ? body.error : `http_${status}`;
  const message = typeof body.error_description === 'string' ? body.error_description : `HTTP ${status}`;
  const retryAfter = Number.parseInt(response.headers.get('retry-after') ?? '', 10);
  let exitCode: ExitCode = EXIT.failure;
  let hint: string | undefined;
  if (code === 'invalid_client' || code === 'invalid_grant') {
    exitCode = EXIT.auth;
    hint =
      credential === 'api-token'
        ? 'check the API-Token: tokenladder api-tokens list shows its status'
        : 'run tokenladder login';
  } else if (status === 429 || status === 502 || status === 503 || status === 504) {
    exitCode = EXIT.unavailable;
    hint = Number.isFinite(retryAfter) ? `retry after ${retryAfter} s` : 'retry later';
  } else if (code === 'invalid_scope')
    hint = 'ask for no more than the token grants: base:r|rw|admin, <category>:read|write, table:<id>';
  else if (code === 'invalid_target')
    hint = `name one base: --base <uuid> or --resource ${BASE_RESOURCE}<uuid>`;
  throw new CliError(`POST ${url}: ${message} (${code}, HTTP ${status})`, exitCode, {
    code,
    hint,
    url,
    status,
    ...(Number.isFinite(retryAfter) && { retry_after: retryAfter }),
  });
}

const CLIENT_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * `introspection-client <id>`: a fresh secret (256 random bits, base64url), printed once, and the
 * `<id>:<SHA-256 hex>` entry for TOKENLADDER_INTROSPECTION_CLIENTS. Nothing is stored: the server
 * keeps only the hash, from its configuration.
 */
export async function introspectionClient(id: string, options: { json?: boolean }): Promise<void> {
  if (!CLIENT_ID.test(id))
    throw new CliError(
      `${JSON.stringify(id)}: a client id is 1 to 64 letters, digits, dots, _ or -`,
      EXIT.usage,
    );
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret));
  const entry = `${id}:${Buffer.from(digest).toString('hex')}`;
  const basic = Buffer.from(`${id}:${secret}`).toString('base64');
  if (options.json) return printJson({ client_id: id, client_secret: secret, entry, basic });
  printFields({ client_id: id, client_secret: secret, entry, basic });
  process.stderr.write(
    `\nThe secret is shown once: give it to the resource server (HTTP Basic ${id}:<secret>, or the \`basic\` value\n` +
      'as `Authorization: Basic …` / `Tokenladder-Client-Authorization: Basic …`). Add the entry to\n' +
      'TOKENLADDER_INTROSPECTION_CLIENTS (comma-separated) and restart tokenladder.\n',
  );
}

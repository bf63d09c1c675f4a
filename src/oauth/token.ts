import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { exchangeApiToken, type ExchangeRequest, type IssuedBaseToken } from '../tokens/base-tokens';
import { exchangeCredential } from '../tokens/exchange';
import { parseOpaqueToken } from '../tokens/opaque';
import { BASE_AUDIENCE_PREFIX, normalizeBaseUuid } from '../verify/claims';
import { asOAuthError, OAuthError } from './errors';
import type { ClientCredentials, OAuthForm } from './form';
import { scopeRequest } from './scope';

export const GRANT_CLIENT_CREDENTIALS = 'client_credentials';
export const GRANT_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const GRANT_TYPES = [GRANT_CLIENT_CREDENTIALS, GRANT_TOKEN_EXCHANGE] as const;

/** RFC 8693 token types: the two tokenladder defines for its opaque tokens, and the standard ones. */
export const TOKEN_TYPE = {
  apiToken: 'urn:tokenladder:token-type:api_token',
  accountToken: 'urn:tokenladder:token-type:account_token',
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const;

/** What `POST /oauth/token` answers (RFC 6749 §5.1, RFC 8693 §2.2.1). */
export interface OAuthTokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  /** Token exchange only. */
  issued_token_type?: string;
}

/**
 * `POST /oauth/token`: the exchange of `POST /api/v1/base-tokens` in OAuth's terms, the same operation
 * underneath (same checks, attenuation, audit record, throttling). `client_credentials`: the client
 * secret is an API-Token and the client id its id. Token exchange (RFC 8693): the `subject_token` is an
 * API-Token or an Account-Token. `resource` (RFC 8707) names the base, `scope` asks for less.
 */
export async function issueOAuthToken(
  deps: Deps,
  form: OAuthForm,
  client: ClientCredentials,
  clientIp: string | null,
): Promise<OAuthTokenResponse> {
  const grantType = form.get('grant_type');
  if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type: required');
  if (grantType === GRANT_CLIENT_CREDENTIALS) {
    const secret = clientCredentialsSecret(client);
    const request = exchangeRequest(deps, form, clientIp);
    const issued = await exchangeApiToken(deps, secret, request).catch((error: unknown) => {
      throw asOAuthError(error, 'client');
    });
    return tokenResponse(deps, issued);
  }
  if (grantType === GRANT_TOKEN_EXCHANGE) {
    const subject = subjectToken(form, client);
    const request = exchangeRequest(deps, form, clientIp);
    const requested = form.get('requested_token_type') ?? TOKEN_TYPE.accessToken;
    if (requested !== TOKEN_TYPE.accessToken && requested !== TOKEN_TYPE.jwt)
      throw new OAuthError(
        'invalid_request',
        `requested_token_type: this server issues ${TOKEN_TYPE.accessToken} (a JWT, also as ${TOKEN_TYPE.jwt})`,
      );
    const issued = await exchangeCredential(deps, subject, request).catch((error: unknown) => {
      throw asOAuthError(error, 'grant');
    });
    return { ...tokenResponse(deps, issued), issued_token_type: requested };
  }
  throw new OAuthError(
    'unsupported_grant_type',
    `grant_type: this server supports ${GRANT_TYPES.join(' and ')}`,
  );
}

function tokenResponse(deps: Pick<Deps, 'clock'>, issued: IssuedBaseToken): OAuthTokenResponse {
  return {
    access_token: issued.jwt,
    token_type: 'Bearer',
    expires_in: Math.max(0, issued.expiresAt - epochSeconds(deps.clock)),
    scope: issued.scope,
  };
}

/** The API-Token that authenticates a client-credentials client; its id must be the client id. */
function clientCredentialsSecret(client: ClientCredentials): string {
  const secret = client.clientSecret;
  if (secret === undefined)
    throw new OAuthError(
      'invalid_client',
      'client authentication required: client_id = the API-Token id, client_secret = the API-Token',
    );
  const parsed = parseOpaqueToken(secret);
  if (parsed?.kind === 'api' && client.clientId !== undefined && client.clientId !== parsed.id)
    throw new OAuthError('invalid_client', 'client_id is not the id of the API-Token in client_secret');
  // Anything else (another kind, garbage) is refused by the exchange, with its audit record.
  return secret;
}

/** Token exchange: the subject token is the credential; a client secret has no role in it. */
function subjectToken(form: OAuthForm, client: ClientCredentials): string {
  if (client.clientSecret !== undefined)
    throw new OAuthError(
      'invalid_request',
      'token exchange takes no client secret: the subject_token is the credential (or use grant_type=client_credentials)',
    );
  if (form.get('actor_token') !== undefined)
    throw new OAuthError('invalid_request', 'actor_token: delegation is not supported');
  const token = form.get('subject_token');
  if (token === undefined) throw new OAuthError('invalid_request', 'subject_token: required');
  const type = form.get('subject_token_type');
  if (type === undefined) throw new OAuthError('invalid_request', 'subject_token_type: required');
  const kind = parseOpaqueToken(token)?.kind;
  const expected =
    type === TOKEN_TYPE.apiToken ? 'api' : type === TOKEN_TYPE.accountToken ? 'account' : undefined;
  if (expected === undefined && type !== TOKEN_TYPE.accessToken)
    throw new OAuthError(
      'invalid_request',
      `subject_token_type: one of ${TOKEN_TYPE.apiToken}, ${TOKEN_TYPE.accountToken} or ${TOKEN_TYPE.accessToken}`,
    );
  if (expected !== undefined && kind !== undefined && kind !== expected)
    throw new OAuthError('invalid_request', 'subject_token_type does not match the subject_token');
  return token;
}

/** The exchange's ask from `resource`/`audience` (the base) and `scope` (less than granted). */
function exchangeRequest(
  deps: Pick<Deps, 'config'>,
  form: OAuthForm,
  clientIp: string | null,
): ExchangeRequest {
  const targets = [...new Set([...form.all('resource'), ...form.all('audience')])];
  if (targets.length > 1)
    throw new OAuthError('invalid_target', 'name one base: a Base-Token is for exactly one resource');
  const baseUuid = targets.length === 1 ? baseOfResource(deps, targets[0]!) : undefined;
  return { baseUuid, ...scopeRequest(form.get('scope')), clientIp };
}

/**
 * The base a resource indicator names: `urn:tokenladder:base:<uuid>`, or a URL matching the
 * configured base-service template (TOKENLADDER_OAUTH_RESOURCE_URL); anything else is `invalid_target`.
 */
export function baseOfResource(deps: Pick<Deps, 'config'>, resource: string): string {
  const uuid = resource.toLowerCase().startsWith(BASE_AUDIENCE_PREFIX)
    ? resource.slice(BASE_AUDIENCE_PREFIX.length)
    : uuidInTemplate(deps.config.oauth.resourceUrlTemplate, resource);
  const base = uuid === undefined ? undefined : normalizeBaseUuid(uuid);
  if (base === undefined)
    throw new OAuthError(
      'invalid_target',
      `resource: name the base as ${BASE_AUDIENCE_PREFIX}<uuid>${deps.config.oauth.resourceUrlTemplate ? ` or ${deps.config.oauth.resourceUrlTemplate}` : ''}`,
    );
  return base;
}

function uuidInTemplate(template: string | null, resource: string): string | undefined {
  if (template === null) return undefined;
  const [before, after] = template.split('{base_uuid}') as [string, string];
  // A trailing slash after the uuid is the same resource.
  const text = resource.endsWith('/') && !after.endsWith('/') ? resource.slice(0, -1) : resource;
  if (!text.startsWith(before) || !text.endsWith(after) || text.length <= before.length + after.length)
    return undefined;
  return text.slice(before.length, text.length - after.length);
}

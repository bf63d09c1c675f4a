import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { anonymousActor } from '../audit/events';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { presentedCredential, type AppEnv } from '../http/auth';
import { clientIp } from '../http/client-ip';
import { classifyError } from '../http/errors';
import { authenticateClientIfPresent } from '../oauth/clients';
import { asOAuthError, OAUTH_STATUS, OAuthError } from '../oauth/errors';
import { clientCredentials, parseOAuthForm, type ClientCredentials, type OAuthForm } from '../oauth/form';
import { authenticateResourceServer, introspect, type Introspection } from '../oauth/introspect';
import {
  authorizationServerMetadata,
  INTROSPECT_CHECK_PATH,
  INTROSPECT_PATH,
  metadataPaths,
  REVOKE_PATH,
  TOKEN_PATH,
} from '../oauth/metadata';
import { baseOfResource, GRANT_CLIENT_CREDENTIALS, issueOAuthToken } from '../oauth/token';
import { SIGNING_ALGS } from '../keys/signing-keys';
import { emptyResponse, jsonResponse, routeDoc } from '../openapi/route-doc';
import { revokeHeldToken } from '../revocations/held-tokens';

const tags: ['OAuth'] = ['OAuth'];
const formBody = (
  properties: Record<string, { type: 'string'; description: string }>,
  required: string[],
) => ({
  required: true,
  content: {
    'application/x-www-form-urlencoded': { schema: { type: 'object' as const, properties, required } },
  },
});
const param = (description: string) => ({ type: 'string' as const, description });

const metadataDoc = routeDoc({
  summary: 'OAuth authorization server metadata (RFC 8414)',
  description:
    'Where the token, revocation and introspection endpoints and the JWKS are, which grants, client ' +
    'authentication methods and scopes are supported, plus the revocation feed and stream (`tokenladder_*`).',
  tags,
  auth: 'none',
  responses: { 200: jsonResponse('The metadata', z.record(z.string(), z.unknown())) },
});

const tokenDoc = routeDoc({
  summary: 'Get a Base-Token the OAuth way (client credentials or token exchange)',
  description:
    'The exchange of `POST /api/v1/base-tokens`, form-encoded. `grant_type=client_credentials`: ' +
    'client_id = the API-Token id, client_secret = the API-Token (HTTP Basic or form). ' +
    '`grant_type=urn:ietf:params:oauth:grant-type:token-exchange`: subject_token = an API-Token ' +
    '(`urn:tokenladder:token-type:api_token`) or Account-Token (`urn:tokenladder:token-type:account_token`). ' +
    '`resource` names the base (`urn:tokenladder:base:<uuid>`), `scope` asks for less. ' +
    'Errors are RFC 6749 `{error, error_description}`.',
  tags,
  auth: 'client',
  oauth: true,
  body: true,
  errors: [429, 503],
  requestBody: formBody(
    {
      grant_type: param('client_credentials or urn:ietf:params:oauth:grant-type:token-exchange'),
      client_id: param('the API-Token id (client credentials; or use HTTP Basic)'),
      client_secret: param('the API-Token (client credentials; or use HTTP Basic)'),
      subject_token: param('token exchange: an API-Token or Account-Token'),
      subject_token_type: param(
        'urn:tokenladder:token-type:api_token, urn:tokenladder:token-type:account_token or urn:ietf:params:oauth:token-type:access_token',
      ),
      requested_token_type: param('urn:ietf:params:oauth:token-type:access_token (default) or …:jwt'),
      resource: param('the base: urn:tokenladder:base:<uuid> (or the configured base-service URL); once'),
      scope: param('less than granted: base:r, records:read, comments:write, table:<id> …, space-separated'),
    },
    ['grant_type'],
  ),
  responses: {
    200: jsonResponse(
      'The Base-Token',
      z.object({
        access_token: z.string(),
        token_type: z.literal('Bearer'),
        expires_in: z.number().int(),
        scope: z.string(),
        issued_token_type: z.string().optional(),
      }),
    ),
  },
});

const revokeDoc = routeDoc({
  summary: 'Revoke a token (RFC 7009)',
  description:
    'A Base-Token (by its jti, into the revocation feed), an API-Token or an Account-Token (with ' +
    'its Base-Tokens). Holding the token is the credential; client credentials, if sent, must be ' +
    'valid. 200 whether or not the string was a token.',
  tags,
  auth: 'none',
  oauth: true,
  body: true,
  errors: [401],
  requestBody: formBody({ token: param('the token'), token_type_hint: param('ignored') }, ['token']),
  responses: { 200: emptyResponse('Revoked, or nothing to revoke') },
});

const introspectDoc = routeDoc({
  summary: 'Is a token active? (RFC 7662, for resource servers)',
  description:
    'Resource servers configured in TOKENLADDER_INTROSPECTION_CLIENTS authenticate with HTTP Basic. ' +
    'A Base-Token is active when its signature, expiry and the revocation feed agree; an API-Token ' +
    'when the exchange would accept it (with `resource`: on that base). `{"active": false}` for anything else. ' +
    'Inactive answers are limited per resource server (429).',
  tags,
  auth: 'client',
  oauth: true,
  body: true,
  errors: [429, 503],
  requestBody: formBody(
    {
      token: param('a Base-Token or an API-Token'),
      token_type_hint: param('ignored'),
      resource: param('optional: urn:tokenladder:base:<uuid>, active only for that base'),
    },
    ['token'],
  ),
  responses: { 200: jsonResponse('RFC 7662 answer', z.record(z.string(), z.unknown())) },
});

const checkDoc = routeDoc({
  summary: 'Introspection as a status code, for nginx auth_request',
  description:
    'The token to check in `Authorization: Bearer <token>` (as the client sent it), the resource ' +
    "server's credentials in `Tokenladder-Client-Authorization: Basic …`, optionally the base in " +
    '`Tokenladder-Resource`. 204 with `Tokenladder-Subject`, `Tokenladder-Client-Id`, `Tokenladder-Token-Kind`, ' +
    '`Tokenladder-Base`, `Tokenladder-Scope` when active; 401 when not; 403 when active for another base; ' +
    '400 for missing or wrong resource-server credentials (nginx turns it into 500: a configuration error).',
  tags,
  auth: 'none',
  oauth: true,
  errors: [400, 401, 403, 429, 503],
  responses: { 204: emptyResponse('Active') },
});

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

/**
 * The OAuth 2.0 endpoints over the same operations as the native API: metadata (RFC 8414), the token
 * endpoint (client credentials, RFC 8693 token exchange, RFC 8707 resources), revocation (RFC 7009)
 * and introspection (RFC 7662, plus a status-code form for nginx's auth_request). Errors answer
 * RFC 6749's shape through this router's own error handler.
 */
export function oauthRoutes(deps: Deps) {
  const metadata = authorizationServerMetadata(deps.config, SIGNING_ALGS);
  const readForm = async (c: Context) => parseOAuthForm(c.req.header('content-type'), await c.req.text());
  const from = (c: Context) => clientIp(c, deps.config.clientIpHeader);
  const app = new Hono<OAuthEnv>();
  for (const path of metadataPaths(deps.config.issuer)) {
    app.get(path, metadataDoc, (c) => {
      c.header('Cache-Control', 'public, max-age=300');
      c.header('Access-Control-Allow-Origin', '*');
      return c.json(metadata);
    });
  }
  app
    .post(TOKEN_PATH, tokenDoc, async (c) => {
      const form = await readForm(c);
      const client = readClient(c, form);
      // The token that authenticates the request, for the failed-authentication record.
      c.set(
        'presentedToken',
        form.get('grant_type') === GRANT_CLIENT_CREDENTIALS ? client.clientSecret : form.get('subject_token'),
      );
      return c.json(await issueOAuthToken(deps, form, client, from(c)), 200, NO_STORE);
    })
    .post(REVOKE_PATH, revokeDoc, async (c) => {
      const form = await readForm(c);
      await authenticateClientIfPresent(deps, readClient(c, form));
      const token = requiredToken(form);
      await revokeHeldToken(deps, token, 'holder', anonymousActor(from(c)));
      return c.body(null, 200, NO_STORE);
    })
    .post(INTROSPECT_PATH, introspectDoc, async (c) => {
      const form = await readForm(c);
      const client = readClient(c, form);
      const server = await authenticateResourceServer(deps, client, from(c));
      const token = requiredToken(form);
      const resource = form.get('resource');
      const base = resource === undefined ? undefined : baseOfResource(deps, resource);
      return c.json(introspectionJson(await introspect(deps, server, token, base)), 200, NO_STORE);
    })
    .all(INTROSPECT_CHECK_PATH, checkDoc, async (c) => {
      const server = await gatewayCredentials(c, deps);
      const resource = c.req.header('tokenladder-resource');
      const base = resource === undefined ? undefined : baseOfResource(deps, resource);
      c.header('Cache-Control', 'no-store');
      const token = presentedCredential(c);
      if (token === null) return challenge(c);
      const answer = await introspect(deps, server, token, base);
      if (!answer.active) {
        // Active elsewhere: the token is good, not for this base.
        if (base !== undefined && (await introspect(deps, server, token)).active) return c.body(null, 403);
        return challenge(c, 'invalid_token');
      }
      c.header('Tokenladder-Subject', answer.sub);
      c.header('Tokenladder-Client-Id', answer.client_id);
      c.header('Tokenladder-Token-Kind', answer.token_kind);
      if (answer.base_uuid !== undefined) c.header('Tokenladder-Base', answer.base_uuid);
      c.header('Tokenladder-Scope', answer.scope);
      return c.body(null, 204);
    });
  app.onError((error, c) => oauthErrorResponse(error, c, deps));
  return app;
}

/**
 * The check form's resource server, from `Tokenladder-Client-Authorization: Basic …`. Missing or
 * wrong credentials are the gateway's misconfiguration, not the caller's token: 400 (nginx answers
 * its client 500), never a 401 the caller would take for a verdict on their token.
 */
async function gatewayCredentials(c: Context, deps: Deps): Promise<string> {
  try {
    const credentials = clientCredentials(c.req.header('tokenladder-client-authorization'), EMPTY_FORM);
    if (credentials.method !== 'basic')
      throw new OAuthError(
        'invalid_request',
        'send the resource server credentials in Tokenladder-Client-Authorization: Basic …',
      );
    return await authenticateResourceServer(deps, credentials, clientIp(c, deps.config.clientIpHeader));
  } catch (error) {
    throw error instanceof OAuthError && error.oauthCode === 'invalid_client'
      ? new OAuthError('invalid_request', error.message)
      : error;
  }
}

/** The router's context: the client's authentication method, once read, decides how a refusal of it is answered. */
type OAuthEnv = { Variables: AppEnv['Variables'] & { clientAuthentication: ClientCredentials['method'] } };

function readClient(c: Context<OAuthEnv>, form: OAuthForm): ClientCredentials {
  const client = clientCredentials(c.req.header('authorization'), form);
  c.set('clientAuthentication', client.method);
  return client;
}

const EMPTY_FORM: OAuthForm = { get: () => undefined, all: () => [] };

function requiredToken(form: OAuthForm): string {
  const token = form.get('token');
  if (token === undefined) throw new OAuthError('invalid_request', 'token: required');
  return token;
}

function challenge(c: Context, error?: 'invalid_token') {
  c.header('WWW-Authenticate', `Bearer realm="tokenladder"${error ? `, error="${error}"` : ''}`);
  return c.body(null, 401);
}

/** The RFC 7662 wire form: the standard members, tokenladder's own prefixed. */
function introspectionJson(answer: Introspection) {
  if (!answer.active) return { active: false };
  const { token_kind, token_name, scope_type, ...standard } = answer;
  return {
    ...standard,
    ...(token_kind === 'base_token' && { token_type: 'Bearer' }),
    tokenladder_token_kind: token_kind,
    tokenladder_token_name: token_name,
    ...(scope_type !== undefined && { tokenladder_scope_type: scope_type }),
  };
}

/**
 * Every failure of these routes in RFC 6749 §5.2's shape, never the native envelope: OAuth
 * refusals with their own code; anything else classified as usual (a store that cannot answer is
 * `temporarily_unavailable`, a bug `server_error` with a fixed text, its cause in the log).
 */
function oauthErrorResponse(error: Error, c: Context<OAuthEnv>, deps: Pick<Deps, 'log'>): Response {
  let oauth = error instanceof OAuthError ? error : null;
  if (!oauth) {
    const translated = error instanceof AppError ? asOAuthError(error, 'grant') : null;
    if (translated instanceof OAuthError) oauth = translated;
    else {
      const classified = classifyError(error, c, deps.log);
      const code =
        classified.code === 'service_unavailable'
          ? 'temporarily_unavailable'
          : classified.code === 'internal_error'
            ? 'server_error'
            : 'invalid_request';
      oauth = new OAuthError(
        code,
        classified.message,
        new AppError(classified.code, classified.message, classified.retryAfterSeconds),
      );
    }
  }
  // invalid_client: 401 with a Basic challenge (the scheme we take) when the client used HTTP Basic
  // or sent no credentials; 400 without one when it authenticated in the form — RFC 6749 §5.2 asks
  // for a challenge only for the scheme used, and RFC 9110 allows no 401 without a challenge.
  const inForm = c.get('clientAuthentication') === 'post';
  const status =
    oauth.code === 'rate_limited'
      ? 429
      : oauth.code === 'payload_too_large'
        ? 413
        : oauth.oauthCode === 'invalid_client' && inForm
          ? 400
          : OAUTH_STATUS[oauth.oauthCode];
  const headers: Record<string, string> = { ...NO_STORE };
  if (oauth.retryAfterSeconds !== undefined) headers['Retry-After'] = String(oauth.retryAfterSeconds);
  if (status === 401) headers['WWW-Authenticate'] = 'Basic realm="tokenladder"';
  return c.json({ error: oauth.oauthCode, error_description: oauth.message }, status, headers);
}

import { Scalar } from '@scalar/hono-api-reference';
import { Hono } from 'hono';
import { openAPIRouteHandler, resolver } from 'hono-openapi';
import { z } from 'zod';
import type { Deps } from '../deps';
import { errorResponse } from '../http/errors';
import {
  ERROR_RESPONSES,
  OAUTH_ERROR_RESPONSE,
  SEATABLE_ERROR_RESPONSE,
  type ErrorStatus,
} from './route-doc';
import { errorSchema } from './responses';

export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PATH = '/docs';

const ERROR_DESCRIPTIONS: Record<ErrorStatus, string> = {
  400: 'Bad input: invalid_request (the first problem, with its field), invalid_json, invalid_authorization_header',
  401:
    'No valid credential: missing_credentials, invalid_credentials, token_invalid, token_expired, ' +
    'token_disabled, token_revoked, base_not_in_scope, wrong_token_type, account_disabled',
  403: 'insufficient_permission: the credential is valid but may not do this',
  404: 'not_found: also for things the caller may not see',
  409: 'conflict: a name already taken, or a change that would break an invariant',
  413: 'payload_too_large: bodies are limited (16 KiB by default)',
  415: 'unsupported_media_type: bodies must be application/json (UTF-8)',
  429: 'rate_limited: wait for Retry-After seconds',
  503: 'service_unavailable: retry after Retry-After seconds',
};

const seatableErrorSchema = z
  .union([
    z.strictObject({ detail: z.string() }),
    z.strictObject({ error_msg: z.string() }),
    z.strictObject({ non_field_errors: z.array(z.string()) }),
  ])
  .meta({ id: 'SeatableError' });

const oauthErrorSchema = z
  .strictObject({ error: z.string(), error_description: z.string().optional() })
  .meta({ id: 'OAuthError' });

function errorResponses() {
  const responses: Record<
    string,
    { description: string; content: { 'application/json': { schema: ReturnType<typeof resolver> } } }
  > = {};
  for (const [status, name] of Object.entries(ERROR_RESPONSES)) {
    responses[name] = {
      description: ERROR_DESCRIPTIONS[Number(status) as ErrorStatus],
      content: { 'application/json': { schema: resolver(errorSchema) } },
    };
  }
  responses[SEATABLE_ERROR_RESPONSE] = {
    description:
      "SeaTable's shapes: {detail} for authentication, {non_field_errors} for a bad login, {error_msg} for the rest",
    content: { 'application/json': { schema: resolver(seatableErrorSchema) } },
  };
  responses[OAUTH_ERROR_RESPONSE] = {
    description:
      'RFC 6749 §5.2: `error` (invalid_request, invalid_client, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope, invalid_target, temporarily_unavailable) and `error_description`',
    content: { 'application/json': { schema: resolver(oauthErrorSchema) } },
  };
  return responses;
}

/** Scalar's standalone script, served from the installed npm package (never a CDN): see DocsScript. */
export const DOCS_SCRIPT_PATH = '/docs/scalar.js';

/**
 * The reference's script comes from this server, so /docs works offline. `sandbox` still gives the
 * page an opaque origin: the script can never act as this origin (no cookies of /ui, no same-origin
 * reads of the API); it only fetches the public document (CORS *). "Try it" requests then need
 * TOKENLADDER_CORS_ORIGINS to be answered. Nothing else is loaded: no fonts, no images from elsewhere.
 */
function docsContentSecurityPolicy(issuer: string): string {
  return [
    'sandbox allow-scripts allow-popups',
    "default-src 'none'",
    // The one inline script is Scalar's fixed initialisation; nothing on the page comes from a request.
    `script-src 'self' ${issuer} 'unsafe-inline'`,
    "style-src 'unsafe-inline'",
    'font-src data:',
    'img-src data:',
    `connect-src 'self' ${issuer}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * The sandbox's opaque origin has no Web Storage, and the reference's script reads localStorage as it
 * loads (its theme and last-used settings): a memory-only stand-in, defined before the script runs.
 */
const STORAGE_STAND_IN = `<script>(function(){for(const name of ['localStorage','sessionStorage']){try{window[name].length}catch{const m=new Map();Object.defineProperty(window,name,{configurable:true,value:{getItem:(k)=>m.has(String(k))?m.get(String(k)):null,setItem:(k,v)=>{m.set(String(k),String(v))},removeItem:(k)=>{m.delete(String(k))},clear:()=>m.clear(),key:(i)=>[...m.keys()][i]??null,get length(){return m.size}}})}}})()</script>`;

/** What shows until the script has mounted, and all that shows without scripts or without the script. */
const DOCS_FALLBACK =
  '<div id="app"><p style="font-family:sans-serif;margin:2rem">The API reference is loading. ' +
  `It needs JavaScript; the OpenAPI document itself is <a href="${OPENAPI_PATH}">${OPENAPI_PATH}</a>.</p></div>` +
  `<noscript><p style="font-family:sans-serif;margin:2rem">The interactive reference needs JavaScript. ` +
  `Read the OpenAPI document at <a href="${OPENAPI_PATH}">${OPENAPI_PATH}</a> instead.</p></noscript>`;

/**
 * `GET /openapi.json` (OpenAPI 3.1, generated from the routes' zod schemas and `routeDoc()` calls)
 * and `GET /docs` (Scalar's interactive reference). Both public: the API's shape is no secret.
 * `app` is the whole application; it is read at the first request, when every route is mounted.
 */
// biome-ignore lint/suspicious/noExplicitAny: any app, whatever its env and routes (as hono-openapi takes it)
export function openApiRoutes(app: Hono<any, any, any>, deps: Deps) {
  const { config } = deps;
  const document = openAPIRouteHandler(app, {
    documentation: {
      info: {
        title: 'tokenladder',
        version: config.version,
        description:
          'Token-hierarchy authentication: Account-Token → API-Token → Base-Token ' +
          '(a JWT signed with EdDSA, ES256 or RS256, verified offline against /.well-known/jwks.json). ' +
          'Errors are {"error": {"code", "message"}}; SeaTable-compatible routes answer SeaTable\'s shapes.',
      },
      servers: [{ url: config.issuer }],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: "Authorization: Bearer <token> (also accepted: NocoDB's xc-token: <token>)",
          },
          clientBasic: {
            type: 'http',
            scheme: 'basic',
            description:
              'OAuth client authentication (RFC 6749 §2.3.1): client_id:client_secret, each form-urlencoded, or both in the form body',
          },
          token: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description: 'SeaTable style: Authorization: Token <token>',
          },
        },
        responses: errorResponses(),
      },
    },
    // The JWKS path ends in ".json"; without this hono-openapi would drop it as a static file.
    excludeStaticFile: false,
    // routeDoc() lists every error response itself, in our error shape.
    defaultValidationErrorResponse: false,
  });
  // The document changes only with a deploy; a short public cache spares the generation.
  const cacheable = 'public, max-age=300';
  const docsPolicy = docsContentSecurityPolicy(config.issuer);
  const docsConfiguration = {
    url: OPENAPI_PATH,
    pageTitle: 'tokenladder API',
    cdn: DOCS_SCRIPT_PATH,
    withDefaultFonts: false,
    // Scalar's "Ask AI" agent would upload the document to Scalar's servers (the CSP blocks it anyway).
    agent: { disabled: true },
  } as Parameters<typeof Scalar>[0];
  return new Hono()
    .get(OPENAPI_PATH, async (c, next) => {
      c.header('Cache-Control', cacheable);
      c.header('Access-Control-Allow-Origin', '*');
      return document(c, next);
    })
    .get(DOCS_PATH, async (c, next) => {
      c.header('Cache-Control', cacheable);
      c.header('Content-Security-Policy', docsPolicy);
      const page = (await Scalar(docsConfiguration)(c, next)) as Response;
      const html = (await page.text()).replace('<div id="app"></div>', DOCS_FALLBACK + STORAGE_STAND_IN);
      return c.html(html);
    })
    .get(DOCS_SCRIPT_PATH, async (c) => {
      const script = deps.docsScript ? await deps.docsScript() : null;
      if (script === null)
        return errorResponse(c, 'not_found', 'the API reference script is not installed with this server');
      c.header('Cache-Control', 'public, max-age=3600');
      c.header('Content-Type', 'text/javascript; charset=utf-8');
      return c.body(script);
    });
}

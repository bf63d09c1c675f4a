import { describeRoute, resolver, type DescribeRouteOptions } from 'hono-openapi';
import type { z } from 'zod';

/**
 * How a route describes itself in `GET /openapi.json`. Request schemas need nothing extra: every
 * `validate(target, schema)` (src/http/validate.ts) is read into the document. Each route declares one
 * `routeDoc({...})` as a named constant above its router function, and passes it as its first handler,
 * for what validation cannot tell:
 *
 * ```ts
 * const createThingDoc = routeDoc({
 *   summary: 'Create a thing',
 *   tags: ['Things'],
 *   auth: 'account',
 *   body: true,
 *   errors: [403, 409],
 *   responses: { 201: jsonResponse('The new thing', thingSchema) }, // src/openapi/responses.ts
 * });
 *
 * export function thingRoutes(deps: Deps) {
 *   const auth = requireAccount(deps); // once per file
 *   return new Hono<AppEnv>()
 *     .use('/api/v1/things', auth)
 *     .post(
 *       '/api/v1/things',
 *       createThingDoc,
 *       requireJsonBody,
 *       validate('json', createThingBody),
 *       async (c) => c.json(thingJson(await createThing(deps, c.var.principal, c.req.valid('json'))), 201),
 *     );
 * }
 * ```
 *
 * `auth` adds the security requirement and 400/401 (SeaTable routes: `seatable: true`, its error
 * shapes); `body` adds 400/413/415. test/http/openapi.test.ts fails for any served route without one.
 */

export type Tag =
  | 'Meta'
  | 'Account-Tokens'
  | 'Users and teams'
  | 'Bases'
  | 'API-Tokens'
  | 'Base-Tokens'
  | 'Service accounts'
  | 'Token policy'
  | 'Signing keys'
  | 'Audit log'
  | 'Revocation and incidents'
  | 'OAuth'
  | 'SeaTable';

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 503;

/** Reusable error responses, `#/components/responses/<name>` (defined in src/openapi/document.ts). */
export const ERROR_RESPONSES: Record<ErrorStatus, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  429: 'TooManyRequests',
  503: 'ServiceUnavailable',
};
/** SeaTable-compatible routes answer SeaTable's error bodies instead (src/routes/seatable/protocol.ts). */
export const SEATABLE_ERROR_RESPONSE = 'SeatableError';
/** The OAuth endpoints answer RFC 6749's `{error, error_description}` (src/routes/oauth.ts). */
export const OAUTH_ERROR_RESPONSE = 'OAuthError';

type Responses = NonNullable<DescribeRouteOptions['responses']>;

export interface RouteDoc {
  summary: string;
  description?: string;
  tags: [Tag, ...Tag[]];
  /**
   * The credential: none, an Account-Token, (the exchanges) an API-Token or an Account-Token, or
   * (OAuth endpoints) client credentials, HTTP Basic or in the form.
   */
  auth: 'none' | 'account' | 'api-token' | 'client';
  /** The route reads a request body: 400, 413 and 415 become possible. */
  body?: boolean;
  /** Further error statuses the route answers (403, 404, 409, …). */
  errors?: ErrorStatus[];
  /** SeaTable's error bodies (`{detail}`, `{error_msg}`, `{non_field_errors}`) instead of ours. */
  seatable?: boolean;
  /** RFC 6749's error body (`{error, error_description}`) instead of ours. */
  oauth?: boolean;
  /** Success responses, built with `jsonResponse()` or `emptyResponse()`. */
  responses: Responses;
  /** Extra query or header parameters the route reads without `validate()`. */
  parameters?: DescribeRouteOptions['parameters'];
  /** A request body the route parses itself (SeaTable forms); validated routes need none. */
  requestBody?: DescribeRouteOptions['requestBody'];
}

/** Both ways to send a token; NocoDB's `xc-token: <token>` header is accepted as well. */
const TOKEN_SECURITY: Record<string, string[]>[] = [{ bearer: [] }, { token: [] }];
/** OAuth client authentication: HTTP Basic, or client_id and client_secret in the form. */
const CLIENT_SECURITY: Record<string, string[]>[] = [{ clientBasic: [] }, {}];

/** The OpenAPI operation for one route; see the comment at the top of this file. */
export function routeDoc(doc: RouteDoc) {
  const statuses = new Set<ErrorStatus>(doc.errors);
  if (doc.auth !== 'none') for (const status of [400, 401] as const) statuses.add(status);
  // SeaTable answers a missing credential with 403, as Django REST Framework does.
  if (doc.auth !== 'none' && doc.seatable) statuses.add(403);
  if (doc.body) for (const status of [400, 413, 415] as const) statuses.add(status);
  const errors: Responses = {};
  for (const status of [...statuses].sort()) {
    const name = doc.seatable
      ? SEATABLE_ERROR_RESPONSE
      : doc.oauth
        ? OAUTH_ERROR_RESPONSE
        : ERROR_RESPONSES[status];
    errors[status] = { $ref: `#/components/responses/${name}` };
  }
  return describeRoute({
    summary: doc.summary,
    ...(doc.description && { description: doc.description }),
    tags: doc.tags,
    security: doc.auth === 'none' ? [] : doc.auth === 'client' ? CLIENT_SECURITY : TOKEN_SECURITY,
    ...(doc.parameters && { parameters: doc.parameters }),
    ...(doc.requestBody && { requestBody: doc.requestBody }),
    responses: { ...doc.responses, ...errors },
  });
}

/** A JSON success response; `example` shows up in the docs at /docs. */
export function jsonResponse(description: string, schema: z.ZodType, example?: unknown) {
  return {
    description,
    content: { 'application/json': { schema: resolver(schema), ...(example !== undefined && { example }) } },
  };
}

/** A success response without a body (204, 304). */
export const emptyResponse = (description: string) => ({ description });

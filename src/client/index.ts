/**
 * The typed tokenladder client: openapi-fetch over types generated from `GET /openapi.json`
 * (src/client/schema.ts, `npm run gen:client`). Runtime-neutral: it needs only `fetch`.
 *
 * @example
 * ```ts
 * import { createClient, unwrap, createBaseTokenSource } from '@tokenladder/client';
 * const tl = createClient({ baseUrl: 'https://auth.example.com', token: accountToken });
 * const { bases } = unwrap(await tl.GET('/api/v1/bases'));
 * const created = unwrap(await tl.POST('/api/v1/bases/{uuid}/api-tokens', {
 *   params: { path: { uuid: bases[0]!.uuid } },
 *   body: { name: 'nightly-report', permission: 'r' },
 * }));
 * const baseTokens = createBaseTokenSource({ client: tl, apiToken: created.token });
 * await fetch(url, { headers: { authorization: `Bearer ${await baseTokens.token()}` } });
 * ```
 */
import createFetchClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type { components, paths } from './schema.js';
export {
  createBaseTokenSource,
  exchange,
  type BaseTokenSource,
  type BaseTokenSourceOptions,
} from './base-token-source.js';
export { TokenladderError, unwrap } from './errors.js';

export type TokenladderClient = Client<paths>;
/** A response body of the native API, by its component name: `Schema<'ApiToken'>`. */
export type Schema<Name extends keyof components['schemas']> = components['schemas'][Name];

export interface ClientOptions {
  /** Where tokenladder runs, e.g. `https://auth.example.com` (a trailing slash is fine). */
  baseUrl: string;
  /** An Account-Token (or API-Token), sent as `Authorization: Bearer <token>` on every request. */
  token?: string;
  /** A fetch to use instead of the global one (tests, proxies, `app.request`). */
  fetch?: (request: Request) => Promise<Response>;
}

export function createClient({ baseUrl, token, fetch }: ClientOptions): TokenladderClient {
  return createFetchClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ''),
    ...(fetch && { fetch }),
    ...(token !== undefined && { headers: { authorization: `Bearer ${token}` } }),
  });
}

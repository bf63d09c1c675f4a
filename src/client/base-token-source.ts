import type { Client } from 'openapi-fetch';
import { unwrap } from './errors.js';
import type { components, paths } from './schema.js';

type ExchangeRequest = NonNullable<
  paths['/api/v1/base-tokens']['post']['requestBody']
>['content']['application/json'];
export type BaseToken = components['schemas']['BaseToken'];

/**
 * One exchange: an API-Token (or an Account-Token with `base_uuid`) for a Base-Token.
 * The token goes in this request's `Authorization: Token …` header, whatever the client's default is.
 */
export async function exchange(
  client: Client<paths>,
  apiToken: string,
  request: ExchangeRequest = {},
): Promise<BaseToken> {
  return unwrap(
    await client.POST('/api/v1/base-tokens', {
      headers: { authorization: `Token ${apiToken}` },
      body: request,
    }),
  );
}

export interface BaseTokenSourceOptions {
  client: Client<paths>;
  /** The API-Token to exchange (an Account-Token works too, with `base`). */
  apiToken: string;
  /** The base, for multi-base API-Tokens and Account-Tokens. */
  base?: string;
  /** Ask for less than the token grants: permission, scopes, table, ttl (seconds). */
  request?: Omit<ExchangeRequest, 'base_uuid'>;
  /** Exchange again this many seconds before the Base-Token expires (default 300). */
  renewBeforeSeconds?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

export interface BaseTokenSource {
  /** A Base-Token JWT valid for at least `renewBeforeSeconds` more, exchanged only when needed. */
  token(): Promise<string>;
  /** The same, with its expiry, base and permission. */
  current(): Promise<BaseToken>;
  /** Drops the cached Base-Token (after a 401 from a base service, for instance). */
  invalidate(): void;
}

/**
 * Caches the Base-Token and exchanges again shortly before it expires, so a long-running script
 * makes one exchange per Base-Token lifetime. Concurrent callers share one exchange.
 */
export function createBaseTokenSource({
  client,
  apiToken,
  base,
  request = {},
  renewBeforeSeconds = 300,
  now = Date.now,
}: BaseTokenSourceOptions): BaseTokenSource {
  let cached: { token: BaseToken; renewAt: number } | undefined;
  let pending: Promise<BaseToken> | undefined;

  const renew = async (): Promise<BaseToken> => {
    const token = await exchange(client, apiToken, {
      ...request,
      ...(base !== undefined && { base_uuid: base }),
    });
    cached = { token, renewAt: Date.parse(token.expires_at) - renewBeforeSeconds * 1000 };
    return token;
  };

  const current = async (): Promise<BaseToken> => {
    if (cached && now() < cached.renewAt) return cached.token;
    pending ??= renew().finally(() => {
      pending = undefined;
    });
    return pending;
  };

  return {
    current,
    token: async () => (await current()).base_token,
    invalidate: () => {
      cached = undefined;
    },
  };
}

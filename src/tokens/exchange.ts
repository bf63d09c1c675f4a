import { authenticateAccountToken } from '../accounts/account-tokens';
import type { Deps } from '../deps';
import {
  BaseRequired,
  exchangeAccountToken,
  exchangeApiToken,
  type ExchangeRequest,
  type IssuedBaseToken,
} from './base-tokens';
import { parseOpaqueToken } from './opaque';
import { exchangeTempApiToken } from './temp-api-tokens';

/**
 * A presented credential → a Base-Token: an Account-Token for a base its user is a member of (the
 * request must name the base), or else an API-Token.
 */
export async function exchangeCredential(
  deps: Deps,
  credential: string,
  request: ExchangeRequest,
): Promise<IssuedBaseToken> {
  if (parseOpaqueToken(credential)?.kind !== 'account') return exchangeApiToken(deps, credential, request);
  const principal = await authenticateAccountToken(deps, credential);
  if (!request.baseUuid) throw new BaseRequired('base_uuid: required when exchanging an Account-Token');
  return exchangeAccountToken(deps, principal, request.baseUuid, request);
}

/**
 * SeaTable's app-access-token: an opaque API-Token, or else a temporary API-Token (a JWT), as
 * SeaTable accepts both there. Answers the base too, whose name and workspace SeaTable's reply carries.
 */
export async function exchangeAppToken(
  deps: Deps,
  credential: string,
  request: { ttlSeconds?: number; clientIp: string | null },
) {
  const temporary = parseOpaqueToken(credential) === null && credential.includes('.');
  const issued = temporary
    ? await exchangeTempApiToken(deps, credential, request.ttlSeconds, request.clientIp)
    : await exchangeApiToken(deps, credential, request);
  const base = await deps.db
    .selectFrom('bases')
    .select(['name', 'workspace_id'])
    .where('id', '=', issued.grant.baseUuid)
    .executeTakeFirstOrThrow();
  return { issued, base: { name: base.name, workspaceId: base.workspace_id } };
}

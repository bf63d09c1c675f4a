import { epochSeconds, isoTime } from '../clock';
import type { Principal } from '../accounts/account-tokens';
import { memberBase, permits } from '../bases/bases';
import type { Deps } from '../deps';
import { conflict, forbidden, notFound } from '../errors';
import { isUniqueViolation } from '../store/atomic';
import type { ApiTokensTable, ApiTokenPermission } from '../store/schema';
import { mintOpaqueToken } from './opaque';

function apiTokenView(row: Omit<ApiTokensTable, 'secret_hash' | 'revoked_at'>) {
  return {
    id: row.id,
    name: row.name,
    permission: row.permission,
    base_uuid: row.base_id,
    created_by: row.created_by,
    created_at: isoTime(row.created_at),
    last_used_at: isoTime(row.last_used_at),
  };
}

/** Mints an API-Token for a base; nobody mints above their own permission on it. */
export async function createApiToken(deps: Deps, principal: Principal, uuid: string, input: { name: string; permission: ApiTokenPermission }) {
  const { permission: held } = await memberBase(deps, principal, uuid);
  if (!permits(held, input.permission)) {
    throw forbidden(`your permission on this base is "${held}": you cannot mint a "${input.permission}" token`);
  }
  const minted = await mintOpaqueToken('api');
  const row = {
    id: minted.id,
    base_id: uuid,
    name: input.name,
    permission: input.permission,
    secret_hash: minted.hash,
    created_by: principal.userId,
    created_at: epochSeconds(deps.clock),
    last_used_at: null,
    revoked_at: null,
  };
  try {
    await deps.db.insertInto('api_tokens').values(row).execute();
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict('this base already has an API-Token with this name');
    throw error;
  }
  return { ...apiTokenView(row), token: minted.token };
}

/** Live API-Tokens of a base: all of them for base admins, the caller's own for other members. */
export async function listApiTokens(deps: Deps, principal: Principal, uuid: string) {
  const { permission } = await memberBase(deps, principal, uuid);
  let query = deps.db
    .selectFrom('api_tokens')
    .select(['id', 'base_id', 'name', 'permission', 'created_by', 'created_at', 'last_used_at'])
    .where('base_id', '=', uuid)
    .where('revoked_at', 'is', null);
  if (permission !== 'admin') query = query.where('created_by', '=', principal.userId);
  return (await query.orderBy('created_at').orderBy('id').execute()).map(apiTokenView);
}

/** Revokes an API-Token at once. Its creator or an admin of its base may; for anyone else it does not exist. */
export async function revokeApiToken(deps: Deps, principal: Principal, id: string): Promise<void> {
  const token = await deps.db
    .selectFrom('api_tokens as t')
    .leftJoin('base_members as m', (join) => join.onRef('m.base_id', '=', 't.base_id').on('m.user_id', '=', principal.userId))
    .select(['t.created_by', 'm.permission'])
    .where('t.id', '=', id)
    .where('t.revoked_at', 'is', null)
    .executeTakeFirst();
  if (!token || (token.created_by !== principal.userId && token.permission !== 'admin')) throw notFound('API-Token');
  const result = await deps.db
    .updateTable('api_tokens')
    .set({ revoked_at: epochSeconds(deps.clock) })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw notFound('API-Token');
}

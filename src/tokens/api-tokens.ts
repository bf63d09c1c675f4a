import { epochSeconds, isoTime } from '../clock';
import type { Principal } from '../accounts/account-tokens';
import { memberBase, permits } from '../bases/bases';
import type { Deps } from '../deps';
import { conflict, forbidden, notFound } from '../errors';
import { isUniqueViolation } from '../store/atomic';
import type { ApiTokenPermission, ApiTokensTable } from '../store/schema';
import { mintOpaqueToken } from './opaque';

type ApiTokenRow = Omit<ApiTokensTable, 'secret_hash' | 'revoked_at'> & { created_by_email: string };

export function apiTokenView(row: ApiTokenRow) {
  return {
    id: row.id,
    name: row.name,
    permission: row.permission,
    base_uuid: row.base_id,
    created_by: row.created_by,
    created_by_email: row.created_by_email,
    created_at: isoTime(row.created_at),
    last_used_at: isoTime(row.last_used_at),
  };
}

export type ApiTokenView = ReturnType<typeof apiTokenView>;

/** Live API-Tokens with their creator's email, newest last. */
export const liveApiTokens = (deps: Deps) =>
  deps.db
    .selectFrom('api_tokens as t')
    .innerJoin('users as u', 'u.id', 't.created_by')
    .select(['t.id', 't.base_id', 't.name', 't.permission', 't.created_by', 'u.email as created_by_email', 't.created_at', 't.last_used_at'])
    .where('t.revoked_at', 'is', null)
    .orderBy('t.created_at')
    .orderBy('t.id');

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
  return { ...apiTokenView({ ...row, created_by_email: principal.email }), token: minted.token };
}

/** Live API-Tokens of a base: all of them for base admins, the caller's own for other members. */
export async function listApiTokens(deps: Deps, principal: Principal, uuid: string) {
  const { permission } = await memberBase(deps, principal, uuid);
  let query = liveApiTokens(deps).where('t.base_id', '=', uuid);
  if (permission !== 'admin') query = query.where('t.created_by', '=', principal.userId);
  return (await query.execute()).map(apiTokenView);
}

/** One live API-Token of a base by name, if the caller may manage it (its creator or a base admin); else 404. */
export async function findApiTokenByName(deps: Deps, principal: Principal, uuid: string, name: string) {
  const { permission } = await memberBase(deps, principal, uuid);
  const token = await liveApiTokens(deps).where('t.base_id', '=', uuid).where('t.name', '=', name).executeTakeFirst();
  if (!token || (token.created_by !== principal.userId && permission !== 'admin')) throw notFound('API-Token');
  return apiTokenView(token);
}

/** Changes a token's permission in place; never above what the caller holds on its base. */
export async function updateApiTokenPermission(deps: Deps, principal: Principal, id: string, permission: ApiTokenPermission) {
  const token = await manageableToken(deps, principal, id);
  const { permission: held } = await memberBase(deps, principal, token.base_id);
  if (!permits(held, permission)) {
    throw forbidden(`your permission on this base is "${held}": you cannot grant "${permission}"`);
  }
  await deps.db.updateTable('api_tokens').set({ permission }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  return apiTokenView((await liveApiTokens(deps).where('t.id', '=', id).executeTakeFirst())!);
}

/** A live token the caller created, or one of a base they administer; 404 for everything else. */
async function manageableToken(deps: Deps, principal: Principal, id: string) {
  const token = await deps.db
    .selectFrom('api_tokens as t')
    .leftJoin('base_members as m', (join) => join.onRef('m.base_id', '=', 't.base_id').on('m.user_id', '=', principal.userId))
    .select(['t.base_id', 't.created_by', 'm.permission'])
    .where('t.id', '=', id)
    .where('t.revoked_at', 'is', null)
    .executeTakeFirst();
  if (!token || (token.created_by !== principal.userId && token.permission !== 'admin')) throw notFound('API-Token');
  return token;
}

/** Revokes an API-Token at once. Its creator or an admin of its base may; for anyone else it does not exist. */
export async function revokeApiToken(deps: Deps, principal: Principal, id: string): Promise<void> {
  await manageableToken(deps, principal, id);
  await markRevoked(deps, id);
}

/** Revokes by id once the caller's right to do so is established; a concurrent revoke makes it 404. */
export async function markRevoked(deps: Deps, id: string): Promise<void> {
  const result = await deps.db
    .updateTable('api_tokens')
    .set({ revoked_at: epochSeconds(deps.clock) })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw notFound('API-Token');
}

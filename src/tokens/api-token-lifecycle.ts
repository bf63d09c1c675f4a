import type { Principal } from '../accounts/principal';
import { actorOf, type AuditEvent } from '../audit/events';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { badRequest, conflict, forbidden, notFound } from '../errors';
import { isUniqueViolation } from '../store/atomic';
import { inIdList } from '../store/id-list';
import type { ApiTokenPermission } from '../store/schema';
import {
  apiTokenById,
  assertOwnerCovers,
  canonicalNetworkList,
  networksOf,
  findApiTokenByName,
  manageableApiToken,
  membershipOf,
  visibleApiTokens,
} from './api-tokens';
import { isSubsetOf, scopesOfPermission, summaryPermission, tokenScopes, type Scopes } from './grants';
import { OPAQUE_KINDS } from './kinds';
import { mintOpaqueToken } from './opaque';
import { publishRevocations, revokeTokens, type PublishingChange } from '../revocations/revoke';
import { assertPolicyAllowsNewToken, getTokenPolicy } from './policy';
import { networksCover } from '../verify/networks';

export interface ApiTokenPatch {
  name?: string;
  permission?: ApiTokenPermission;
  scopes?: Scopes;
  enabled?: boolean;
  /** Epoch seconds, or null for never. */
  expiresAt?: number | null;
  /** The client networks it may be exchanged from; null or [] = any address (see canonicalNetworkList). */
  allowedNetworks?: readonly string[] | null;
}

/** The bases a token's grant must be covered on when it changes (multi-base scopes are checked per exchange too). */
async function tokenBaseIds(
  deps: Pick<Deps, 'db'>,
  token: { id: string; scope_type: string; base_id: string | null },
) {
  if (token.scope_type === 'base') return [token.base_id!];
  if (token.scope_type !== 'bases') return [];
  return (
    await deps.db.selectFrom('api_token_bases').select('base_id').where('token_id', '=', token.id).execute()
  ).map((row) => row.base_id);
}

/** Refuses to widen a token whose owner is no longer a member of one of its bases. */
async function assertOwnerStillMember(deps: Pick<Deps, 'db'>, ownerId: string, baseIds: string[]) {
  for (const baseId of baseIds) {
    if ((await membershipOf(deps, ownerId, baseId)) === null) {
      throw forbidden(
        `the token's owner no longer has access to base ${baseId}: the token can be narrowed, disabled or deleted, not widened`,
      );
    }
  }
}

/**
 * Renames, re-scopes, enables/disables or re-dates a token in place (same id, same secret). Whatever
 * widens it is checked against its owner's membership now; whatever narrows it always works.
 */
export async function updateApiToken(
  deps: Pick<Deps, 'db' | 'audit' | 'clock' | 'config'>,
  principal: Principal,
  id: string,
  patch: ApiTokenPatch,
) {
  const token = await manageableApiToken(deps, principal, id);
  const now = epochSeconds(deps.clock);
  const owner = await deps.db
    .selectFrom('users')
    .select('kind')
    .where('id', '=', token.created_by)
    .executeTakeFirstOrThrow();
  const scopes = patch.scopes ?? (patch.permission ? scopesOfPermission(patch.permission) : undefined);
  const permission = patch.scopes ? summaryPermission(patch.scopes) : (patch.permission ?? token.permission);
  const expiresAt = patch.expiresAt !== undefined ? patch.expiresAt : token.expires_at;
  // What the change would give that the token does not give now: more scopes, more time, or being
  // enabled again. A change that gives nothing more (disable, an earlier expiry, fewer scopes, a
  // rename) needs nothing of its owner, so it works even after the owner left a base of the token.
  const widerScopes = scopes !== undefined && !isSubsetOf(scopes, tokenScopes(token));
  const longer =
    patch.expiresAt !== undefined &&
    token.expires_at !== null &&
    (patch.expiresAt === null || patch.expiresAt > token.expires_at);
  const reenabled = patch.enabled === true && token.enabled !== 1;
  // The network list: a new list that does not cover the old one takes addresses away (narrower); one
  // the old list does not cover (or none: any address) gives addresses (wider). Both at once is possible.
  const oldNetworks = networksOf(token.allowed_networks);
  const networks =
    patch.allowedNetworks !== undefined ? canonicalNetworkList(patch.allowedNetworks) : oldNetworks;
  const fewerAddresses = networks !== null && (oldNetworks === null || !networksCover(networks, oldNetworks));
  const moreAddresses = oldNetworks !== null && (networks === null || !networksCover(oldNetworks, networks));
  if (widerScopes || longer || reenabled || moreAddresses) {
    const baseIds = await tokenBaseIds(deps, token);
    await assertOwnerStillMember(deps, token.created_by, baseIds);
    if (widerScopes) await assertOwnerCovers(deps, token.created_by, baseIds, scopes);
  }
  if (patch.expiresAt !== undefined && patch.expiresAt !== null && patch.expiresAt <= now)
    throw badRequest('expires_at: must be in the future');
  if (patch.expiresAt !== undefined || scopes) {
    assertPolicyAllowsNewToken(
      await getTokenPolicy(deps),
      {
        createdAt: token.created_at,
        expiresAt,
        scopeType: token.scope_type,
        ownerKind: owner.kind,
        permission,
      },
      now,
    );
  }
  const grants = scopes ? (patch.scopes ? JSON.stringify(patch.scopes) : null) : token.grants;
  const event = (action: AuditEvent['action'], details: AuditEvent['details']): AuditEvent => ({
    action,
    actor: actorOf(principal),
    subjectUserId: token.created_by,
    baseId: token.base_id,
    targetId: id,
    details,
  });
  const events: AuditEvent[] = [];
  if (patch.name !== undefined && patch.name !== token.name)
    events.push(event('api_token.rename', { from: token.name, to: patch.name }));
  if (scopes && (permission !== token.permission || grants !== token.grants)) {
    events.push(
      event('api_token.permission_change', {
        from: token.permission,
        to: permission,
        fine_grained: grants !== null,
      }),
    );
  }
  const enabledNow = token.enabled === 1;
  if (patch.enabled !== undefined && patch.enabled !== enabledNow)
    events.push(event(patch.enabled ? 'api_token.enable' : 'api_token.disable', {}));
  if (patch.expiresAt !== undefined && patch.expiresAt !== token.expires_at)
    events.push(event('api_token.expiry_change', { from: token.expires_at, to: patch.expiresAt }));
  const storedNetworks = networks && JSON.stringify(networks);
  if (storedNetworks !== token.allowed_networks)
    events.push(event('api_token.network_change', { from: oldNetworks, to: networks }));
  // Disabling, or taking away anything the token granted (scopes, or time: an earlier expiry, which
  // Base-Tokens issued before it would outlive), ends the Base-Tokens already derived from it.
  const shortened =
    patch.expiresAt !== undefined &&
    patch.expiresAt !== null &&
    (token.expires_at === null || patch.expiresAt < token.expires_at);
  // Fewer client networks: Base-Tokens exchanged before from a now-refused address must end too.
  const narrowed =
    (scopes !== undefined && !isSubsetOf(tokenScopes(token), scopes)) || shortened || fewerAddresses;
  const revocation: PublishingChange | null =
    patch.enabled === false && enabledNow ? 'api_token_disabled' : narrowed ? 'api_token_narrowed' : null;
  const stillLive = deps.db
    .selectFrom('api_tokens')
    .select('id')
    .where('id', '=', id)
    .where('revoked_at', 'is', null);
  try {
    await deps.audit.commit(
      [
        deps.db
          .updateTable('api_tokens')
          .set({
            ...(patch.name !== undefined && { name: patch.name }),
            ...(scopes && { permission, grants }),
            ...(patch.enabled !== undefined && { enabled: patch.enabled ? 1 : 0 }),
            ...(patch.expiresAt !== undefined && { expires_at: patch.expiresAt }),
            ...(patch.allowedNetworks !== undefined && { allowed_networks: storedNetworks }),
            updated_at: now,
          })
          .where('id', '=', id)
          .where('revoked_at', 'is', null),
        ...(revocation ? publishRevocations(deps, [id], revocation, stillLive) : []),
      ],
      events,
      { onlyIf: stillLive },
    );
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict('another API-Token already has this name');
    throw error;
  }
  return apiTokenById(deps, id);
}

/**
 * Whether `principal` may obtain a new secret of a token owned by `ownerId`. Administering a token
 * (a base admin, a system admin) may disable or revoke it; only its owner obtains a secret, since a
 * secret acts as its owner. A service account never signs in: the system admins who mint its tokens
 * stand in for it.
 */
export async function mayRegenerateApiToken(
  deps: Pick<Deps, 'db'>,
  principal: Principal,
  ownerId: string,
): Promise<boolean> {
  if (ownerId === principal.userId) return true;
  if (principal.role !== 'system_admin') return false;
  const owner = await deps.db.selectFrom('users').select('kind').where('id', '=', ownerId).executeTakeFirst();
  return owner?.kind === 'service';
}

/**
 * A new secret for the same token (id, name, grant and expiry unchanged), for its owner only (see
 * mayRegenerateApiToken). The old secret stops at once, or after `graceSeconds` so an integration can
 * roll over without downtime. A compare-and-swap on the current secret makes two concurrent
 * regenerations leave exactly one new secret valid.
 */
export async function regenerateApiToken(
  deps: Pick<Deps, 'db' | 'audit' | 'clock' | 'config'>,
  principal: Principal,
  id: string,
  graceSeconds = 0,
) {
  const token = await manageableApiToken(deps, principal, id);
  if (!(await mayRegenerateApiToken(deps, principal, token.created_by)))
    throw forbidden("only a token's owner obtains its secret: administering it may disable or delete it");
  const current = await deps.db
    .selectFrom('api_tokens')
    .select(['secret_hash', 'last_used_at'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  const minted = await mintOpaqueToken('api', id);
  const now = epochSeconds(deps.clock);
  const grace = graceSeconds > 0;
  const applied = deps.db
    .selectFrom('api_tokens')
    .select('id')
    .where('id', '=', id)
    .where('secret_hash', '=', minted.hash);
  const [result] = await deps.audit.commit(
    [
      deps.db
        .updateTable('api_tokens')
        .set({
          secret_hash: minted.hash,
          previous_secret_hash: grace ? current.secret_hash : null,
          previous_secret_expires_at: grace ? now + graceSeconds : null,
          previous_last_used_at: grace ? current.last_used_at : null,
          last_used_at: null,
          updated_at: now,
        })
        .where('id', '=', id)
        .where('secret_hash', '=', current.secret_hash)
        .where('revoked_at', 'is', null),
      // Base-Tokens issued until now stop at every verifier polling the feed; with a grace period,
      // those the old secret obtains during it live their normal lifetime (README: Revocation).
      ...publishRevocations(deps, [id], 'api_token_regenerated', applied),
    ],
    [
      {
        action: 'api_token.regenerate',
        actor: actorOf(principal),
        subjectUserId: token.created_by,
        baseId: token.base_id,
        targetId: id,
        details: { grace_seconds: graceSeconds },
      },
    ],
    { onlyIf: applied },
  );
  if (result!.numAffectedRows === 0)
    throw conflict('the token changed meanwhile (regenerated or revoked); retry');
  return { ...(await apiTokenById(deps, id)), token: minted.token };
}

export async function revokeApiToken(
  deps: Pick<Deps, 'db' | 'audit' | 'clock' | 'config'>,
  principal: Principal,
  id: string,
): Promise<void> {
  await bulkRevokeApiTokens(deps, principal, [id]);
}

/**
 * Revokes several tokens in one request, all or nothing: any id the caller may not manage (or that is
 * gone) fails the whole request with 404; one conditional statement revokes them only if every one is
 * still live, so overlapping requests never revoke part of a list.
 */
export async function bulkRevokeApiTokens(
  deps: Pick<Deps, 'db' | 'audit' | 'clock' | 'config'>,
  principal: Principal,
  ids: string[],
): Promise<number> {
  const unique = [...new Set(ids)];
  const visible = await visibleApiTokens(deps, principal)
    .where(inIdList(deps.db, 't.id', unique))
    .execute();
  const missing = unique.filter((id) => !visible.some((row) => row.id === id));
  if (missing.length > 0) throw notFound(`API-Token ${missing.join(', ')}`);
  const revoked = await revokeTokens(deps, {
    kind: 'api',
    ids: unique,
    change: 'api_token_deleted',
    allOrNothing: true,
    events: visible
      .filter((row) => unique.includes(row.id))
      .map(
        (row): AuditEvent => ({
          action: OPAQUE_KINDS.api.revokeAction,
          actor: actorOf(principal),
          subjectUserId: row.created_by,
          baseId: row.base_id,
          targetId: row.id,
          details: { name: row.name },
        }),
      ),
  });
  if (revoked !== unique.length) throw notFound('API-Token (revoked meanwhile)');
  return unique.length;
}

/**
 * Sets the coarse permission of a base's token found by name (SeaTable's way of addressing one). As
 * in SeaTable, asking for the permission it already has is a 400, not a silent success.
 */
export async function setApiTokenPermission(
  deps: Deps,
  principal: Principal,
  baseUuid: string,
  name: string,
  permission: ApiTokenPermission,
) {
  const token = await findApiTokenByName(deps, principal, baseUuid, name);
  if (token.permission === permission) throw badRequest(`api token already has ${permission} permission.`);
  return updateApiToken(deps, principal, token.id, { permission });
}

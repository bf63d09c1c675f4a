import { actorOf } from '../audit/events';
import type { Principal } from '../accounts/principal';
import { memberBase } from '../bases/bases';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { AppError, badRequest, conflict, forbidden, notFound } from '../errors';
import { isUniqueViolation } from '../store/atomic';
import { inIdList } from '../store/id-list';
import type { ApiTokenPermission, ScopeType } from '../store/schema';
import { hitCounter, refundCounterStatement, type CounterLimit } from '../throttle/counters';
import {
  ceilingOf,
  isSubsetOf,
  scopesOfPermission,
  summaryPermission,
  tokenScopes,
  type Scopes,
} from './grants';
import { mintOpaqueToken } from './opaque';
import { canonicalNetwork, MAX_NETWORKS } from '../verify/networks';
import { assertPolicyAllowsNewToken, getTokenPolicy } from './policy';

/** Which bases a token reaches: one (SeaTable), a list, a whole workspace, or all of its owner's. */
export type TokenResources =
  | { type: 'base'; baseUuid: string }
  | { type: 'bases'; baseUuids: string[] }
  | { type: 'workspace'; workspaceId: string }
  | { type: 'all' };

export interface NewApiToken {
  name: string;
  /** The shorthand grant; ignored when `scopes` are given. */
  permission?: ApiTokenPermission;
  scopes?: Scopes;
  resources: TokenResources;
  /** Epoch seconds, or null for never. */
  expiresAt: number | null;
  /** The client networks it may be exchanged from (CIDR or bare addresses); null, [] or absent = any. */
  allowedNetworks?: readonly string[] | null;
}

/**
 * A token's network list in canonical form (src/verify/networks.ts), duplicates dropped, or null
 * (any address) for null or []. Refuses with a 400 naming the first bad entry; an entry with host bits
 * set (`10.0.0.1/8`) is refused rather than widened.
 */
export function canonicalNetworkList(list: readonly string[] | null | undefined): string[] | null {
  if (!list || list.length === 0) return null;
  if (list.length > MAX_NETWORKS) throw badRequest(`allowed_networks: at most ${MAX_NETWORKS} entries`);
  const networks: string[] = [];
  for (const [index, entry] of list.entries()) {
    const result = canonicalNetwork(entry);
    if ('error' in result)
      throw badRequest(`allowed_networks[${index}]: ${JSON.stringify(entry)}: ${result.error}`);
    if (!networks.includes(result.network)) networks.push(result.network);
  }
  return networks;
}

/** The stored list (JSON) as the domain answers it. */
export const networksOf = (stored: string | null): string[] | null =>
  stored === null ? null : (JSON.parse(stored) as string[]);

/** Live API-Tokens with what their views need, oldest first. */
export const liveApiTokens = (deps: Pick<Deps, 'db'>) =>
  deps.db
    .selectFrom('api_tokens as t')
    .innerJoin('users as u', 'u.id', 't.created_by')
    .select([
      't.id',
      't.name',
      't.created_by',
      't.scope_type',
      't.base_id',
      't.workspace_id',
      't.permission',
      't.grants',
      't.enabled',
      't.expires_at',
      't.created_at',
      't.updated_at',
      't.last_used_at',
      't.previous_secret_expires_at',
      't.previous_last_used_at',
      't.allowed_networks',
      'u.email as created_by_email',
    ])
    .where('t.revoked_at', 'is', null)
    .orderBy('t.created_at')
    .orderBy('t.id');

export type ApiTokenRow = Awaited<ReturnType<ReturnType<typeof liveApiTokens>['execute']>>[number];

/** An API-Token as the domain answers it (never its secret); times in epoch seconds. */
export interface ApiToken {
  id: string;
  name: string;
  /** The coarse grant (a summary when `scopes` are set). */
  permission: ApiTokenPermission;
  scopes: Scopes | null;
  resources: TokenResources;
  /** The base of a single-base token, else null. */
  baseUuid: string | null;
  enabled: boolean;
  expiresAt: number | null;
  expired: boolean;
  createdBy: string;
  createdByEmail: string;
  createdAt: number;
  updatedAt: number;
  lastUsedAt: number | null;
  /** The old secret during a regeneration grace period. */
  previousSecret: { expiresAt: number; lastUsedAt: number | null } | null;
  /** The client networks it may be exchanged from (canonical CIDR); null = any address. */
  allowedNetworks: string[] | null;
}

/** A token just minted or regenerated, with its secret (shown once). */
export type ApiTokenWithSecret = ApiToken & { token: string };

function apiTokenOf(row: ApiTokenRow, baseUuids: string[], now: number): ApiToken {
  const resources: TokenResources =
    row.scope_type === 'base'
      ? { type: 'base', baseUuid: row.base_id! }
      : row.scope_type === 'bases'
        ? { type: 'bases', baseUuids }
        : row.scope_type === 'workspace'
          ? { type: 'workspace', workspaceId: row.workspace_id! }
          : { type: 'all' };
  const graceOpen = row.previous_secret_expires_at !== null && row.previous_secret_expires_at > now;
  return {
    id: row.id,
    name: row.name,
    permission: row.permission,
    scopes: row.grants === null ? null : tokenScopes(row),
    resources,
    baseUuid: row.base_id,
    enabled: row.enabled === 1,
    expiresAt: row.expires_at,
    expired: row.expires_at !== null && row.expires_at <= now,
    createdBy: row.created_by,
    createdByEmail: row.created_by_email,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastUsedAt: row.last_used_at,
    previousSecret: graceOpen
      ? { expiresAt: row.previous_secret_expires_at!, lastUsedAt: row.previous_last_used_at }
      : null,
    allowedNetworks: networksOf(row.allowed_networks),
  };
}

/** The tokens of rows, with the base lists of multi-base tokens fetched in one query. */
export async function apiTokensOf(
  deps: Pick<Deps, 'db' | 'clock'>,
  rows: ApiTokenRow[],
): Promise<ApiToken[]> {
  const multi = rows.filter((row) => row.scope_type === 'bases').map((row) => row.id);
  const links =
    multi.length === 0
      ? []
      : await deps.db
          .selectFrom('api_token_bases')
          .selectAll()
          .where('token_id', 'in', multi)
          .orderBy('base_id')
          .execute();
  const now = epochSeconds(deps.clock);
  return rows.map((row) =>
    apiTokenOf(
      row,
      links.filter((link) => link.token_id === row.id).map((link) => link.base_id),
      now,
    ),
  );
}

export async function apiTokenById(deps: Pick<Deps, 'db' | 'clock'>, id: string): Promise<ApiToken> {
  const row = await liveApiTokens(deps).where('t.id', '=', id).executeTakeFirst();
  if (!row) throw notFound('API-Token');
  return (await apiTokensOf(deps, [row]))[0]!;
}

/** The user's permission on a base, or null if they are not a member. */
export async function membershipOf(deps: Pick<Deps, 'db'>, userId: string, baseId: string) {
  const row = await deps.db
    .selectFrom('base_members')
    .select('permission')
    .where('base_id', '=', baseId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row?.permission ?? null;
}

/**
 * Checks that the owner may grant `scopes` on each base: a member whose role covers them.
 * A token never grants more than its owner holds (it is intersected again at every exchange).
 */
export async function assertOwnerCovers(
  deps: Pick<Deps, 'db'>,
  ownerId: string,
  baseIds: string[],
  scopes: Scopes,
): Promise<void> {
  for (const baseId of baseIds) {
    const held = await membershipOf(deps, ownerId, baseId);
    if (held === null) throw notFound(`base ${baseId}`);
    if (!isSubsetOf(scopes, ceilingOf(held))) {
      throw forbidden(`the token's owner holds "${held}" on base ${baseId}: a token cannot grant more`);
    }
  }
}

/** Who will own a new token: the caller, or a service account when a system admin mints for it. */
async function ownerFor(deps: Pick<Deps, 'db'>, principal: Principal, ownerId: string) {
  const owner = await deps.db
    .selectFrom('users')
    .select(['id', 'email', 'kind', 'is_active'])
    .where('id', '=', ownerId)
    .executeTakeFirst();
  if (!owner) throw notFound('service account');
  if (owner.id !== principal.userId && (principal.role !== 'system_admin' || owner.kind !== 'service')) {
    throw forbidden('only system admins mint tokens for others, and only for service accounts');
  }
  if (!owner.is_active) throw badRequest('the owner is deactivated');
  return owner;
}

/** The creation quota's window: a day from the first creation counted in it (src/throttle/counters.ts). */
export const API_TOKEN_CREATE_WINDOW_SECONDS = 86400;

/**
 * Takes one creation from the signed-in user's daily quota (TOKENLADDER_API_TOKEN_CREATE_LIMIT), or
 * refuses with 429. Every deleted API-Token is one revocation feed entry, so without it a create →
 * delete loop would grow the feed without bound. It counts against whoever creates: a system admin
 * minting for service accounts spends their own quota (one per service account would multiply it).
 * Counted before the insert, so parallel requests cannot all pass; `giveBack` returns it when the
 * insert fails. The first refusal of a window is on record; the rest are counted, not recorded, so
 * the loop cannot grow the audit log instead.
 */
async function takeCreation(deps: Pick<Deps, 'db' | 'audit' | 'clock' | 'config'>, principal: Principal) {
  const quota: CounterLimit = {
    limit: deps.config.apiTokenCreateLimit,
    windowSeconds: API_TOKEN_CREATE_WINDOW_SECONDS,
  };
  const key = `api-token-create:${principal.userId}`;
  const state = await hitCounter(deps, key, quota);
  if (!state.allowed) {
    if (state.hits === quota.limit + 1) {
      await deps.audit.record({
        action: 'api_token.create',
        outcome: 'failure',
        actor: actorOf(principal),
        subjectUserId: principal.userId,
        details: { code: 'rate_limited', limit: quota.limit, window_seconds: quota.windowSeconds },
      });
    }
    throw new AppError(
      'rate_limited',
      `at most ${quota.limit} API-Tokens can be created a day; retry later`,
      state.retryAfterSeconds,
    );
  }
  return { giveBack: refundCounterStatement(deps.db, key, state.windowStart!) };
}

/**
 * Mints an API-Token. Nobody mints above what the owner holds on each base it reaches; the instance
 * token policy applies. Names are unique per base (single-base tokens) or per owner (the others).
 * Each creation counts against the creator's daily quota (takeCreation).
 */
export async function createApiToken(
  deps: Pick<Deps, 'db' | 'atomic' | 'audit' | 'clock' | 'config'>,
  principal: Principal,
  input: NewApiToken,
  ownerId: string = principal.userId,
) {
  const owner = await ownerFor(deps, principal, ownerId);
  const scopes = input.scopes ?? scopesOfPermission(input.permission ?? 'r');
  const permission = input.scopes ? summaryPermission(scopes) : (input.permission ?? 'r');
  const now = epochSeconds(deps.clock);
  const { resources } = input;
  const allowedNetworks = canonicalNetworkList(input.allowedNetworks);
  if (input.expiresAt !== null && input.expiresAt <= now)
    throw badRequest('expires_at: must be in the future');
  assertPolicyAllowsNewToken(
    await getTokenPolicy(deps),
    {
      createdAt: now,
      expiresAt: input.expiresAt,
      scopeType: resources.type,
      ownerKind: owner.kind,
      permission,
    },
    now,
  );

  let baseIds: string[] = [];
  if (resources.type === 'base') {
    if (owner.id === principal.userId) await memberBase(deps, principal, resources.baseUuid); // 404 for non-members
    baseIds = [resources.baseUuid];
  } else if (resources.type === 'bases') {
    baseIds = [...new Set(resources.baseUuids)];
  } else if (resources.type === 'workspace') {
    const workspace = await deps.db
      .selectFrom('workspaces')
      .select('id')
      .where('id', '=', resources.workspaceId)
      .where('owner_user_id', '=', owner.id)
      .executeTakeFirst();
    if (!workspace) throw notFound('workspace');
  }
  await assertOwnerCovers(deps, owner.id, baseIds, scopes);

  const creation = await takeCreation(deps, principal);
  const minted = await mintOpaqueToken('api');
  const scopeType: ScopeType = resources.type;
  const row = {
    id: minted.id,
    name: input.name,
    created_by: owner.id,
    scope_type: scopeType,
    base_id: resources.type === 'base' ? resources.baseUuid : null,
    workspace_id: resources.type === 'workspace' ? resources.workspaceId : null,
    permission,
    grants: input.scopes ? JSON.stringify(scopes) : null,
    secret_hash: minted.hash,
    expires_at: input.expiresAt,
    allowed_networks: allowedNetworks && JSON.stringify(allowedNetworks),
    created_at: now,
    updated_at: now,
  };
  try {
    await deps.audit.commit(
      [
        deps.db.insertInto('api_tokens').values(row),
        ...(resources.type === 'bases'
          ? [
              deps.db
                .insertInto('api_token_bases')
                .values(baseIds.map((baseId) => ({ token_id: row.id, base_id: baseId }))),
            ]
          : []),
      ],
      [
        {
          action: 'api_token.create',
          actor: actorOf(principal),
          subjectUserId: owner.id,
          baseId: row.base_id,
          targetId: row.id,
          details: {
            name: row.name,
            scope_type: scopeType,
            permission,
            expires_at: row.expires_at,
            ...(baseIds.length > 1 && { base_uuids: baseIds }),
            ...(allowedNetworks && { allowed_networks: allowedNetworks }),
          },
        },
      ],
    );
  } catch (error) {
    await deps.atomic([creation.giveBack]);
    if (isUniqueViolation(error))
      throw conflict(
        resources.type === 'base'
          ? 'this base already has an API-Token with this name'
          : 'you already have an API-Token with this name',
      );
    throw error;
  }
  return { ...(await apiTokenById(deps, row.id)), token: minted.token };
}

export interface TokenFilters {
  baseUuid?: string;
  createdBy?: string;
  status?: 'active' | 'expired' | 'disabled';
}

/**
 * The API-Tokens the caller may see and manage: their own, the single-base tokens of bases they
 * administer, and for system admins all of them.
 */
export function visibleApiTokens(
  deps: Pick<Deps, 'db' | 'clock'>,
  principal: Principal,
  filters: TokenFilters = {},
) {
  const now = epochSeconds(deps.clock);
  let query = liveApiTokens(deps);
  if (principal.role !== 'system_admin') {
    const administered = deps.db
      .selectFrom('base_members')
      .select('base_id')
      .where('user_id', '=', principal.userId)
      .where('permission', '=', 'admin');
    query = query.where((eb) =>
      eb.or([eb('t.created_by', '=', principal.userId), eb('t.base_id', 'in', administered)]),
    );
  }
  if (filters.baseUuid !== undefined) {
    const linked = deps.db
      .selectFrom('api_token_bases')
      .select('token_id')
      .where('base_id', '=', filters.baseUuid);
    query = query.where((eb) => eb.or([eb('t.base_id', '=', filters.baseUuid!), eb('t.id', 'in', linked)]));
  }
  if (filters.createdBy !== undefined) query = query.where('t.created_by', '=', filters.createdBy);
  if (filters.status === 'disabled') query = query.where('t.enabled', '=', 0);
  if (filters.status === 'expired') query = query.where('t.expires_at', '<=', now);
  if (filters.status === 'active') {
    query = query
      .where('t.enabled', '=', 1)
      .where((eb) => eb.or([eb('t.expires_at', 'is', null), eb('t.expires_at', '>', now)]));
  }
  return query;
}

export async function listApiTokens(
  deps: Pick<Deps, 'db' | 'clock'>,
  principal: Principal,
  filters: TokenFilters = {},
) {
  return apiTokensOf(deps, await visibleApiTokens(deps, principal, filters).execute());
}

/** The single-base tokens of a base the caller sees: all of them for its admins, their own for other members. */
async function baseApiTokenRows(deps: Pick<Deps, 'db' | 'clock'>, principal: Principal, uuid: string) {
  const { permission } = await memberBase(deps, principal, uuid);
  const query = liveApiTokens(deps).where('t.base_id', '=', uuid);
  return permission === 'admin' ? query : query.where('t.created_by', '=', principal.userId);
}

/** The single-base tokens of a base: all of them for its admins, their own for other members. */
export async function listBaseApiTokens(
  deps: Pick<Deps, 'db' | 'clock'>,
  principal: Principal,
  uuid: string,
) {
  return apiTokensOf(deps, await (await baseApiTokenRows(deps, principal, uuid)).execute());
}

/**
 * Single-base tokens of a base by id, in the order asked, if the caller sees every one of them (as
 * listBaseApiTokens); else 404.
 */
export async function baseApiTokensById(
  deps: Pick<Deps, 'db' | 'clock'>,
  principal: Principal,
  uuid: string,
  ids: string[],
): Promise<ApiToken[]> {
  const rows = await (await baseApiTokenRows(deps, principal, uuid))
    .where(inIdList(deps.db, 't.id', ids))
    .execute();
  const tokens = await apiTokensOf(deps, rows);
  return ids.map((id) => {
    const token = tokens.find((candidate) => candidate.id === id);
    if (!token) throw notFound('API-Token');
    return token;
  });
}

/** The row of a token the caller may manage (see visibleApiTokens), for the domain's writes; else 404. */
export async function manageableApiToken(
  deps: Pick<Deps, 'db' | 'clock'>,
  principal: Principal,
  id: string,
): Promise<ApiTokenRow> {
  const row = await visibleApiTokens(deps, principal).where('t.id', '=', id).executeTakeFirst();
  if (!row) throw notFound('API-Token');
  return row;
}

/** A token the caller may manage (see visibleApiTokens); 404 for everything else. */
export async function getApiToken(
  deps: Pick<Deps, 'db' | 'clock'>,
  principal: Principal,
  id: string,
): Promise<ApiToken> {
  return (await apiTokensOf(deps, [await manageableApiToken(deps, principal, id)]))[0]!;
}

/** One single-base token of a base by name, if the caller may manage it; else 404. */
export async function findApiTokenByName(
  deps: Pick<Deps, 'db' | 'clock'>,
  principal: Principal,
  uuid: string,
  name: string,
) {
  await memberBase(deps, principal, uuid);
  const row = await visibleApiTokens(deps, principal)
    .where('t.base_id', '=', uuid)
    .where('t.name', '=', name)
    .executeTakeFirst();
  if (!row) throw notFound('API-Token');
  return (await apiTokensOf(deps, [row]))[0]!;
}

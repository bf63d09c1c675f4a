import { SignJWT } from 'jose';
import { sql, type Selectable } from 'kysely';
import type { Principal } from '../accounts/principal';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { AppError, forbidden, notFound } from '../errors';
import {
  ceilingOf,
  claimsOf,
  COARSE_SCOPES,
  intersectScopes,
  isSubsetOf,
  narrowToTable,
  scopesOfPermission,
  tokenScopes,
  type Scopes,
} from './grants';
import { matchesSecret } from './kinds';
import { expectOpaqueToken } from './opaque';
import { touchLastUsed } from './last-used';
import { earliest } from './expiry';
import { parseTokenPolicy, policyEndOf, policyProblem, TOKEN_POLICY_KEY } from './policy';
import type { ApiTokensTable, BasePermission, UserKind } from '../store/schema';
import { baseAudience } from '../verify/claims';
import { scopeString } from '../verify/scopes';
import { feedPosition } from '../revocations/feed';
import { networksContain } from '../verify/networks';

export const BASE_TOKEN_TYPE = 'at+jwt';

export interface BaseTokenGrant {
  userId: string;
  baseUuid: string;
  scopes: Scopes;
  clientId: string;
  tokenType: 'api_token' | 'account_token';
  tokenName: string;
  /**
   * When the credential it came from ends (epoch seconds; null for never): the earliest of its expiry,
   * its previous secret's grace period, the token policy's maximum lifetime, the Account-Token's expiry
   * and maximum age. The Base-Token never outlives it.
   */
  endsAt: number | null;
  /** Where the exchange came from, for the audit record. */
  clientIp?: string | null;
  /** The client networks of an allowlisted API-Token (canonical CIDR), signed as `cidr`; else absent. */
  networks?: string[] | null;
  /**
   * The feed position read in the same statement as the source (`feedPosition`), signed as `gen`:
   * feed entries written after that read refuse the Base-Token.
   */
  gen: number;
}

/**
 * What an exchange may ask for: the base (required for multi-base tokens), and less than the token
 * grants (attenuation): a coarse permission or scopes, one table, a shorter lifetime. Never more.
 */
export interface ExchangeRequest {
  baseUuid?: string;
  permission?: 'r' | 'rw';
  scopes?: Scopes;
  table?: string;
  ttlSeconds?: number;
  /** Not part of the ask: where it came from, for the audit record. */
  clientIp?: string | null;
}

/**
 * Signs a Base-Token (RFC 9068 access-token profile) with the current key; always with a kid. It
 * expires at the earliest of now + the asked lifetime, now + the configured lifetime and the end of
 * its source (`grant.endsAt`).
 * It also carries SeaTable's claim names (dtable_uuid, username, app_name), so services written for
 * SeaTable's payload read it unchanged; fine-grained grants go into `scp` (src/verify/scopes.ts).
 */
export async function signBaseToken(
  deps: Pick<Deps, 'audit' | 'keys' | 'clock' | 'config'>,
  grant: BaseTokenGrant,
  ttlSeconds?: number,
) {
  const key = await deps.keys.current();
  const now = epochSeconds(deps.clock);
  const expiresAt = earliest(
    now + Math.min(ttlSeconds ?? Infinity, deps.config.baseTokenTtlSeconds),
    grant.endsAt,
  )!;
  const { permission, scp } = claimsOf(grant.scopes);
  const scope = scp === undefined ? COARSE_SCOPE_STRINGS[permission as BasePermission] : scopeString(scp);
  const jti = crypto.randomUUID();
  // Recorded before the token is handed out: a Base-Token the audit log does not know never leaves.
  // The record's commit runs while the signature is computed (awaited below, so a failed record
  // fails the exchange); only a signing failure, a broken key, can leave a record without a token.
  const recorded = deps.audit.record({
    action: 'base_token.issue',
    actor: { userId: grant.userId, tokenId: grant.clientId, clientIp: grant.clientIp ?? null },
    subjectUserId: grant.userId,
    baseId: grant.baseUuid,
    targetId: jti,
    details: { token_type: grant.tokenType, permission, expires_at: expiresAt },
  });
  recorded.catch(() => undefined); // handled by the await below; this keeps it from counting as unhandled meanwhile
  const jwt = await new SignJWT({
    client_id: grant.clientId,
    token_type: grant.tokenType,
    token_name: grant.tokenName,
    base_uuid: grant.baseUuid,
    permission,
    ...(scp && { scp }),
    scope,
    gen: grant.gen,
    ...(grant.networks && { cidr: grant.networks }),
    dtable_uuid: grant.baseUuid,
    username: grant.userId,
    ...(grant.tokenType === 'api_token' && { app_name: grant.tokenName }),
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: BASE_TOKEN_TYPE })
    .setIssuer(deps.config.issuer)
    // `aud` binds the token to the one base it was issued for (the verifier's own spelling of it).
    .setAudience(baseAudience(grant.baseUuid))
    .setSubject(grant.userId)
    .setJti(jti)
    .setIssuedAt(now)
    .setExpirationTime(expiresAt)
    .sign(key.privateKey);
  await recorded;
  return { jwt, expiresAt, grant, permission, scp, scope, jti };
}

/** The `scope` claim of each coarse grant, computed once (the exchange's common case). */
const COARSE_SCOPE_STRINGS: Readonly<Record<BasePermission, string>> = Object.freeze({
  r: scopeString(COARSE_SCOPES.r, 'r'),
  rw: scopeString(COARSE_SCOPES.rw, 'rw'),
  admin: scopeString(COARSE_SCOPES.admin, 'admin'),
});

export type IssuedBaseToken = Awaited<ReturnType<typeof signBaseToken>>;

/**
 * The exchange did not name the base and the credential does not say it (a token reaching several
 * bases, an Account-Token): a 400 like any bad request; OAuth's token endpoint answers `invalid_target`.
 */
export class BaseRequired extends AppError {
  constructor(message: string) {
    super('invalid_request', message);
  }
}

/**
 * The exchange asked for more than the token grants, or for a table the grant has nothing on: a 403
 * like any refused permission; OAuth's token endpoint answers it as `invalid_scope`.
 */
export class ScopeRefused extends AppError {
  constructor(message: string) {
    super('insufficient_permission', message);
  }
}

/** `effective`, narrowed by what the request asks for; asking for more than `effective` is refused. */
function attenuate(effective: Scopes, request: ExchangeRequest): Scopes {
  const asked = request.scopes ?? (request.permission ? scopesOfPermission(request.permission) : undefined);
  let scopes = effective;
  if (asked) {
    if (!isSubsetOf(asked, effective))
      throw new ScopeRefused('the exchange asks for more than the token grants on this base');
    scopes = intersectScopes(asked, effective);
  }
  if (request.table !== undefined) scopes = narrowToTable(scopes, request.table);
  if (Object.keys(scopes.c).length === 0) throw new ScopeRefused('the token grants nothing on this base');
  return scopes;
}

/** An API-Token with what the exchange checks: its owner, the owner's role on the target base, the token policy. */
export type ExchangeableToken = Omit<Selectable<ApiTokensTable>, 'updated_at'> & {
  is_active: number;
  owner_kind: UserKind;
  /** The owner's membership on the target base (the requested one, else the token's own); null if none. */
  owner_permission: BasePermission | null;
  /** The stored token policy (JSON), if any. */
  policy: string | null;
  /** 1 when a kill switch took the target base from this (workspace or all-bases) token. */
  blocked: number;
  /** 1 when the token's scope reaches the target base (its base, its list, its workspace, all). */
  in_scope: number;
  /** The feed position, read with all of the above (src/revocations/feed.ts, feedPosition). */
  gen: number;
};

/**
 * Everything the exchange checks, in one indexed lookup: one statement, so one consistent snapshot,
 * read together with the feed position the Base-Token will carry (`gen`). A change committed after
 * it is refused by its feed entry; one committed before is what this read sees. Hand-written SQL on purpose: this runs on
 * every exchange, and building and compiling it with Kysely's query builder cost about a tenth of
 * the exchange's CPU (bench/RESULTS.md). Portable: booleans come back as 0/1 on SQLite, D1 and PostgreSQL alike.
 */
export async function loadApiTokenForExchange(
  deps: Pick<Deps, 'db'>,
  id: string,
  baseUuid?: string,
): Promise<ExchangeableToken | undefined> {
  const { rows } = await sql<ExchangeableToken>`
    SELECT t.id, t.name, t.created_by, t.scope_type, t.base_id, t.workspace_id, t.permission, t.grants,
           t.secret_hash, t.previous_secret_hash, t.previous_secret_expires_at, t.enabled, t.expires_at,
           t.created_at, t.last_used_at, t.previous_last_used_at, t.revoked_at, t.allowed_networks,
           u.is_active, u.kind AS owner_kind, m.permission AS owner_permission,
           (SELECT value FROM settings WHERE key = ${TOKEN_POLICY_KEY}) AS policy,
           CASE WHEN EXISTS (SELECT 1 FROM api_token_base_blocks AS k
                    WHERE k.token_id = t.id AND k.base_id = COALESCE(${baseUuid ?? null}, t.base_id))
             THEN 1 ELSE 0 END AS blocked,
           CASE WHEN (CASE t.scope_type
             WHEN 'base' THEN t.base_id = COALESCE(${baseUuid ?? null}, t.base_id)
             WHEN 'all' THEN TRUE
             WHEN 'bases' THEN EXISTS (SELECT 1 FROM api_token_bases AS l
                                        WHERE l.token_id = t.id AND l.base_id = ${baseUuid ?? null})
             WHEN 'workspace' THEN EXISTS (SELECT 1 FROM bases AS b
                                            WHERE b.id = ${baseUuid ?? null} AND b.workspace_id = t.workspace_id)
             ELSE FALSE
           END) THEN 1 ELSE 0 END AS in_scope,
           ${feedPosition} AS gen
      FROM api_tokens AS t
      JOIN users AS u ON u.id = t.created_by
      LEFT JOIN base_members AS m ON m.user_id = t.created_by AND m.base_id = COALESCE(${baseUuid ?? null}, t.base_id)
     WHERE t.id = ${id}`.execute(deps.db);
  return rows[0];
}

/**
 * Whether a (secret-checked) API-Token works at all, whatever base it is used on: not revoked,
 * enabled, unexpired, within the token policy, its owner active. Throws the refusal; answers when the
 * token ends (its expiry or the policy's maximum lifetime, whichever is first; null for never).
 */
export function checkApiTokenLive(
  deps: Pick<Deps, 'clock'>,
  token: ExchangeableToken,
): { endsAt: number | null } {
  const now = epochSeconds(deps.clock);
  if (token.revoked_at !== null) throw new AppError('token_revoked', 'this API-Token has been revoked');
  if (token.enabled !== 1) throw new AppError('token_disabled', 'this API-Token is disabled');
  if (token.expires_at !== null && token.expires_at <= now)
    throw new AppError('token_expired', 'this API-Token has expired');
  const tokenPolicy = parseTokenPolicy(token.policy);
  const endsAt = earliest(token.expires_at, policyEndOf(tokenPolicy, token.created_at));
  const policy = policyProblem(
    tokenPolicy,
    {
      createdAt: token.created_at,
      expiresAt: token.expires_at,
      scopeType: token.scope_type,
      ownerKind: token.owner_kind,
      permission: token.permission,
    },
    now,
    false,
  );
  if (policy)
    throw new AppError(policy.lifetime ? 'token_expired' : 'insufficient_permission', policy.message);
  if (!token.is_active) throw new AppError('account_disabled', "this API-Token's owner is deactivated");
  return { endsAt };
}

/**
 * Refuses an allowlisted API-Token (`allowed_networks`) used from an address outside its networks, or
 * from an unknown one (no socket address, no configured header): the list fails closed. Only the
 * exchange checks it (introspection and explain are not uses of the token from an address).
 */
export function checkClientAddress(
  token: Pick<ExchangeableToken, 'allowed_networks'>,
  clientIp?: string | null,
) {
  if (token.allowed_networks === null) return;
  const networks = JSON.parse(token.allowed_networks) as string[];
  if (!clientIp || !networksContain(networks, clientIp))
    throw new AppError(
      'address_not_allowed',
      clientIp
        ? 'this API-Token may not be used from this client address (see its allowed_networks)'
        : 'this API-Token may only be used from listed networks, and the client address is unknown',
    );
}

/**
 * Whether a (secret-checked) API-Token may be exchanged for `request`, and with what scopes: the token's
 * grant ∩ its owner's current role on the base ∩ what is asked. Throws the AppError a refusal gets
 * (NocoDB's statuses: expired, disabled, unknown and out-of-scope 401; insufficient permission 403).
 */
export async function evaluateApiToken(
  deps: Pick<Deps, 'db' | 'clock'>,
  token: ExchangeableToken,
  request: ExchangeRequest,
): Promise<{ baseUuid: string; scopes: Scopes; endsAt: number | null }> {
  const { endsAt } = checkApiTokenLive(deps, token);
  const baseUuid = request.baseUuid ?? token.base_id;
  if (baseUuid === null) throw new BaseRequired('base_uuid: required for a token that reaches several bases');
  // A kill switch ended this token's access to the base (src/incidents/kill-switch.ts).
  if (token.blocked || !token.in_scope)
    throw new AppError('base_not_in_scope', "this API-Token's scope does not include that base");
  if (!token.owner_permission) throw forbidden("this API-Token's owner no longer has access to its base");
  const plain =
    token.grants === null &&
    request.permission === undefined &&
    request.scopes === undefined &&
    request.table === undefined;
  if (plain) {
    // The common case, a shorthand token asking for all it grants: the lesser of r/rw and the owner's role.
    return {
      baseUuid,
      scopes: COARSE_SCOPES[token.permission === 'r' || token.owner_permission === 'r' ? 'r' : 'rw'],
      endsAt,
    };
  }
  return {
    baseUuid,
    scopes: attenuate(intersectScopes(tokenScopes(token), ceilingOf(token.owner_permission)), request),
    endsAt,
  };
}

/** API-Token → Base-Token. The current secret, or the previous one during a regenerate's grace period. */
export async function exchangeApiToken(
  deps: Pick<Deps, 'db' | 'audit' | 'keys' | 'clock' | 'config' | 'hashToken'>,
  secret: string,
  request: ExchangeRequest = {},
) {
  const id = expectOpaqueToken(secret, 'api');
  const hash = await deps.hashToken(secret);
  const token = await loadApiTokenForExchange(deps, id, request.baseUuid);
  const now = epochSeconds(deps.clock);
  const matched = token === undefined ? null : matchesSecret(token, hash, now);
  if (!token || matched === null) throw new AppError('token_invalid', 'the token is malformed or unknown');
  // Before anything else is told or written: from outside its networks the token is good for nothing.
  checkClientAddress(token, request.clientIp);
  const { baseUuid, scopes, endsAt } = await evaluateApiToken(deps, token, request);
  if (matched === 'current') await touchLastUsed(deps.db, 'api_tokens', token.id, token.last_used_at, now);
  else
    await deps.db
      .updateTable('api_tokens')
      .set({ previous_last_used_at: now })
      .where('id', '=', token.id)
      .execute();
  return signBaseToken(
    deps,
    {
      userId: token.created_by,
      baseUuid,
      scopes,
      clientId: token.id,
      tokenType: 'api_token',
      tokenName: token.name,
      // The previous secret (a regenerate's grace period) ends sooner than the token.
      endsAt: matched === 'previous' ? earliest(endsAt, token.previous_secret_expires_at) : endsAt,
      clientIp: request.clientIp,
      networks: token.allowed_networks === null ? null : (JSON.parse(token.allowed_networks) as string[]),
      gen: token.gen,
    },
    networkBoundTtl(token, request.ttlSeconds),
  );
}

/** The asked lifetime, capped by the token policy for an API-Token bound to networks. */
function networkBoundTtl(token: ExchangeableToken, ttlSeconds: number | undefined): number | undefined {
  if (token.allowed_networks === null) return ttlSeconds;
  const cap = parseTokenPolicy(token.policy).networkBoundBaseTokenTtlSeconds;
  return cap === null ? ttlSeconds : Math.min(ttlSeconds ?? cap, cap);
}

/** Account-Token → Base-Token for a base the caller is a member of, with the caller's own permission (or less). */
export async function exchangeAccountToken(
  deps: Pick<Deps, 'db' | 'audit' | 'keys' | 'clock' | 'config'>,
  principal: Principal,
  baseUuid: string,
  request: ExchangeRequest = {},
) {
  // The membership, read in one statement with the Account-Token, its user and the feed position the
  // Base-Token carries: a sign-out, deactivation or demotion committed after this read is refused by
  // its feed entry, one committed before it is what this read sees (the authentication's own read
  // came earlier, so it cannot serve as that snapshot).
  const row = await deps.db
    .selectFrom('account_tokens as a')
    .innerJoin('users as u', 'u.id', 'a.user_id')
    .leftJoin('base_members as m', (join) =>
      join.onRef('m.user_id', '=', 'u.id').on('m.base_id', '=', baseUuid),
    )
    .select(['a.revoked_at', 'u.is_active', 'm.permission'])
    .select(feedPosition.as('gen'))
    .where('a.id', '=', principal.tokenId)
    .executeTakeFirst();
  if (!row || row.revoked_at !== null)
    throw new AppError('token_revoked', 'this Account-Token has been revoked');
  if (!row.is_active) throw new AppError('account_disabled', 'this account is deactivated');
  if (row.permission === null) throw notFound('base');
  const scopes = attenuate(ceilingOf(row.permission), request);
  return signBaseToken(
    deps,
    {
      userId: principal.userId,
      baseUuid,
      scopes,
      clientId: principal.tokenId,
      tokenType: 'account_token',
      tokenName: principal.tokenName,
      endsAt: principal.tokenEndsAt,
      clientIp: request.clientIp ?? principal.clientIp,
      gen: row.gen,
    },
    request.ttlSeconds,
  );
}

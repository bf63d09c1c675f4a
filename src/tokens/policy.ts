import { actorOf } from '../audit/events';
import { z } from 'zod';
import type { Principal } from '../accounts/principal';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { badRequest, forbidden } from '../errors';
import { publishSelectedRevocations } from '../revocations/revoke';
import type { ApiTokenPermission, ScopeType, UserKind } from '../store/schema';

/** Instance-wide rules for API-Tokens, set by a system admin; checked at creation and at every exchange. */
export interface TokenPolicy {
  /** No token may live longer than this many days (null: no limit). */
  maxLifetimeDays: number | null;
  /** Tokens must be created with an expiry. */
  requireExpiry: boolean;
  /** Tokens for "all bases, current and future" are not allowed. */
  forbidAllBasesScope: boolean;
  /** The most a service account's token may grant. */
  serviceAccountMaxPermission: 'r' | 'rw';
  /**
   * The longest a Base-Token from an API-Token with `allowed_networks` may live, in seconds (null: the
   * configured Base-Token lifetime). Applies to Base-Tokens issued from then on.
   */
  networkBoundBaseTokenTtlSeconds: number | null;
}

export const DEFAULT_POLICY: TokenPolicy = {
  maxLifetimeDays: null,
  requireExpiry: false,
  forbidAllBasesScope: false,
  serviceAccountMaxPermission: 'rw',
  networkBoundBaseTokenTtlSeconds: null,
};

/**
 * The policy as the settings table stores it (JSON). Its field names are the stored format: they stay
 * as they are whatever the domain calls them.
 */
const storedPolicySchema = z.strictObject({
  max_lifetime_days: z.number().int().min(1).max(3650).nullable(),
  require_expiry: z.boolean(),
  forbid_all_bases_scope: z.boolean(),
  service_account_max_permission: z.enum(['r', 'rw']),
  network_bound_base_token_ttl_seconds: z.number().int().min(60).max(31_536_000).nullable(),
});

type StoredPolicy = z.infer<typeof storedPolicySchema>;

const storedOf = (policy: TokenPolicy): StoredPolicy => ({
  max_lifetime_days: policy.maxLifetimeDays,
  require_expiry: policy.requireExpiry,
  forbid_all_bases_scope: policy.forbidAllBasesScope,
  service_account_max_permission: policy.serviceAccountMaxPermission,
  network_bound_base_token_ttl_seconds: policy.networkBoundBaseTokenTtlSeconds,
});

/** The settings row holding the policy. */
export const TOKEN_POLICY_KEY = 'token_policy';

/** A stored policy (JSON) read leniently: unknown or missing fields take their defaults. */
export function parseTokenPolicy(value: string | null | undefined): TokenPolicy {
  if (value === null || value === undefined) return DEFAULT_POLICY;
  const parsed = storedPolicySchema.safeParse({ ...storedOf(DEFAULT_POLICY), ...JSON.parse(value) });
  if (!parsed.success) return DEFAULT_POLICY;
  return {
    maxLifetimeDays: parsed.data.max_lifetime_days,
    requireExpiry: parsed.data.require_expiry,
    forbidAllBasesScope: parsed.data.forbid_all_bases_scope,
    serviceAccountMaxPermission: parsed.data.service_account_max_permission,
    networkBoundBaseTokenTtlSeconds: parsed.data.network_bound_base_token_ttl_seconds,
  };
}

export async function getTokenPolicy(deps: Pick<Deps, 'db'>): Promise<TokenPolicy> {
  const row = await deps.db
    .selectFrom('settings')
    .select('value')
    .where('key', '=', TOKEN_POLICY_KEY)
    .executeTakeFirst();
  return parseTokenPolicy(row?.value);
}

/**
 * Changes the fields of the policy that `patch` gives (undefined: unchanged); system admins only.
 * A stricter policy ends, at every verifier, the Base-Tokens of the API-Tokens it ends or shortens
 * (see tokensEndedBy), in the same write as the change.
 */
export async function setTokenPolicy(
  deps: Pick<Deps, 'db' | 'audit' | 'clock' | 'config'>,
  actor: Principal,
  patch: Partial<TokenPolicy>,
): Promise<TokenPolicy> {
  if (actor.role !== 'system_admin') throw forbidden('only system admins set the token policy');
  const current = await getTokenPolicy(deps);
  const policy: TokenPolicy = {
    maxLifetimeDays: patch.maxLifetimeDays !== undefined ? patch.maxLifetimeDays : current.maxLifetimeDays,
    requireExpiry: patch.requireExpiry ?? current.requireExpiry,
    forbidAllBasesScope: patch.forbidAllBasesScope ?? current.forbidAllBasesScope,
    serviceAccountMaxPermission: patch.serviceAccountMaxPermission ?? current.serviceAccountMaxPermission,
    networkBoundBaseTokenTtlSeconds:
      patch.networkBoundBaseTokenTtlSeconds !== undefined
        ? patch.networkBoundBaseTokenTtlSeconds
        : current.networkBoundBaseTokenTtlSeconds,
  };
  const value = JSON.stringify(storedOf(policy));
  const now = epochSeconds(deps.clock);
  const ended = tokensEndedBy(deps, current, policy, now);
  // How many, for the record; the feed entries themselves are chosen inside the write, so a token
  // made meanwhile (checked against the old policy) is ended too.
  const endedCount = ended === null ? 0 : (await ended.execute()).length;
  await deps.audit.commit(
    [
      deps.db
        .insertInto('settings')
        .values({ key: TOKEN_POLICY_KEY, value, updated_at: now })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: now })),
      ...(ended === null ? [] : publishSelectedRevocations(deps, 'api', ended, 'policy_tightened')),
    ],
    [
      {
        action: 'policy.update',
        actor: actorOf(actor),
        details: { policy: value, ...(endedCount > 0 && { ended_api_tokens: endedCount }) },
      },
    ],
  );
  return policy;
}

/**
 * The live API-Tokens whose Base-Tokens a change from `before` to `after` must end at verifiers (a
 * query selecting their `id`, run inside the write), or null for none: the tokens the new policy
 * refuses (policyProblem: all-bases scope newly forbidden; a service account's rw token under a cap
 * lowered to r) and those a shorter maximum lifetime ends before a Base-Token issued now would expire
 * (so Base-Tokens already issued could outlive the token).
 */
function tokensEndedBy(
  deps: Pick<Deps, 'db' | 'config'>,
  before: TokenPolicy,
  after: TokenPolicy,
  now: number,
) {
  const forbidsAll = after.forbidAllBasesScope && !before.forbidAllBasesScope;
  const capsServices =
    after.serviceAccountMaxPermission === 'r' && before.serviceAccountMaxPermission === 'rw';
  const shorter =
    after.maxLifetimeDays !== null &&
    (before.maxLifetimeDays === null || after.maxLifetimeDays < before.maxLifetimeDays);
  if (!forbidsAll && !capsServices && !shorter) return null;
  return deps.db
    .selectFrom('api_tokens as t')
    .innerJoin('users as u', 'u.id', 't.created_by')
    .select('t.id')
    .where('t.revoked_at', 'is', null)
    .where((eb) =>
      eb.or([
        ...(forbidsAll ? [eb('t.scope_type', '=', 'all')] : []),
        ...(capsServices ? [eb.and([eb('u.kind', '=', 'service'), eb('t.permission', '=', 'rw')])] : []),
        ...(shorter
          ? [eb('t.created_at', '<', now + deps.config.baseTokenTtlSeconds - after.maxLifetimeDays! * 86400)]
          : []),
      ]),
    );
}

/** When the policy's maximum lifetime ends a token made at `createdAt` (epoch seconds); null for no limit. */
export function policyEndOf(policy: TokenPolicy, createdAt: number): number | null {
  return policy.maxLifetimeDays === null ? null : createdAt + policy.maxLifetimeDays * 86400;
}

interface TokenFacts {
  createdAt: number;
  expiresAt: number | null;
  scopeType: ScopeType;
  ownerKind: UserKind;
  permission: ApiTokenPermission;
}

/**
 * Why the policy refuses a token, or null; `lifetime` problems make an existing token count as expired.
 * At creation the token's planned expiry must fit; afterwards every token, even one made before the
 * policy, stops once it is older than the maximum lifetime.
 */
export function policyProblem(
  policy: TokenPolicy,
  token: TokenFacts,
  now: number,
  atCreation: boolean,
): { lifetime: boolean; message: string } | null {
  const maxSeconds = policy.maxLifetimeDays === null ? null : policy.maxLifetimeDays * 86400;
  const lifetime = (message: string) => ({ lifetime: true, message });
  if (atCreation && policy.requireExpiry && token.expiresAt === null)
    return lifetime('the token policy requires an expiry');
  if (
    atCreation &&
    maxSeconds !== null &&
    (token.expiresAt === null || token.expiresAt - token.createdAt > maxSeconds)
  ) {
    return lifetime(`the token policy allows at most ${policy.maxLifetimeDays} days of lifetime`);
  }
  if (maxSeconds !== null && token.createdAt + maxSeconds <= now)
    return lifetime('the token is older than the token policy allows');
  if (policy.forbidAllBasesScope && token.scopeType === 'all')
    return { lifetime: false, message: 'the token policy forbids tokens for all bases' };
  if (
    token.ownerKind === 'service' &&
    policy.serviceAccountMaxPermission === 'r' &&
    token.permission === 'rw'
  ) {
    return { lifetime: false, message: 'the token policy limits service accounts to read-only tokens' };
  }
  return null;
}

export function assertPolicyAllowsNewToken(policy: TokenPolicy, token: TokenFacts, now: number): void {
  const problem = policyProblem(policy, token, now, true);
  if (problem) throw badRequest(problem.message);
}

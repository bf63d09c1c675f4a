import { actorOf } from '../audit/events';
import { z } from 'zod';
import type { Principal } from '../accounts/principal';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { badRequest, forbidden } from '../errors';
import type { ApiTokenPermission, ScopeType, UserKind } from '../store/schema';

/** Instance-wide rules for API-Tokens, set by a system admin; checked at creation and at every exchange. */
export const tokenPolicySchema = z.strictObject({
  /** No token may live longer than this many days (null: no limit). */
  max_lifetime_days: z.number().int().min(1).max(3650).nullable(),
  /** Tokens must be created with an expiry. */
  require_expiry: z.boolean(),
  /** Tokens for "all bases, current and future" are not allowed. */
  forbid_all_bases_scope: z.boolean(),
  /** The most a service account's token may grant. */
  service_account_max_permission: z.enum(['r', 'rw']),
});

export type TokenPolicy = z.infer<typeof tokenPolicySchema>;

export const DEFAULT_POLICY: TokenPolicy = {
  max_lifetime_days: null,
  require_expiry: false,
  forbid_all_bases_scope: false,
  service_account_max_permission: 'rw',
};

/** The settings row holding the policy. */
export const TOKEN_POLICY_KEY = 'token_policy';

/** A stored policy (JSON) read leniently: unknown or missing fields take their defaults. */
export function parseTokenPolicy(value: string | null | undefined): TokenPolicy {
  if (value === null || value === undefined) return DEFAULT_POLICY;
  const parsed = tokenPolicySchema.safeParse({ ...DEFAULT_POLICY, ...JSON.parse(value) });
  return parsed.success ? parsed.data : DEFAULT_POLICY;
}

export async function getTokenPolicy(deps: Pick<Deps, 'db'>): Promise<TokenPolicy> {
  const row = await deps.db
    .selectFrom('settings')
    .select('value')
    .where('key', '=', TOKEN_POLICY_KEY)
    .executeTakeFirst();
  return parseTokenPolicy(row?.value);
}

export async function setTokenPolicy(
  deps: Pick<Deps, 'db' | 'audit' | 'clock'>,
  actor: Principal,
  patch: Partial<TokenPolicy>,
): Promise<TokenPolicy> {
  if (actor.role !== 'system_admin') throw forbidden('only system admins set the token policy');
  const policy = { ...(await getTokenPolicy(deps)), ...patch };
  const value = JSON.stringify(policy);
  const now = epochSeconds(deps.clock);
  await deps.audit.commit(
    [
      deps.db
        .insertInto('settings')
        .values({ key: TOKEN_POLICY_KEY, value, updated_at: now })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: now })),
    ],
    [{ action: 'policy.update', actor: actorOf(actor), details: { policy: value } }],
  );
  return policy;
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
  const maxSeconds = policy.max_lifetime_days === null ? null : policy.max_lifetime_days * 86400;
  const lifetime = (message: string) => ({ lifetime: true, message });
  if (atCreation && policy.require_expiry && token.expiresAt === null)
    return lifetime('the token policy requires an expiry');
  if (
    atCreation &&
    maxSeconds !== null &&
    (token.expiresAt === null || token.expiresAt - token.createdAt > maxSeconds)
  ) {
    return lifetime(`the token policy allows at most ${policy.max_lifetime_days} days of lifetime`);
  }
  if (maxSeconds !== null && token.createdAt + maxSeconds <= now)
    return lifetime('the token is older than the token policy allows');
  if (policy.forbid_all_bases_scope && token.scopeType === 'all')
    return { lifetime: false, message: 'the token policy forbids tokens for all bases' };
  if (
    token.ownerKind === 'service' &&
    policy.service_account_max_permission === 'r' &&
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

import type { z } from 'zod';
import type { AccountToken } from '../accounts/account-tokens';
import type { ServiceAccount } from '../accounts/service-accounts';
import type { Team, User } from '../accounts/users';
import type { ChainReport } from '../audit/chain';
import type { AuditPage, AuditRecord } from '../audit/query';
import type { Base, BaseMember, Workspace } from '../bases/bases';
import { isoTime } from '../clock';
import type {
  accountTokenCreatedSchema,
  accountTokenSchema,
  apiTokenCreatedSchema,
  apiTokenSchema,
  auditEventSchema,
  auditPageSchema,
  chainReportSchema,
  baseSchema,
  baseSummarySchema,
  baseTokenSchema,
  explanationSchema,
  killSwitchResultSchema,
  memberSchema,
  resourcesSchema,
  revocationFeedSchema,
  serviceAccountSchema,
  signingKeySchema,
  teamSchema,
  tokenPolicyResponseSchema,
  userSchema,
  workspaceSchema,
} from '../openapi/responses';
import type { KeyInfo } from '../keys/signing-keys';
import type { RevocationPage } from '../revocations/feed';
import type { ApiToken, ApiTokenWithSecret, TokenResources } from '../tokens/api-tokens';
import type { IssuedBaseToken } from '../tokens/base-tokens';
import type { Explanation } from '../tokens/explain';
import type { TokenPolicy } from '../tokens/policy';
import { baseAudience } from '../verify/claims';

/**
 * The /api/v1 wire form of domain values: snake_case, ISO-8601 times. Each serializer returns the
 * type of its response schema (src/openapi/responses.ts), so the compiler checks the JSON against
 * what the document promises; test/http/openapi.test.ts checks real responses against it too.
 */

/** A response schema's type, read-only all the way down (domain values share their lists). */
type Json<Schema extends z.ZodType> = Frozen<z.infer<Schema>>;
type Frozen<T> = T extends (infer Item)[]
  ? readonly Frozen<Item>[]
  : T extends object
    ? { readonly [Key in keyof T]: Frozen<T[Key]> }
    : T;

function resourcesJson(resources: TokenResources): Json<typeof resourcesSchema> {
  switch (resources.type) {
    case 'base':
      return { type: 'base', base_uuid: resources.baseUuid };
    case 'bases':
      return { type: 'bases', base_uuids: resources.baseUuids };
    case 'workspace':
      return { type: 'workspace', workspace_id: resources.workspaceId };
    case 'all':
      return resources;
  }
}

export function apiTokenJson(token: ApiToken): Json<typeof apiTokenSchema> {
  return {
    id: token.id,
    name: token.name,
    permission: token.permission,
    scopes: token.scopes,
    resources: resourcesJson(token.resources),
    base_uuid: token.baseUuid,
    enabled: token.enabled,
    expires_at: isoTime(token.expiresAt),
    expired: token.expired,
    created_by: token.createdBy,
    created_by_email: token.createdByEmail,
    created_at: isoTime(token.createdAt),
    updated_at: isoTime(token.updatedAt),
    last_used_at: isoTime(token.lastUsedAt),
    previous_secret: token.previousSecret && {
      expires_at: isoTime(token.previousSecret.expiresAt),
      last_used_at: isoTime(token.previousSecret.lastUsedAt),
    },
    allowed_networks: token.allowedNetworks,
  };
}

export const apiTokenCreatedJson = (token: ApiTokenWithSecret): Json<typeof apiTokenCreatedSchema> => ({
  ...apiTokenJson(token),
  token: token.token,
});

export const explanationJson = (explanation: Explanation): Json<typeof explanationSchema> => ({
  allowed: explanation.allowed,
  base_uuid: explanation.baseUuid,
  code: explanation.code,
  reason: explanation.reason,
  effective: explanation.effective,
});

export const accountTokenJson = (
  token: AccountToken & { current: boolean },
): Json<typeof accountTokenSchema> => ({
  id: token.id,
  name: token.name,
  created_at: isoTime(token.createdAt),
  expires_at: isoTime(token.expiresAt),
  last_used_at: isoTime(token.lastUsedAt),
  current: token.current,
});

export const accountTokenCreatedJson = (
  token: AccountToken & { token: string },
): Json<typeof accountTokenCreatedSchema> => ({
  id: token.id,
  name: token.name,
  created_at: isoTime(token.createdAt),
  expires_at: isoTime(token.expiresAt),
  last_used_at: isoTime(token.lastUsedAt),
  token: token.token,
});

export const userJson = (user: User): Json<typeof userSchema> => ({
  id: user.id,
  email: user.email,
  name: user.name,
  role: user.role,
  team_id: user.teamId,
  is_active: user.isActive,
  created_at: isoTime(user.createdAt),
  updated_at: isoTime(user.updatedAt),
});

export const serviceAccountJson = (account: ServiceAccount): Json<typeof serviceAccountSchema> => ({
  ...userJson(account),
  kind: account.kind,
});

export const teamJson = (team: Team): Json<typeof teamSchema> => ({
  id: team.id,
  name: team.name,
  created_at: isoTime(team.createdAt),
});

export const baseJson = (base: Base): Json<typeof baseSchema> => ({
  uuid: base.uuid,
  name: base.name,
  workspace_id: base.workspaceId,
  created_by: base.createdBy,
  created_at: isoTime(base.createdAt),
  updated_at: isoTime(base.updatedAt),
  permission: base.permission,
});

/** A base in brief: `GET /api/v1/bases/{uuid}`. */
export const baseSummaryJson = (base: Base): Json<typeof baseSummarySchema> => ({
  uuid: base.uuid,
  name: base.name,
  workspace_id: base.workspaceId,
  permission: base.permission,
});

export const workspaceJson = (workspace: Workspace): Json<typeof workspaceSchema> => ({
  id: workspace.id,
  name: workspace.name,
  kind: workspace.kind,
  created_at: isoTime(workspace.createdAt),
  bases: workspace.bases.map(baseJson),
});

export const memberJson = (member: BaseMember): Json<typeof memberSchema> => ({
  user_id: member.userId,
  email: member.email,
  name: member.name,
  permission: member.permission,
  created_at: isoTime(member.createdAt),
});

export const auditEventJson = (record: AuditRecord): Json<typeof auditEventSchema> => ({
  seq: record.seq,
  at: isoTime(record.at),
  action: record.action,
  outcome: record.outcome,
  actor: {
    user_id: record.actor.userId,
    token_id: record.actor.tokenId,
    client_ip: record.actor.clientIp,
  },
  subject_user_id: record.subjectUserId,
  base_uuid: record.baseUuid,
  target_id: record.targetId,
  details: record.details,
  hash: record.hash,
});

export const auditPageJson = (page: AuditPage): Json<typeof auditPageSchema> => ({
  events: page.events.map(auditEventJson),
  next_cursor: page.nextCursor === null ? null : String(page.nextCursor),
});

export const killSwitchJson = (result: {
  disabled: number;
  baseAccessEnded: number;
  more: boolean;
  dryRun: boolean;
}): Json<typeof killSwitchResultSchema> => ({
  disabled: result.disabled,
  base_access_ended: result.baseAccessEnded,
  more: result.more,
  dry_run: result.dryRun,
});

/** The native answer to an exchange. */
export const baseTokenJson = ({
  jwt,
  expiresAt,
  grant,
  permission,
  scp,
}: IssuedBaseToken): Json<typeof baseTokenSchema> => ({
  base_token: jwt,
  expires_at: isoTime(expiresAt),
  base_uuid: grant.baseUuid,
  permission,
  ...(scp && { scopes: scp }),
});

export const signingKeyJson = (key: KeyInfo): Json<typeof signingKeySchema> => ({
  kid: key.kid,
  alg: key.alg,
  state: key.state,
  created_at: isoTime(key.createdAt),
  activated_at: isoTime(key.activatedAt),
  retired_at: isoTime(key.retiredAt),
});

export const chainReportJson = ({ anchoredAt, ...report }: ChainReport): Json<typeof chainReportSchema> => ({
  ...report,
  anchored_at: anchoredAt,
});

/** A page of the revocation feed; its times stay epoch seconds (verifiers compare them with `iat`). */
export const revocationFeedJson = (
  page: RevocationPage,
  pollIntervalSeconds: number,
): Json<typeof revocationFeedSchema> => ({
  revocations: page.entries.map((entry) => ({
    kind: entry.kind,
    value: entry.value,
    ...(entry.baseId !== null && { aud: baseAudience(entry.baseId) }),
    revoked_at: entry.revokedAt,
    expires_at: entry.expiresAt,
    // A jti entry matches one token whatever its position.
    ...(entry.kind !== 'jti' && { gen: entry.gen }),
  })),
  cursor: String(page.cursor),
  complete: page.complete,
  reset: page.reset,
  poll_interval_seconds: pollIntervalSeconds,
});

export const tokenPolicyJson = (policy: TokenPolicy): Json<typeof tokenPolicyResponseSchema> => ({
  max_lifetime_days: policy.maxLifetimeDays,
  require_expiry: policy.requireExpiry,
  forbid_all_bases_scope: policy.forbidAllBasesScope,
  service_account_max_permission: policy.serviceAccountMaxPermission,
  network_bound_base_token_ttl_seconds: policy.networkBoundBaseTokenTtlSeconds,
});

import type { AuditOutcome } from '../store/schema';

/**
 * What the audit log records. One name per kind of action, so `GET /api/v1/audit?action=` finds
 * every rename, every disable, every failed authentication.
 */
export const AUDIT_ACTIONS = [
  'account_token.login',
  'account_token.revoke',
  'password.change',
  'user.revoke_tokens',
  'user.create',
  'user.update',
  'service_account.create',
  'base.create',
  'base.member_set',
  'base.member_remove',
  'api_token.create',
  'api_token.rename',
  'api_token.permission_change',
  'api_token.enable',
  'api_token.disable',
  'api_token.base_access_end',
  'api_token.expiry_change',
  'api_token.network_change',
  'api_token.regenerate',
  'api_token.delete',
  'base_token.issue',
  'base_token.revoke',
  'temp_api_token.create',
  'auth.failure',
  'access.denied',
  'key.rotate',
  'policy.update',
  'token.leak_report',
  'token.kill_switch',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who acted: ids only. `clientIp` is the address the request came from. */
export interface AuditActor {
  userId: string | null;
  tokenId: string | null;
  clientIp: string | null;
}

export type AuditDetail = string | number | boolean | null | readonly string[];

export interface AuditEvent {
  action: AuditAction;
  /** Default 'success'. */
  outcome?: AuditOutcome;
  actor?: AuditActor | null;
  /** Whose account or token the action touched: they see the record in their own audit view. */
  subjectUserId?: string | null;
  baseId?: string | null;
  /** The token, user or key acted on. */
  targetId?: string | null;
  /** Ids, codes and changed values; never a secret (there is no place a secret could come from here). */
  details?: Record<string, AuditDetail>;
}

/** The actor of a request made with an Account-Token. */
export function actorOf(principal: {
  userId: string;
  tokenId: string;
  clientIp?: string | null;
}): AuditActor {
  return { userId: principal.userId, tokenId: principal.tokenId, clientIp: principal.clientIp ?? null };
}

/** An actor without a token (sign-in, a public endpoint), known by address only. */
export const anonymousActor = (clientIp: string | null): AuditActor => ({
  userId: null,
  tokenId: null,
  clientIp,
});

/**
 * `text` cut to at most `max` characters (whole code points), marked with a trailing `…` when cut:
 * for audit fields a caller chooses (a request path), so no record can be made large.
 */
export function boundedText(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

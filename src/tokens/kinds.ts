import type { AuditAction } from '../audit/events';
import { constantTimeEqual } from '../lib/bytes';
import type { Database } from '../store/schema';

/**
 * What each kind of opaque token is: everything that differs between kinds lives here, and the
 * format (src/tokens/opaque.ts), log redaction (src/lib/redact.ts), revocation
 * (src/revocations/revoke.ts), leak reports and the failed-authentication record derive from it.
 */
export const OPAQUE_KINDS = {
  account: {
    /** Makes a leaked token recognisable (secret scanners match on it); lowercase letters and `_` only. */
    prefix: 'tl_acc_',
    /** For messages: "this request needs an Account-Token". */
    name: 'an Account-Token',
    /** `token_type` in Base-Tokens and audit details. */
    tokenType: 'account_token',
    table: 'account_tokens',
    /** The column naming the user who owns the token (and sees its records). */
    owner: 'user_id',
    /** Whether a regenerate may keep the previous secret working for a grace period. */
    hasPreviousSecret: false,
    /** Whether the table has `updated_at`, set by every change including a revocation. */
    hasUpdatedAt: false,
    /** The audit action of revoking one. */
    revokeAction: 'account_token.revoke',
  },
  api: {
    prefix: 'tl_api_',
    name: 'an API-Token',
    tokenType: 'api_token',
    table: 'api_tokens',
    owner: 'created_by',
    hasPreviousSecret: true,
    hasUpdatedAt: true,
    revokeAction: 'api_token.delete',
  },
} as const satisfies Record<string, OpaqueKindInfo>;

export interface OpaqueKindInfo {
  prefix: string;
  name: string;
  tokenType: string;
  table: keyof Database;
  owner: string;
  hasPreviousSecret: boolean;
  hasUpdatedAt: boolean;
  revokeAction: AuditAction;
}

export type OpaqueKind = keyof typeof OPAQUE_KINDS;

/** The tables of the opaque kinds (they share `id`, `secret_hash`, `last_used_at`, `revoked_at`). */
export type TokenTable = (typeof OPAQUE_KINDS)[OpaqueKind]['table'];

export const OPAQUE_KIND_NAMES = Object.keys(OPAQUE_KINDS) as OpaqueKind[];

/** The stored secrets of a token; kinds without a previous secret leave those fields out. */
export interface StoredSecrets {
  secret_hash: string;
  previous_secret_hash?: string | null;
  previous_secret_expires_at?: number | null;
}

/**
 * Which of a token's secrets `hash` (SHA-256 hex of the presented token) is: the current one, or the
 * previous one while a regenerate's grace period lasts; null for neither. Compared in constant time.
 */
export function matchesSecret(row: StoredSecrets, hash: string, now: number): 'current' | 'previous' | null {
  if (constantTimeEqual(row.secret_hash, hash)) return 'current';
  const previous = row.previous_secret_hash ?? null;
  if (previous !== null && (row.previous_secret_expires_at ?? 0) > now && constantTimeEqual(previous, hash))
    return 'previous';
  return null;
}

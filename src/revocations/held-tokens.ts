import type { AuditActor, AuditDetail } from '../audit/events';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { matchesSecret, OPAQUE_KINDS, type StoredSecrets } from '../tokens/kinds';
import { parseOpaqueToken, type OpaqueKind } from '../tokens/opaque';
import { COMPACT_JWS } from '../verify/precheck';
import { revokeBaseToken } from './base-tokens';
import { revokeTokens } from './revoke';

/**
 * Why whoever holds a token revokes it: a leak report (`POST /api/v1/leaked-tokens`), or the holder
 * itself (`POST /oauth/revoke`, RFC 7009; `POST /api/v1/base-tokens/revoke`). Holding the token is
 * the credential in both.
 */
export type HeldRevocation = 'leak_reported' | 'holder';

/** What a revocation reads of a token row; columns its kind does not have are absent. */
type HeldToken = StoredSecrets & { owner: string; base_id?: string | null; revoked_at: number | null };

/**
 * Revokes a token presented by whoever holds it: an API-Token or Account-Token (current secret, or
 * the previous one in its grace period) with its Base-Tokens, or a Base-Token or temporary API-Token
 * by its `jti`. Strings that fail our checksum or JWT shape are dropped without a query; an unknown,
 * wrong or already revoked token changes nothing. `details` join the audit record's own (a secret
 * scanner's `url` and `source`); the record is written only by the call that revokes. Returns whether
 * the string is one of our tokens, revoked by this call or before it (a secret scanner's
 * `true_positive`); false for anything else, an expired Base-Token included.
 */
export async function revokeHeldToken(
  deps: Pick<Deps, 'db' | 'audit' | 'keys' | 'clock' | 'config' | 'hashToken'>,
  token: string,
  why: HeldRevocation,
  actor: AuditActor,
  details: Record<string, AuditDetail> = {},
): Promise<boolean> {
  const opaque = parseOpaqueToken(token);
  if (opaque) return revokeHeldOpaqueToken(deps, token, opaque, why, actor, details);
  if (COMPACT_JWS.test(token))
    return revokeBaseToken(
      deps,
      token,
      why === 'leak_reported' ? 'leak_reported' : 'base_token_revoked',
      actor,
      details,
    );
  return false;
}

async function revokeHeldOpaqueToken(
  deps: Pick<Deps, 'db' | 'audit' | 'clock' | 'config' | 'hashToken'>,
  token: string,
  { kind, id }: { kind: OpaqueKind; id: string },
  why: HeldRevocation,
  actor: AuditActor,
  details: Record<string, AuditDetail>,
): Promise<boolean> {
  const hash = await deps.hashToken(token);
  const { table, owner, tokenType, revokeAction } = OPAQUE_KINDS[kind];
  const row: HeldToken | undefined = await deps.db
    .selectFrom(table)
    .selectAll()
    .select((eb) => eb.ref(owner).as('owner'))
    .where('id', '=', id)
    .executeTakeFirst();
  // The current secret, or the previous one while it still works (a grace period).
  if (!row || matchesSecret(row, hash, epochSeconds(deps.clock)) === null) return false;
  if (row.revoked_at !== null) return true;
  await revokeTokens(deps, {
    kind,
    ids: [id],
    change:
      why === 'leak_reported'
        ? 'leak_reported'
        : kind === 'api'
          ? 'api_token_deleted'
          : 'account_token_revoked',
    events: [
      {
        action: why === 'leak_reported' ? 'token.leak_report' : revokeAction,
        actor,
        subjectUserId: row.owner,
        baseId: row.base_id ?? null,
        targetId: id,
        details: { ...details, token_type: tokenType, ...(why === 'holder' && { via: 'oauth_revoke' }) },
      },
    ],
  });
  // Revoked by this call, or by a concurrent one between the read and the write: ours either way.
  return true;
}

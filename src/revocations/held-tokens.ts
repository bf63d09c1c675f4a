import type { AuditActor } from '../audit/events';
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
 * wrong or already revoked token changes nothing. Returns whether this call revoked something.
 */
export async function revokeHeldToken(
  deps: Pick<Deps, 'db' | 'audit' | 'keys' | 'clock' | 'config' | 'hashToken'>,
  token: string,
  why: HeldRevocation,
  actor: AuditActor,
): Promise<boolean> {
  const opaque = parseOpaqueToken(token);
  if (opaque) return revokeHeldOpaqueToken(deps, token, opaque, why, actor);
  if (COMPACT_JWS.test(token))
    return revokeBaseToken(
      deps,
      token,
      why === 'leak_reported' ? 'leak_reported' : 'base_token_revoked',
      actor,
    );
  return false;
}

async function revokeHeldOpaqueToken(
  deps: Pick<Deps, 'db' | 'audit' | 'clock' | 'config' | 'hashToken'>,
  token: string,
  { kind, id }: { kind: OpaqueKind; id: string },
  why: HeldRevocation,
  actor: AuditActor,
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
  if (!row || matchesSecret(row, hash, epochSeconds(deps.clock)) === null || row.revoked_at !== null)
    return false;
  const revoked = await revokeTokens(deps, {
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
        details: { token_type: tokenType, ...(why === 'holder' && { via: 'oauth_revoke' }) },
      },
    ],
  });
  return revoked > 0;
}

import { epochSeconds, isoTime } from '../clock';
import type { Deps } from '../deps';
import { AppError, notFound } from '../errors';
import { constantTimeEqual } from '../lib/bytes';
import type { Role } from '../store/schema';
import { expectOpaqueToken } from '../tokens/kinds';
import { touchLastUsed } from '../tokens/last-used';
import { mintOpaqueToken } from '../tokens/opaque';
import { normalizePassword } from './passwords';
import { normalizeEmail } from './users';

/** The authenticated caller of an Account-Token route. */
export interface Principal {
  userId: string;
  email: string;
  name: string;
  role: Role;
  teamId: string | null;
  /** The Account-Token this request came with. */
  tokenId: string;
  tokenName: string;
}

const INVALID_CREDENTIALS = new AppError('invalid_credentials', 'email or password is incorrect');

/**
 * Email + password → a new Account-Token. Unknown email, wrong password and deactivated account give
 * the same answer after the same work (one scrypt, on a dummy hash for unknown emails).
 */
export async function login(deps: Deps, input: { email: string; password: string; name?: string; expiresInDays?: number }) {
  // Longer than any password we accept: cannot match, so refuse without spending a hash.
  if ([...normalizePassword(input.password)].length > deps.config.passwordMaxLength) throw INVALID_CREDENTIALS;
  const user = await deps.db
    .selectFrom('users')
    .select(['id', 'password_hash', 'is_active'])
    .where('email', '=', normalizeEmail(input.email))
    .executeTakeFirst();
  const verification = await deps.passwords.verify(input.password, user?.password_hash ?? null);
  if (!user || !verification.ok || !user.is_active) throw INVALID_CREDENTIALS;

  if (verification.needsRehash) {
    // Compare-and-swap: a concurrent password change wins.
    await deps.db
      .updateTable('users')
      .set({ password_hash: await deps.passwords.hash(input.password) })
      .where('id', '=', user.id)
      .where('password_hash', '=', user.password_hash)
      .execute();
  }
  return createAccountToken(deps, user.id, input.name ?? 'default', input.expiresInDays);
}

/** A new Account-Token; it expires when asked (in days) or at the configured maximum age, whichever is sooner. */
export async function createAccountToken(deps: Deps, userId: string, name: string, expiresInDays?: number) {
  const now = epochSeconds(deps.clock);
  const maxAge = deps.config.accountTokenMaxAgeSeconds;
  const lifetimes = [maxAge, expiresInDays === undefined ? null : expiresInDays * 86400].filter((value): value is number => value !== null);
  const minted = await mintOpaqueToken('account');
  const row = {
    id: minted.id,
    user_id: userId,
    name,
    secret_hash: minted.hash,
    created_at: now,
    expires_at: lifetimes.length === 0 ? null : now + Math.min(...lifetimes),
    last_used_at: null,
    revoked_at: null,
  };
  await deps.db.insertInto('account_tokens').values(row).execute();
  return { ...accountTokenView(row), token: minted.token };
}

export async function authenticateAccountToken(deps: Deps, token: string): Promise<Principal> {
  const id = expectOpaqueToken(token, 'account');
  const hash = await deps.hashToken(token);
  const row = await deps.db
    .selectFrom('account_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select(['t.id', 't.name as token_name', 't.secret_hash', 't.created_at', 't.expires_at', 't.revoked_at', 't.last_used_at'])
    .select(['u.id as user_id', 'u.email', 'u.name', 'u.role', 'u.team_id', 'u.is_active'])
    .where('t.id', '=', id)
    .executeTakeFirst();
  if (!row || !constantTimeEqual(row.secret_hash, hash)) {
    throw new AppError('token_invalid', 'the token is malformed or unknown');
  }
  const now = epochSeconds(deps.clock);
  const maxAge = deps.config.accountTokenMaxAgeSeconds;
  if (row.revoked_at !== null) throw new AppError('token_revoked', 'this Account-Token has been revoked');
  // A max age set after a token was made applies to it too.
  if ((row.expires_at !== null && row.expires_at <= now) || (maxAge !== null && row.created_at + maxAge <= now)) {
    throw new AppError('token_expired', 'this Account-Token has expired; sign in again');
  }
  if (!row.is_active) throw new AppError('account_disabled', 'this account is deactivated');
  await touchLastUsed(deps.db, 'account_tokens', row.id, row.last_used_at, now);
  return { userId: row.user_id, email: row.email, name: row.name, role: row.role, teamId: row.team_id, tokenId: row.id, tokenName: row.token_name };
}

export async function listAccountTokens(deps: Deps, principal: Principal) {
  const rows = await deps.db
    .selectFrom('account_tokens')
    .selectAll()
    .where('user_id', '=', principal.userId)
    .where('revoked_at', 'is', null)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((row) => ({ ...accountTokenView(row), current: row.id === principal.tokenId }));
}

/** Revokes one of the caller's own Account-Tokens; it stops working with the next request. */
export async function revokeAccountToken(deps: Deps, principal: Principal, id: string): Promise<void> {
  const result = await deps.db
    .updateTable('account_tokens')
    .set({ revoked_at: epochSeconds(deps.clock) })
    .where('id', '=', id)
    .where('user_id', '=', principal.userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw notFound('Account-Token');
}

function accountTokenView(row: { id: string; name: string; created_at: number; expires_at: number | null; last_used_at: number | null }) {
  return {
    id: row.id,
    name: row.name,
    created_at: isoTime(row.created_at),
    expires_at: isoTime(row.expires_at),
    last_used_at: isoTime(row.last_used_at),
  };
}

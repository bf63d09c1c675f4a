import type { Compilable, Expression } from 'kysely';
import { actorOf, anonymousActor, type AuditEvent } from '../audit/events';
import { epochSeconds } from '../clock';
import { feedPosition } from '../revocations/feed';
import { publishRevocations, revokeStatement, revokeTokens } from '../revocations/revoke';
import { insertIfExists } from '../store/insert-if';
import type { Deps } from '../deps';
import { AppError, notFound } from '../errors';
import { earliest } from '../tokens/expiry';
import { touchLastUsed } from '../tokens/last-used';
import { matchesSecret, OPAQUE_KINDS } from '../tokens/kinds';
import { expectOpaqueToken, mintOpaqueToken } from '../tokens/opaque';
import { beginLoginAttempt, type LoginAttempt } from './login-throttle';
import { normalizePassword } from './passwords';
import { normalizeEmail } from './email';
import type { Principal } from './principal';

const INVALID_CREDENTIALS = new AppError('invalid_credentials', 'email or password is incorrect');

/**
 * Email + password → a new Account-Token. Unknown email, wrong password and deactivated account give
 * the same answer after the same work (one scrypt, on a dummy hash for unknown emails). Every attempt
 * is counted per account and per client address first (src/accounts/login-throttle.ts): over a limit
 * the answer is 429 before any hash, for unknown emails exactly as for known ones.
 */
export async function login(
  deps: Pick<Deps, 'db' | 'atomic' | 'audit' | 'passwords' | 'clock' | 'config' | 'log' | 'hashToken'>,
  input: LoginInput,
) {
  try {
    return await attemptLogin(deps, input);
  } catch (error) {
    // A wrong password is recorded for the account it named (if any), so its owner sees the attempts.
    // Refusals by the throttle are counted there, not recorded one by one: that would let a flood of
    // them write the log as fast as it is refused (the throttle bounds the recorded ones per address).
    if (error instanceof AppError && error.code === 'invalid_credentials') {
      const named = await deps.db
        .selectFrom('users')
        .select('id')
        .where('email', '=', normalizeEmail(input.email))
        .executeTakeFirst();
      await recordFailedSignIn(deps, named?.id ?? null, input.clientIp);
    }
    throw error;
  }
}

type LoginInput = {
  email: string;
  password: string;
  clientIp: string | null;
  name?: string;
  expiresInDays?: number;
};

/** An `account_token.login` failure record (also for a wrong current password on a password change). */
export async function recordFailedSignIn(
  deps: Pick<Deps, 'audit'>,
  subjectUserId: string | null,
  clientIp: string | null,
) {
  await deps.audit.record({
    action: 'account_token.login',
    outcome: 'failure',
    actor: anonymousActor(clientIp),
    subjectUserId,
    details: { code: 'invalid_credentials' },
  });
}

async function attemptLogin(
  deps: Pick<Deps, 'db' | 'atomic' | 'audit' | 'passwords' | 'clock' | 'config' | 'log' | 'hashToken'>,
  input: LoginInput,
) {
  const attempt = await beginLoginAttempt(deps, { email: input.email, clientIp: input.clientIp });
  // Longer than any password we accept: cannot match, so refuse without spending a hash (still counted).
  if ([...normalizePassword(input.password)].length > deps.config.passwordMaxLength)
    throw INVALID_CREDENTIALS;
  const user = await deps.db
    .selectFrom('users')
    .select(['id', 'password_hash', 'is_active', 'kind'])
    .where('email', '=', normalizeEmail(input.email))
    .executeTakeFirst();
  const verification = await verifyCounted(deps, attempt, input.password, user?.password_hash ?? null);
  // Service accounts never sign in, whatever password hash an older version let them have: the same
  // answer after the same work as a wrong password, so this is no oracle either.
  if (!user || !verification.ok || !user.is_active || user.kind !== 'person') throw INVALID_CREDENTIALS;

  // The password checked is still the user's (a password change or deactivation may have committed
  // while the hash ran): everything below is written only then.
  const stillValid = deps.db
    .selectFrom('users')
    .select('id')
    .where('id', '=', user.id)
    .where('password_hash', '=', user.password_hash)
    .where('is_active', '=', 1)
    .where('kind', '=', 'person');
  const token = await newAccountToken(
    deps,
    user.id,
    input.name ?? 'default',
    input.expiresInDays,
    stillValid,
  );
  const evicted = await tokensBeyondCap(deps, user.id);
  const now = epochSeconds(deps.clock);
  const statements: Compilable[] = [
    ...(evicted.length > 0
      ? [revokeStatement(deps, 'account', { ids: evicted }, { now, onlyIf: stillValid })]
      : []),
    ...publishRevocations(deps, evicted, 'account_token_revoked', stillValid),
    token.statement,
    ...attempt.succeeded(),
  ];
  if (verification.needsRehash) {
    // Compare-and-swap: a concurrent password change wins.
    statements.push(
      deps.db
        .updateTable('users')
        .set({ password_hash: await deps.passwords.hash(input.password) })
        .where('id', '=', user.id)
        .where('password_hash', '=', user.password_hash),
    );
  }
  const results = await deps.audit.commit(
    statements,
    [
      {
        action: 'account_token.login',
        actor: { userId: user.id, tokenId: token.created.id, clientIp: input.clientIp },
        subjectUserId: user.id,
        targetId: token.created.id,
        details: { name: token.created.name, expires_at: token.created.expiresAt },
      },
      ...evicted.map(
        (id): AuditEvent => ({
          action: OPAQUE_KINDS.account.revokeAction,
          actor: { userId: user.id, tokenId: token.created.id, clientIp: input.clientIp },
          subjectUserId: user.id,
          targetId: id,
          details: { reason: 'token_cap' },
        }),
      ),
    ],
    { onlyIf: stillValid },
  );
  if (results[statements.indexOf(token.statement)]!.numAffectedRows === 0) throw INVALID_CREDENTIALS;
  return token.created;
}

/** Live Account-Tokens one user may hold; a sign-in beyond it revokes the least recently used. */
export const ACCOUNT_TOKENS_PER_USER = 100;

/**
 * The tokens a new sign-in pushes out: all but the ACCOUNT_TOKENS_PER_USER - 1 most recently used
 * live ones. Without a cap, a script signing in in a loop would pile up rows (and bearer credentials)
 * without end.
 */
async function tokensBeyondCap(deps: Pick<Deps, 'db' | 'clock'>, userId: string): Promise<string[]> {
  const now = epochSeconds(deps.clock);
  const live = await deps.db
    .selectFrom('account_tokens')
    .select('id')
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy((eb) => eb.fn.coalesce('last_used_at', 'created_at'), 'desc')
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
  return live.slice(ACCOUNT_TOKENS_PER_USER - 1).map((row) => row.id);
}

/**
 * A password check for a counted attempt: when the hasher turns it away (503, too many at once), the
 * attempt is given back, since nothing was learnt about the password.
 */
export async function verifyCounted(
  deps: Pick<Deps, 'atomic' | 'passwords'>,
  attempt: LoginAttempt,
  password: string,
  phc: string | null,
) {
  try {
    return await deps.passwords.verify(password, phc);
  } catch (error) {
    if (error instanceof AppError && error.code === 'service_unavailable')
      await deps.atomic(attempt.notCounted());
    throw error;
  }
}

/**
 * The insert of a new Account-Token (for an atomic write) and what to answer once it ran. It expires
 * when asked (in days) or at the configured maximum age, whichever is sooner.
 */
async function newAccountToken(
  deps: Pick<Deps, 'db' | 'clock' | 'config'>,
  userId: string,
  name: string,
  expiresInDays: number | undefined,
  onlyIf: Expression<unknown>,
) {
  const now = epochSeconds(deps.clock);
  const maxAge = deps.config.accountTokenMaxAgeSeconds;
  const lifetimes = [maxAge, expiresInDays === undefined ? null : expiresInDays * 86400].filter(
    (value): value is number => value !== null,
  );
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
  const statement = insertIfExists(deps.db, 'account_tokens', row, onlyIf);
  return { statement, created: { ...accountTokenOf(row), token: minted.token } };
}

/**
 * When an Account-Token ends: the earlier of its expiry and its creation plus the configured maximum
 * age (a maximum age set after a token was made applies to it too); null for never.
 */
export function accountTokenEnd(
  deps: Pick<Deps, 'config'>,
  token: { created_at: number; expires_at: number | null },
): number | null {
  const maxAge = deps.config.accountTokenMaxAgeSeconds;
  return earliest(token.expires_at, maxAge === null ? null : token.created_at + maxAge);
}

export async function authenticateAccountToken(
  deps: Pick<Deps, 'db' | 'clock' | 'config' | 'hashToken'>,
  token: string,
): Promise<Principal> {
  const id = expectOpaqueToken(token, 'account');
  const hash = await deps.hashToken(token);
  const row = await deps.db
    .selectFrom('account_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select([
      't.id',
      't.name as token_name',
      't.secret_hash',
      't.created_at',
      't.expires_at',
      't.revoked_at',
      't.last_used_at',
    ])
    .select(['u.id as user_id', 'u.email', 'u.name', 'u.role', 'u.team_id', 'u.is_active', 'u.kind'])
    .select(feedPosition.as('gen'))
    .where('t.id', '=', id)
    .executeTakeFirst();
  const now = epochSeconds(deps.clock);
  if (!row || matchesSecret(row, hash, now) !== 'current') {
    throw new AppError('token_invalid', 'the token is malformed or unknown');
  }
  if (row.revoked_at !== null) throw new AppError('token_revoked', 'this Account-Token has been revoked');
  // A service account's Account-Token (an older version let one sign in) is void: its API-Tokens,
  // capped by service_account_max_permission, are its only credentials.
  if (row.kind !== 'person')
    throw new AppError('token_revoked', 'service accounts do not sign in; this Account-Token is void');
  const endsAt = accountTokenEnd(deps, row);
  if (endsAt !== null && endsAt <= now)
    throw new AppError('token_expired', 'this Account-Token has expired; sign in again');
  if (!row.is_active) throw new AppError('account_disabled', 'this account is deactivated');
  await touchLastUsed(deps.db, 'account_tokens', row.id, row.last_used_at, now);
  return {
    userId: row.user_id,
    email: row.email,
    name: row.name,
    role: row.role,
    teamId: row.team_id,
    tokenId: row.id,
    tokenName: row.token_name,
    tokenEndsAt: endsAt,
    gen: row.gen,
  };
}

export async function listAccountTokens(deps: Pick<Deps, 'db'>, principal: Principal) {
  const rows = await deps.db
    .selectFrom('account_tokens')
    .selectAll()
    .where('user_id', '=', principal.userId)
    .where('revoked_at', 'is', null)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((row) => ({ ...accountTokenOf(row), current: row.id === principal.tokenId }));
}

/** Revokes one of the caller's own Account-Tokens; it stops working with the next request. */
export async function revokeAccountToken(
  deps: Pick<Deps, 'db' | 'audit' | 'clock' | 'config'>,
  principal: Principal,
  id: string,
): Promise<void> {
  const live = await deps.db
    .selectFrom('account_tokens')
    .select('id')
    .where('id', '=', id)
    .where('user_id', '=', principal.userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!live) throw notFound('Account-Token');
  // Base-Tokens exchanged with it (and temporary API-Tokens' ones) stop at verifiers too.
  const revoked = await revokeTokens(deps, {
    kind: 'account',
    ids: [id],
    owner: principal.userId,
    change: 'account_token_revoked',
    events: [
      {
        action: OPAQUE_KINDS.account.revokeAction,
        actor: actorOf(principal),
        subjectUserId: principal.userId,
        targetId: id,
      },
    ],
  });
  if (revoked === 0) throw notFound('Account-Token');
}

/** An Account-Token as the domain answers it (never its secret); times in epoch seconds. */
export interface AccountToken {
  id: string;
  name: string;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
}

function accountTokenOf(row: {
  id: string;
  name: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}): AccountToken {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
  };
}

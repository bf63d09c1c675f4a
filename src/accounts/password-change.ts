import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { AppError, badRequest, conflict } from '../errors';
import { actorOf } from '../audit/events';
import { publishOwnedRevocations, revokeStatement } from '../revocations/revoke';
import { recordFailedSignIn, verifyCounted } from './account-tokens';
import type { Principal } from './principal';
import { beginLoginAttempt } from './login-throttle';
import { normalizePassword, passwordPolicyProblem } from './passwords';

export interface PasswordChange {
  currentPassword: string;
  newPassword: string;
  /** Keep the caller's other Account-Tokens; by default they are revoked with the change. */
  keepOtherTokens?: boolean;
}

/**
 * The caller changes their own password, proving the current one (ASVS 6.2.3). A wrong current
 * password is a failed sign-in: it counts toward the login throttle (429 once over it, no hash).
 * Unless `keepOtherTokens`, every other Account-Token of the caller is revoked in the same atomic
 * write as the new hash (ASVS 7.4.3); the token making the call keeps working.
 */
export async function changePassword(
  deps: Pick<Deps, 'db' | 'atomic' | 'audit' | 'passwords' | 'clock' | 'config' | 'log' | 'hashToken'>,
  principal: Principal,
  change: PasswordChange,
): Promise<{ revokedAccountTokens: number }> {
  // The new password first: refusing it costs no hash and no attempt.
  const problem = passwordPolicyProblem(deps, change.newPassword, { email: principal.email });
  if (problem) throw badRequest(`new_password: ${problem}`);
  const attempt = await beginLoginAttempt(deps, {
    email: principal.email,
    clientIp: principal.clientIp ?? null,
  });
  const wrong = new AppError('invalid_credentials', 'the current password is incorrect');
  if ([...normalizePassword(change.currentPassword)].length > deps.config.passwordMaxLength) {
    await recordFailedSignIn(deps, principal.userId, principal.clientIp ?? null);
    throw wrong;
  }
  const user = await deps.db
    .selectFrom('users')
    .select(['id', 'password_hash'])
    .where('id', '=', principal.userId)
    .executeTakeFirst();
  const verification = await verifyCounted(
    deps,
    attempt,
    change.currentPassword,
    user?.password_hash ?? null,
  );
  if (!user || !verification.ok) {
    await recordFailedSignIn(deps, principal.userId, principal.clientIp ?? null);
    throw wrong;
  }

  const newHash = await deps.passwords.hash(change.newPassword);
  const now = epochSeconds(deps.clock);
  // Compare-and-swap on the old hash: of two concurrent changes one wins, the other gets 409 and revokes nothing.
  const changed = deps.db
    .selectFrom('users')
    .select('id')
    .where('id', '=', user.id)
    .where('password_hash', '=', newHash);
  const others = change.keepOtherTokens
    ? []
    : (
        await deps.db
          .selectFrom('account_tokens')
          .select('id')
          .where('user_id', '=', user.id)
          .where('id', '!=', principal.tokenId)
          .where('revoked_at', 'is', null)
          .execute()
      ).map((row) => row.id);
  // The feed entries are chosen from the rows inside the write, before revoking them: a sign-in
  // with the old password in another process up to the moment of the write is ended too.
  const published = change.keepOtherTokens
    ? []
    : publishOwnedRevocations(
        deps,
        'account',
        { owner: user.id, except: principal.tokenId },
        'password_changed',
        changed,
      );
  const results = await deps.audit.commit(
    [
      deps.db
        .updateTable('users')
        .set({ password_hash: newHash, updated_at: now })
        .where('id', '=', user.id)
        .where('password_hash', '=', user.password_hash),
      ...published,
      ...(change.keepOtherTokens
        ? []
        : [
            revokeStatement(
              deps,
              'account',
              { owner: user.id, except: principal.tokenId },
              { now, onlyIf: changed },
            ),
          ]),
      ...attempt.succeeded(),
    ],
    [
      {
        action: 'password.change',
        actor: actorOf(principal),
        subjectUserId: user.id,
        targetId: user.id,
        details: { revoked_account_tokens: others },
      },
    ],
    { onlyIf: changed },
  );
  const update = results[0];
  const revoke = results[1 + published.length];
  if (update!.numAffectedRows === 0) throw conflict('the password was changed meanwhile; retry');
  return { revokedAccountTokens: change.keepOtherTokens ? 0 : revoke!.numAffectedRows };
}

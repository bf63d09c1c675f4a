import { actorOf } from '../audit/events';
import type { Principal } from './principal';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { forbidden } from '../errors';
import { userOf, type User } from './users';

/** A service account: a user of kind `service`. */
export type ServiceAccount = User & { kind: 'service' };

/**
 * Service accounts (Airtable's idea): non-login users that own API-Tokens, so an integration does not
 * die when the employee who set it up leaves. They have no password (sign-in always fails) and get
 * base access like anyone else, through base membership.
 */
export async function createServiceAccount(
  deps: Pick<Deps, 'db' | 'audit' | 'clock'>,
  actor: Principal,
  name: string,
): Promise<ServiceAccount> {
  if (actor.role !== 'system_admin') throw forbidden('only system admins create service accounts');
  const now = epochSeconds(deps.clock);
  const id = crypto.randomUUID();
  const user = {
    id,
    // Unique and never deliverable (.invalid is reserved), so it can never be used to sign in or reset.
    email: `service-${id}@service.invalid`,
    name,
    role: 'user' as const,
    team_id: null,
    password_hash: null,
    is_active: 1,
    kind: 'service' as const,
    created_at: now,
    updated_at: now,
  };
  const workspace = { id: crypto.randomUUID(), name: 'Personal', owner_user_id: id, created_at: now };
  await deps.audit.commit(
    [deps.db.insertInto('users').values(user), deps.db.insertInto('workspaces').values(workspace)],
    [
      {
        action: 'service_account.create',
        actor: actorOf(actor),
        subjectUserId: id,
        targetId: id,
        details: { name },
      },
    ],
  );
  return { ...userOf(user), kind: user.kind };
}

export async function listServiceAccounts(deps: Pick<Deps, 'db'>, actor: Principal) {
  if (actor.role !== 'system_admin') throw forbidden('only system admins list service accounts');
  const rows = await deps.db
    .selectFrom('users')
    .selectAll()
    .where('kind', '=', 'service')
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((row): ServiceAccount => ({ ...userOf(row), kind: 'service' }));
}

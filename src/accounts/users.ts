import type { Insertable } from 'kysely';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { AppError, badRequest, conflict, forbidden, notFound } from '../errors';
import { actorOf, type AuditActor } from '../audit/events';
import { publishOwnedRevocations, revokeStatement } from '../revocations/revoke';
import { isUniqueViolation, type StatementResult } from '../store/atomic';
import {
  counterStateOf,
  hitCounterStatement,
  refundCounterStatement,
  type CounterLimit,
} from '../throttle/counters';
import type { Role, UsersTable } from '../store/schema';
import { serialisedWrite } from '../store/writer-lock';
import { normalizeEmail } from './email';
import { isOperator, isSystemAdmin, type Caller } from './operator';
import type { Principal } from './principal';
import { passwordPolicyProblem } from './passwords';

export const ROLES = ['user', 'team_admin', 'system_admin'] as const satisfies readonly Role[];

/** The password policy (lengths, common passwords, the email), re-exported where user admin needs it. */
export { passwordPolicyProblem };

export interface NewUser {
  email: string;
  password: string;
  role: Role;
  name?: string;
  team_id?: string | null;
}

/** The rows that create a user with a personal workspace, for one atomic write. */
async function userRows(deps: Pick<Deps, 'passwords' | 'clock' | 'config'>, input: NewUser) {
  const problem = passwordPolicyProblem(deps, input.password, { email: input.email });
  if (problem) throw badRequest(`password: ${problem}`);
  const now = epochSeconds(deps.clock);
  const user: Insertable<UsersTable> = {
    id: crypto.randomUUID(),
    email: normalizeEmail(input.email),
    name: input.name ?? '',
    role: input.role,
    team_id: input.team_id ?? null,
    password_hash: await deps.passwords.hash(input.password),
    is_active: 1,
    created_at: now,
    updated_at: now,
  };
  const workspace = { id: crypto.randomUUID(), name: 'Personal', owner_user_id: user.id, created_at: now };
  return { user, workspace };
}

/**
 * How `tokenladder user create` has always recorded the operator in the audit log: as user and token
 * "cli" (key rotation records the operator as no actor). Kept, so the log reads as it always has.
 */
const CONSOLE_USER_CREATE_ACTOR: AuditActor = { userId: 'cli', tokenId: 'cli', clientIp: null };

/**
 * Creates a user (and their personal workspace) as `actor`, within what the actor's role allows;
 * the operator may do what a system admin may.
 */
export async function createUser(
  deps: Pick<Deps, 'db' | 'atomic' | 'audit' | 'passwords' | 'clock' | 'config'>,
  actor: Caller,
  input: NewUser,
) {
  // Without a team_id, a team admin's new user joins their team.
  const teamId = await authorizeUserWrite(
    deps,
    actor,
    input.role,
    input.team_id === undefined && !isOperator(actor) && actor.role === 'team_admin'
      ? actor.teamId
      : (input.team_id ?? null),
  );
  if (input.role === 'team_admin' && !teamId) throw badRequest('team_id: a team admin must belong to a team');
  const { user, workspace } = await userRows(deps, { ...input, team_id: teamId });
  // Emails are unique instance-wide, so "taken" is an answer about every team: a team admin gets it a
  // bounded number of times (README: what a team admin learns).
  const budget = isSystemAdmin(actor) ? null : await takeConflictBudget(deps, actor.userId);
  try {
    await deps.audit.commit(
      [
        deps.db.insertInto('users').values(user),
        deps.db.insertInto('workspaces').values(workspace),
        ...(budget ? [budget.giveBack] : []),
      ],
      [
        {
          action: 'user.create',
          actor: isOperator(actor) ? CONSOLE_USER_CREATE_ACTOR : actorOf(actor),
          subjectUserId: user.id,
          targetId: user.id,
          details: { role: user.role, team_id: user.team_id ?? null },
        },
      ],
    );
  } catch (error) {
    if (!isUniqueViolation(error)) {
      if (budget) await deps.atomic([budget.giveBack]);
      throw error;
    }
    // On record for system admins (they see every team); the record names no other user.
    await deps.audit.record({
      action: 'user.create',
      outcome: 'failure',
      actor: isOperator(actor) ? CONSOLE_USER_CREATE_ACTOR : actorOf(actor),
      details: { code: 'conflict', email: user.email, team_id: user.team_id ?? null },
    });
    throw conflict('a user with this email already exists');
  }
  return getUser(deps, actor, user.id);
}

/**
 * User creations by one team admin that may answer "this email is taken", per day: enough for typos
 * and re-adding someone, too few to map who has an account in other teams. Every create counts before
 * the insert (so parallel requests cannot all pass) and a successful one gives its count back.
 */
export const TEAM_ADMIN_CONFLICT_LIMIT: CounterLimit = { limit: 10, windowSeconds: 86400 };

/**
 * Takes one from the team admin's budget, or refuses with 429 whatever the email (past the budget a
 * free email and a taken one get the same answer). `giveBack` returns it, with a successful write.
 */
async function takeConflictBudget(deps: Pick<Deps, 'db' | 'atomic' | 'clock'>, userId: string) {
  const key = `user-create:conflict:${userId}`;
  const now = epochSeconds(deps.clock);
  const [hit] = await deps.atomic([hitCounterStatement(deps.db, key, TEAM_ADMIN_CONFLICT_LIMIT, now)]);
  const state = counterStateOf(counterRow(hit), TEAM_ADMIN_CONFLICT_LIMIT, now);
  if (!state.allowed)
    throw new AppError(
      'rate_limited',
      'too many attempts to create a user whose email is taken; retry later',
      state.retryAfterSeconds,
    );
  return { giveBack: refundCounterStatement(deps.db, key, state.windowStart!) };
}

function counterRow(result: StatementResult | undefined): { hits: number; window_start: number } {
  const row = result?.rows[0] as { hits: number; window_start: number } | undefined;
  if (!row) throw new Error('throttle counter upsert returned no row');
  return row;
}

/**
 * Creates the first system admin when the database has no users at all. One conditional statement
 * per row, so two instances starting together cannot both create one.
 */
export async function bootstrapAdmin(
  deps: Pick<Deps, 'db' | 'atomic' | 'passwords' | 'clock' | 'config'>,
  email: string,
  password: string,
): Promise<boolean> {
  const { user, workspace } = await userRows(deps, {
    email,
    password,
    role: 'system_admin',
    name: 'Administrator',
  });
  const noUsers = deps.db.selectFrom('users').select('id');
  // Instances starting together on an empty PostgreSQL database take turns here, so the second's
  // "no users yet" check sees the first's admin, whatever email each was given.
  const lock = serialisedWrite(deps.db);
  let inserted: StatementResult[];
  try {
    inserted = await deps.atomic([
      ...lock,
      deps.db
        .insertInto('users')
        .columns([
          'id',
          'email',
          'name',
          'role',
          'team_id',
          'password_hash',
          'is_active',
          'created_at',
          'updated_at',
        ])
        .expression(
          deps.db
            .selectNoFrom((eb) => [
              eb.val(user.id).as('id'),
              eb.val(user.email).as('email'),
              eb.val(user.name).as('name'),
              eb.val(user.role).as('role'),
              eb.val(null).as('team_id'),
              eb.val(user.password_hash).as('password_hash'),
              eb.val(1).as('is_active'),
              eb.val(user.created_at).as('created_at'),
              eb.val(user.updated_at).as('updated_at'),
            ])
            .where((eb) => eb.not(eb.exists(noUsers))),
        ),
      deps.db
        .insertInto('workspaces')
        .columns(['id', 'name', 'owner_user_id', 'created_at'])
        .expression((eb) =>
          eb
            .selectFrom('users')
            .select([
              eb.val(workspace.id).as('id'),
              eb.val(workspace.name).as('name'),
              'users.id',
              eb.val(workspace.created_at).as('created_at'),
            ])
            .where('users.id', '=', user.id),
        ),
    ]);
  } catch (error) {
    // Another process on the same empty SQLite file inserted its first admin meanwhile (with the
    // same email: the unique index): it did the bootstrap.
    if (isUniqueViolation(error)) return false;
    throw error;
  }
  return (inserted[lock.length]?.numAffectedRows ?? 0) > 0;
}

/**
 * Whether the caller sees every user: system admins and the operator. (Team admins see their own
 * team's; other users none.) The API's user list and the UI's users page both go by it.
 */
export const seesEveryUser = (caller: Caller): boolean => isSystemAdmin(caller);

/** The users the actor may see: all of them (see seesEveryUser), or a team admin's team. */
export async function listUsers(deps: Pick<Deps, 'db'>, actor: Principal) {
  let query = deps.db.selectFrom('users').selectAll().orderBy('created_at').orderBy('id');
  if (!seesEveryUser(actor)) {
    if (actor.role !== 'team_admin') throw forbidden('only administrators can list users');
    query = query.where('team_id', '=', actor.teamId);
  }
  return (await query.execute()).map(userOf);
}

export async function getUser(deps: Pick<Deps, 'db'>, actor: Caller, id: string): Promise<User> {
  const user = await visibleUser(deps, actor, id);
  return userOf(user);
}

export interface UserPatch {
  name?: string;
  role?: Role;
  team_id?: string | null;
  is_active?: boolean;
  password?: string;
}

/** Changes a user. Deactivating stops all their tokens at once (checked on every use), deleting none. */
export async function updateUser(
  deps: Pick<Deps, 'db' | 'audit' | 'passwords' | 'clock' | 'config'>,
  actor: Principal,
  id: string,
  patch: UserPatch,
) {
  const target = await visibleUser(deps, actor, id);
  if (
    id === actor.userId &&
    (patch.is_active === false || (patch.role !== undefined && patch.role !== target.role))
  ) {
    throw conflict('you cannot deactivate yourself or change your own role');
  }
  if (actor.role === 'team_admin' && target.role === 'system_admin')
    throw forbidden('team admins cannot change system admins');
  const role = patch.role ?? target.role;
  const teamId = await authorizeUserWrite(
    deps,
    actor,
    role,
    patch.team_id !== undefined ? patch.team_id : target.team_id,
  );
  if (role === 'team_admin' && !teamId) throw badRequest('team_id: a team admin must belong to a team');
  // Service accounts never sign in (README: service accounts): they have no password to set.
  if (patch.password !== undefined && target.kind !== 'person')
    throw badRequest('password: service accounts never sign in; they use API-Tokens');
  if (patch.password !== undefined) {
    const problem = passwordPolicyProblem(deps, patch.password, { email: target.email });
    if (problem) throw badRequest(`password: ${problem}`);
  }
  const deactivating = patch.is_active === false && target.is_active;
  const resetting = patch.password !== undefined;
  // A deactivated user's tokens stop here at once; their Base-Tokens stop at verifiers through the feed.
  // An admin setting someone's password (a suspected takeover, usually) also ends their sessions.
  const live = deactivating || resetting ? await liveTokenIds(deps, id) : { account: [], api: [] };
  // The token this request came with stays (an admin resetting their own password through this route).
  const ids = { account: live.account.filter((tokenId) => tokenId !== actor.tokenId), api: live.api };
  const now = epochSeconds(deps.clock);
  const changed = Object.keys(patch).filter((key) => key !== 'password' || patch.password !== undefined);
  await deps.audit.commit(
    [
      deps.db
        .updateTable('users')
        .set({
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.is_active !== undefined && { is_active: patch.is_active ? 1 : 0 }),
          ...(patch.password !== undefined && { password_hash: await deps.passwords.hash(patch.password) }),
          role,
          team_id: teamId,
          updated_at: now,
        })
        .where('id', '=', id),
      // Published from the rows inside the write (before revoking them): a token made meanwhile, in
      // any process, is included.
      ...(deactivating || resetting
        ? publishOwnedRevocations(
            deps,
            'account',
            { owner: id, except: actor.tokenId },
            deactivating ? 'user_deactivated' : 'password_changed',
          )
        : []),
      ...(deactivating ? publishOwnedRevocations(deps, 'api', { owner: id }, 'user_deactivated') : []),
      ...(resetting ? [revokeStatement(deps, 'account', { owner: id, except: actor.tokenId }, { now })] : []),
    ],
    [
      {
        action: 'user.update',
        actor: actorOf(actor),
        subjectUserId: id,
        targetId: id,
        details: {
          changed,
          role,
          team_id: teamId,
          ...(patch.is_active !== undefined && { is_active: patch.is_active }),
          ...(resetting && { revoked_account_tokens: ids.account }),
        },
      },
    ],
  );
  return getUser(deps, actor, id);
}

/**
 * Revokes every live Account-Token and API-Token of a user (a lost laptop, a leaving employee), the
 * caller's own current token included when they target themselves. Who may: as for changing the user.
 */
export async function revokeUserTokens(
  deps: Pick<Deps, 'db' | 'audit' | 'clock' | 'config'>,
  actor: Principal,
  id: string,
): Promise<{ accountTokens: number; apiTokens: number }> {
  const target = await visibleUser(deps, actor, id);
  if (actor.role === 'team_admin' && target.role === 'system_admin')
    throw forbidden('team admins cannot change system admins');
  const now = epochSeconds(deps.clock);
  const ids = await liveTokenIds(deps, id);
  // Published from the rows inside the write, before revoking them: none made meanwhile escapes.
  const published = [
    ...publishOwnedRevocations(deps, 'account', { owner: id }, 'user_tokens_revoked'),
    ...publishOwnedRevocations(deps, 'api', { owner: id }, 'user_tokens_revoked'),
  ];
  const results = await deps.audit.commit(
    [
      ...published,
      revokeStatement(deps, 'account', { owner: id }, { now }),
      revokeStatement(deps, 'api', { owner: id }, { now }),
    ],
    [
      {
        action: 'user.revoke_tokens',
        actor: actorOf(actor),
        subjectUserId: id,
        targetId: id,
        details: { account_tokens: ids.account, api_tokens: ids.api },
      },
    ],
  );
  const [account, api] = results.slice(published.length, published.length + 2);
  return { accountTokens: account!.numAffectedRows, apiTokens: api!.numAffectedRows };
}

/** The ids of a user's tokens that are not revoked (disabled or expired ones included), for the revocation feed. */
async function liveTokenIds(deps: Pick<Deps, 'db'>, userId: string) {
  const [account, api] = await Promise.all([
    deps.db
      .selectFrom('account_tokens')
      .select('id')
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute(),
    deps.db
      .selectFrom('api_tokens')
      .select('id')
      .where('created_by', '=', userId)
      .where('revoked_at', 'is', null)
      .execute(),
  ]);
  return { account: account.map((row) => row.id), api: api.map((row) => row.id) };
}

/**
 * What a role may do to users: system admins anything; team admins only users of their own team,
 * never making system admins; others nothing. Returns the team the user will belong to.
 */
async function authorizeUserWrite(
  deps: Pick<Deps, 'db'>,
  actor: Caller,
  role: Role,
  teamId: string | null,
): Promise<string | null> {
  if (isSystemAdmin(actor)) {
    if (
      teamId !== null &&
      !(await deps.db.selectFrom('teams').select('id').where('id', '=', teamId).executeTakeFirst())
    ) {
      throw badRequest('team_id: no such team');
    }
    return teamId;
  }
  if (actor.role !== 'team_admin') throw forbidden('only administrators can manage users');
  if (role === 'system_admin') throw forbidden('team admins cannot grant the system_admin role');
  if (teamId !== actor.teamId) throw forbidden('team admins manage users of their own team only');
  return actor.teamId;
}

/** A user the actor may see: 404 (not 403) for everyone outside their reach. */
async function visibleUser(deps: Pick<Deps, 'db'>, actor: Caller, id: string) {
  if (!isSystemAdmin(actor) && actor.role !== 'team_admin')
    throw forbidden('only administrators can manage users');
  const user = await deps.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  // Past the check above, whoever is not a system admin is a team admin: they see their own team.
  if (!user || (!isSystemAdmin(actor) && (user.team_id === null || user.team_id !== actor.teamId)))
    throw notFound('user');
  return user;
}

/** A user as the domain answers it (never the password hash); times in epoch seconds. */
export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  teamId: string | null;
  isActive: boolean;
  createdAt: number;
  updatedAt: number;
}

export function userOf(user: {
  id: string;
  email: string;
  name: string;
  role: Role;
  team_id: string | null;
  is_active: number;
  created_at: number;
  updated_at: number;
}): User {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    teamId: user.team_id,
    isActive: user.is_active === 1,
    createdAt: user.created_at,
    updatedAt: user.updated_at,
  };
}

/** A team; `createdAt` in epoch seconds. */
export interface Team {
  id: string;
  name: string;
  createdAt: number;
}

export async function createTeam(deps: Pick<Deps, 'db' | 'clock'>, actor: Principal, name: string) {
  if (actor.role !== 'system_admin') throw forbidden('only system admins can create teams');
  const team = { id: crypto.randomUUID(), name, created_at: epochSeconds(deps.clock) };
  try {
    await deps.db.insertInto('teams').values(team).execute();
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict('a team with this name already exists');
    throw error;
  }
  return teamOf(team);
}

export async function listTeams(deps: Pick<Deps, 'db'>, actor: Principal) {
  let query = deps.db.selectFrom('teams').selectAll().orderBy('name');
  if (actor.role === 'team_admin') query = query.where('id', '=', actor.teamId);
  else if (actor.role !== 'system_admin') throw forbidden('only administrators can list teams');
  return (await query.execute()).map(teamOf);
}

const teamOf = (team: { id: string; name: string; created_at: number }): Team => ({
  id: team.id,
  name: team.name,
  createdAt: team.created_at,
});

import { actorOf } from '../audit/events';
import { epochSeconds } from '../clock';
import type { Principal } from '../accounts/principal';
import { normalizeEmail } from '../accounts/email';
import type { Deps } from '../deps';
import { conflict, forbidden, notFound } from '../errors';
import { publishSubjectBaseRevocation } from '../revocations/revoke';
import { isUniqueViolation } from '../store/atomic';
import type { Selectable } from 'kysely';
import type { BasePermission, BasesTable } from '../store/schema';

const RANK: Record<BasePermission, number> = { r: 1, rw: 2, admin: 3 };

/** The lesser of two permissions: what a token may do when its grant and its creator's role differ. */
export const weakest = (a: BasePermission, b: BasePermission): BasePermission => (RANK[a] <= RANK[b] ? a : b);

type BaseRow = Selectable<BasesTable>;

/** A base with the caller's permission on it; times in epoch seconds. */
export interface Base {
  uuid: string;
  name: string;
  workspaceId: string;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  permission: BasePermission;
}

/** A workspace with the bases in it the caller is a member of. */
export interface Workspace {
  id: string;
  name: string;
  kind: 'personal';
  createdAt: number;
  bases: Base[];
}

/** A member of a base. */
export interface BaseMember {
  userId: string;
  email: string;
  name: string;
  permission: BasePermission;
  createdAt: number;
}

function baseOf(base: BaseRow, permission: BasePermission): Base {
  return {
    uuid: base.id,
    name: base.name,
    workspaceId: base.workspace_id,
    createdBy: base.created_by,
    createdAt: base.created_at,
    updatedAt: base.updated_at,
    permission,
  };
}

/** The caller's base, with their permission on it; 404 for bases the caller is not a member of (no existence leak). */
export async function memberBase(deps: Pick<Deps, 'db'>, principal: Principal, uuid: string): Promise<Base> {
  const row = await deps.db
    .selectFrom('bases as b')
    .innerJoin('base_members as m', 'm.base_id', 'b.id')
    .selectAll('b')
    .select('m.permission')
    .where('b.id', '=', uuid)
    .where('m.user_id', '=', principal.userId)
    .executeTakeFirst();
  if (!row) throw notFound('base');
  const { permission, ...base } = row;
  return baseOf(base, permission);
}

/** Like memberBase, and the caller must be an admin of the base (403 for other members). */
export async function adminBase(deps: Pick<Deps, 'db'>, principal: Principal, uuid: string): Promise<Base> {
  const base = await memberBase(deps, principal, uuid);
  if (base.permission !== 'admin') throw forbidden('only base admins can do this');
  return base;
}

export async function listWorkspaces(deps: Pick<Deps, 'db'>, principal: Principal): Promise<Workspace[]> {
  const workspaces = await deps.db
    .selectFrom('workspaces')
    .selectAll()
    .where('owner_user_id', '=', principal.userId)
    .orderBy('created_at')
    .execute();
  const bases = await deps.db
    .selectFrom('bases as b')
    .innerJoin('workspaces as w', 'w.id', 'b.workspace_id')
    .leftJoin('base_members as m', (join) =>
      join.onRef('m.base_id', '=', 'b.id').on('m.user_id', '=', principal.userId),
    )
    .selectAll('b')
    .select('m.permission')
    .where('w.owner_user_id', '=', principal.userId)
    .orderBy('b.name')
    .execute();
  return workspaces.map((workspace) => ({
    id: workspace.id,
    name: workspace.name,
    kind: 'personal' as const,
    createdAt: workspace.created_at,
    bases: bases
      .filter((base) => base.workspace_id === workspace.id && base.permission !== null)
      .map(({ permission, ...base }) => baseOf(base, permission!)),
  }));
}

/** A new base: in the caller's first workspace unless named; `ownerEmail`, if given, must be the caller's. */
export interface NewBase {
  name: string;
  workspaceId?: string;
  ownerEmail?: string;
}

/** Creates a base in one of the caller's own workspaces; the caller becomes its admin. */
export async function createBase(
  deps: Pick<Deps, 'db' | 'audit' | 'clock'>,
  principal: Principal,
  input: NewBase,
): Promise<Base> {
  // Nobody creates a base for someone else (SeaTable's form names the owner).
  if (input.ownerEmail !== undefined && normalizeEmail(input.ownerEmail) !== principal.email)
    throw forbidden('you can only create bases you own');
  let workspaceQuery = deps.db
    .selectFrom('workspaces')
    .select('id')
    .where('owner_user_id', '=', principal.userId);
  if (input.workspaceId !== undefined) workspaceQuery = workspaceQuery.where('id', '=', input.workspaceId);
  const workspace = await workspaceQuery.orderBy('created_at').executeTakeFirst();
  if (!workspace) throw notFound('workspace');
  const now = epochSeconds(deps.clock);
  const base: BaseRow = {
    id: crypto.randomUUID(),
    workspace_id: workspace.id,
    name: input.name,
    created_by: principal.userId,
    created_at: now,
    updated_at: now,
  };
  try {
    await deps.audit.commit(
      [
        deps.db.insertInto('bases').values(base),
        deps.db
          .insertInto('base_members')
          .values({ base_id: base.id, user_id: principal.userId, permission: 'admin', created_at: now }),
      ],
      [
        {
          action: 'base.create',
          actor: actorOf(principal),
          subjectUserId: principal.userId,
          baseId: base.id,
          targetId: base.id,
          details: { name: base.name },
        },
      ],
    );
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict('a base with this name already exists in the workspace');
    throw error;
  }
  return baseOf(base, 'admin');
}

export async function listBases(deps: Pick<Deps, 'db'>, principal: Principal) {
  const rows = await deps.db
    .selectFrom('bases as b')
    .innerJoin('base_members as m', 'm.base_id', 'b.id')
    .selectAll('b')
    .select('m.permission')
    .where('m.user_id', '=', principal.userId)
    .orderBy('b.name')
    .orderBy('b.id')
    .execute();
  return rows.map(({ permission, ...base }) => baseOf(base, permission));
}

export async function listMembers(
  deps: Pick<Deps, 'db'>,
  principal: Principal,
  uuid: string,
): Promise<BaseMember[]> {
  await memberBase(deps, principal, uuid);
  const rows = await deps.db
    .selectFrom('base_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.user_id', 'u.email', 'u.name', 'm.permission', 'm.created_at'])
    .where('m.base_id', '=', uuid)
    .orderBy('m.created_at')
    .orderBy('m.user_id')
    .execute();
  return rows.map((row) => ({
    userId: row.user_id,
    email: row.email,
    name: row.name,
    permission: row.permission,
    createdAt: row.created_at,
  }));
}

/** A base must keep one admin: the guard sits inside the write, so two concurrent demotions cannot both pass. */
const otherAdminExists = (deps: Pick<Deps, 'db'>, uuid: string, userId: string) =>
  deps.db
    .selectFrom('base_members')
    .select('user_id')
    .where('base_id', '=', uuid)
    .where('permission', '=', 'admin')
    .where('user_id', '!=', userId);

/** The permissions above `permission`: a member holding one of them is demoted by setting it. */
const above = (permission: BasePermission): BasePermission[] =>
  (Object.keys(RANK) as BasePermission[]).filter((other) => RANK[other] > RANK[permission]);

/**
 * Adds a member or changes their permission. A demotion (admin → rw → r) ends, at every verifier,
 * the Base-Tokens the member holds for the base (feed entry `subject_base`, in the same write); they
 * exchange again for what is left. Adding or promoting a member revokes nothing.
 */
export async function setMember(
  deps: Pick<Deps, 'db' | 'audit' | 'clock' | 'config'>,
  principal: Principal,
  uuid: string,
  userId: string,
  permission: BasePermission,
) {
  await adminBase(deps, principal, uuid);
  const user = await deps.db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
  if (!user) throw notFound('user');
  const now = epochSeconds(deps.clock);
  const applied = deps.db
    .selectFrom('base_members')
    .select('user_id')
    .where('base_id', '=', uuid)
    .where('user_id', '=', userId)
    .where('permission', '=', permission);
  // Read inside the write, before the upsert: the member holds more than `permission` and the upsert
  // will apply (a demotion needs another admin to remain, as the upsert's own guard says).
  const demoted = deps.db
    .selectFrom('base_members')
    .select('user_id')
    .where('base_id', '=', uuid)
    .where('user_id', '=', userId)
    .where('permission', 'in', above(permission))
    .where(({ exists }) => exists(otherAdminExists(deps, uuid, userId)));
  const revocation =
    permission === 'admin'
      ? []
      : publishSubjectBaseRevocation(deps, { userId, baseId: uuid }, 'member_demoted', demoted);
  const results = await deps.audit.commit(
    [
      ...revocation,
      deps.db
        .insertInto('base_members')
        .values({ base_id: uuid, user_id: userId, permission, created_at: now })
        .onConflict((oc) => {
          const update = oc.columns(['base_id', 'user_id']).doUpdateSet({ permission });
          return permission === 'admin'
            ? update
            : update.where(({ exists }) => exists(otherAdminExists(deps, uuid, userId)));
        }),
    ],
    [
      {
        action: 'base.member_set',
        actor: actorOf(principal),
        subjectUserId: userId,
        baseId: uuid,
        targetId: userId,
        details: { permission },
      },
    ],
    { onlyIf: applied },
  );
  if (results[revocation.length]!.numAffectedRows === 0)
    throw conflict('a base must keep at least one admin');
  return (await listMembers(deps, principal, uuid)).find((member) => member.userId === userId)!;
}

/**
 * Removes a member (never the last admin). Ends, at every verifier, the Base-Tokens the member holds
 * for the base (feed entry `subject_base`, in the same write), whatever they were exchanged from.
 */
export async function removeMember(
  deps: Pick<Deps, 'db' | 'audit' | 'clock' | 'config'>,
  principal: Principal,
  uuid: string,
  userId: string,
) {
  await adminBase(deps, principal, uuid);
  const membership = deps.db
    .selectFrom('base_members')
    .select('user_id')
    .where('base_id', '=', uuid)
    .where('user_id', '=', userId);
  // The guard below says "no longer a member", which is also true of someone who never was.
  if (!(await membership.executeTakeFirst())) throw notFound('member');
  // The rows the delete takes; the feed entry, written first, goes with them.
  const removable = membership.where(({ or, eb, exists }) =>
    or([eb('permission', '!=', 'admin'), exists(otherAdminExists(deps, uuid, userId))]),
  );
  const revocation = publishSubjectBaseRevocation(
    deps,
    { userId, baseId: uuid },
    'member_removed',
    removable,
  );
  const results = await deps.audit.commit(
    [
      ...revocation,
      deps.db
        .deleteFrom('base_members')
        .where('base_id', '=', uuid)
        .where('user_id', '=', userId)
        .where(({ or, eb, exists }) =>
          or([eb('permission', '!=', 'admin'), exists(otherAdminExists(deps, uuid, userId))]),
        ),
    ],
    [
      {
        action: 'base.member_remove',
        actor: actorOf(principal),
        subjectUserId: userId,
        baseId: uuid,
        targetId: userId,
      },
    ],
    {
      onlyIf: deps.db.selectNoFrom((eb) => eb.lit(1).as('gone')).where((eb) => eb.not(eb.exists(membership))),
    },
  );
  if (results[revocation.length]!.numAffectedRows === 0) {
    const member = await deps.db
      .selectFrom('base_members')
      .select('user_id')
      .where('base_id', '=', uuid)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    throw member ? conflict('a base must keep at least one admin') : notFound('member');
  }
}

/**
 * A base addressed SeaTable's way, by workspace and name, that the caller is a member of.
 * 404 names what is missing: the workspace, or the base (also when the caller may not see it).
 */
export async function memberBaseByName(
  deps: Pick<Deps, 'db'>,
  principal: Principal,
  workspaceId: string,
  name: string,
): Promise<Base> {
  const row = await deps.db
    .selectFrom('workspaces as w')
    .leftJoin('bases as b', (join) => join.onRef('b.workspace_id', '=', 'w.id').on('b.name', '=', name))
    .leftJoin('base_members as m', (join) =>
      join.onRef('m.base_id', '=', 'b.id').on('m.user_id', '=', principal.userId),
    )
    .select(['w.id as workspace_id', 'b.id', 'm.permission'])
    .where('w.id', '=', workspaceId)
    .executeTakeFirst();
  if (!row) throw notFound(`workspace ${workspaceId}`);
  if (!row.id || !row.permission) throw notFound(`base ${name}`);
  return memberBase(deps, principal, row.id);
}

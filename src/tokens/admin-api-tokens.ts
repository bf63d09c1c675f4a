import { actorOf } from '../audit/events';
import { revokeTokens } from '../revocations/revoke';
import type { Principal } from '../accounts/principal';
import type { Deps } from '../deps';
import { forbidden, notFound } from '../errors';
import { apiTokensOf, liveApiTokens } from './api-tokens';
import { OPAQUE_KINDS } from './kinds';

/**
 * Oversight of API-Tokens by administrators, whether or not they are members of the base:
 * system admins over every base, team admins over the bases in workspaces of their team's members.
 * `teamId` is given on team-admin routes and must be the caller's own team.
 */
function authorize(actor: Principal, teamId: string | undefined): void {
  if (
    teamId === undefined
      ? actor.role !== 'system_admin'
      : actor.role !== 'team_admin' || actor.teamId !== teamId
  ) {
    throw forbidden(
      teamId === undefined
        ? 'only system admins oversee the API-Tokens of every base'
        : "only the team's admins oversee the API-Tokens of its bases",
    );
  }
}

/** Bases in workspaces owned by members of the team (all bases when teamId is undefined). */
function overseenBases(deps: Pick<Deps, 'db'>, teamId: string | undefined) {
  let query = deps.db
    .selectFrom('bases as b')
    .innerJoin('workspaces as w', 'w.id', 'b.workspace_id')
    .innerJoin('users as o', 'o.id', 'w.owner_user_id')
    .select(['b.id', 'b.name']);
  if (teamId !== undefined) query = query.where('o.team_id', '=', teamId);
  return query;
}

async function overseenBase(
  deps: Pick<Deps, 'db'>,
  actor: Principal,
  baseUuid: string,
  teamId: string | undefined,
) {
  authorize(actor, teamId);
  const base = await overseenBases(deps, teamId).where('b.id', '=', baseUuid).executeTakeFirst();
  if (!base) throw notFound('base');
  return base;
}

export async function adminListBaseApiTokens(
  deps: Pick<Deps, 'db' | 'clock'>,
  actor: Principal,
  baseUuid: string,
  teamId?: string,
) {
  await overseenBase(deps, actor, baseUuid, teamId);
  return apiTokensOf(deps, await liveApiTokens(deps).where('t.base_id', '=', baseUuid).execute());
}

export async function adminRevokeApiToken(
  deps: Pick<Deps, 'db' | 'audit' | 'clock' | 'config'>,
  actor: Principal,
  baseUuid: string,
  name: string,
  teamId?: string,
): Promise<void> {
  await overseenBase(deps, actor, baseUuid, teamId);
  const token = await liveApiTokens(deps)
    .where('t.base_id', '=', baseUuid)
    .where('t.name', '=', name)
    .executeTakeFirst();
  if (!token) throw notFound('API-Token');
  // Oversight bypasses base membership, so it revokes directly rather than through the member's path.
  const revoked = await revokeTokens(deps, {
    kind: 'api',
    ids: [token.id],
    change: 'api_token_deleted',
    events: [
      {
        action: OPAQUE_KINDS.api.revokeAction,
        actor: actorOf(actor),
        subjectUserId: token.created_by,
        baseId: baseUuid,
        targetId: token.id,
        details: { name, by: 'oversight' },
      },
    ],
  });
  if (revoked === 0) throw notFound('API-Token');
}

/** Every live API-Token of the team's bases, a page at a time, with the total count. */
export async function teamApiTokens(
  deps: Pick<Deps, 'db' | 'clock'>,
  actor: Principal,
  teamId: string,
  page: { page: number; perPage: number },
) {
  authorize(actor, teamId);
  const bases = overseenBases(deps, teamId);
  const inTeam = liveApiTokens(deps).innerJoin(bases.as('b'), 'b.id', 't.base_id');
  const [rows, count] = await Promise.all([
    inTeam
      .select('b.name as base_name')
      .limit(page.perPage)
      .offset((page.page - 1) * page.perPage)
      .execute(),
    deps.db
      .selectFrom('api_tokens as t')
      .innerJoin(bases.as('b'), 'b.id', 't.base_id')
      .where('t.revoked_at', 'is', null)
      .select((eb) => eb.fn.countAll<number>().as('total'))
      .executeTakeFirstOrThrow(),
  ]);
  const tokens = await apiTokensOf(deps, rows);
  return {
    tokens: tokens.map((token, index) => ({ ...token, baseName: rows[index]!.base_name })),
    total: Number(count.total),
  };
}

import type { Compilable } from 'kysely';
import type { Principal } from '../accounts/principal';
import { actorOf, type AuditEvent } from '../audit/events';
import { adminBase } from '../bases/bases';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { badRequest, forbidden } from '../errors';
import { publishRevocations, revocationStatements } from '../revocations/revoke';
import { inIdList } from '../store/id-list';

export interface KillSwitchFilter {
  userId?: string;
  baseUuid?: string;
  /** Epoch seconds: tokens created before this. */
  createdBefore?: number;
  dryRun?: boolean;
}

/** Tokens changed per call: a bounded write (D1 batches, one audit record each); call again while `more`. */
export const KILL_SWITCH_BATCH = 500;

export interface KillSwitchResult {
  /** API-Tokens disabled (single-base tokens of the named base; every matching token without a base). */
  disabled: number;
  /** Multi-base API-Tokens that lost the named base and kept their others. */
  baseAccessEnded: number;
  more: boolean;
  dryRun: boolean;
}

/**
 * The kill switch. Without `baseUuid` (system admins only) it disables every live, enabled API-Token
 * matching the filter. With `baseUuid` it ends every API-Token's access to that base and nothing
 * beyond it: a single-base token of the base is disabled; a token that reaches it among others loses
 * that base only (a `bases` token has it removed from its list, a workspace or all-bases token is
 * blocked from it) and keeps its other bases, enabled or not. Each token's Base-Tokens stop at every
 * verifier within the poll interval (a `client` feed entry for a disabled token, a `client_base`
 * entry for the base it lost), all in one atomic write with one summary and one record per token
 * (each owner sees theirs). Disabling is reversible (owners re-enable what was caught by mistake); a
 * lost base is not. System admins may use any filter; base admins must name a base they administer.
 * A dry run answers what the same call would do now, changing nothing.
 */
export async function killSwitch(
  deps: Pick<Deps, 'db' | 'audit' | 'clock' | 'config'>,
  principal: Principal,
  filter: KillSwitchFilter,
): Promise<KillSwitchResult> {
  if (filter.userId === undefined && filter.baseUuid === undefined && filter.createdBefore === undefined) {
    throw badRequest('name at least one of user_id, base_uuid, created_before');
  }
  if (principal.role !== 'system_admin') {
    if (filter.baseUuid === undefined)
      throw forbidden('only system admins use the kill switch without naming a base they administer');
    await adminBase(deps, principal, filter.baseUuid);
  }
  const base = filter.baseUuid;
  let query = deps.db
    .selectFrom('api_tokens as t')
    .select(['t.id', 't.created_by', 't.base_id', 't.name', 't.scope_type'])
    .where('t.revoked_at', 'is', null);
  if (filter.userId !== undefined) query = query.where('t.created_by', '=', filter.userId);
  if (filter.createdBefore !== undefined) query = query.where('t.created_at', '<', filter.createdBefore);
  if (base === undefined) query = query.where('t.enabled', '=', 1);
  else {
    const db = deps.db;
    query = query.where((eb) => {
      const blocked = eb
        .selectFrom('api_token_base_blocks as k')
        .select('k.token_id')
        .whereRef('k.token_id', '=', 't.id')
        .where('k.base_id', '=', base);
      return eb.or([
        eb.and([eb('t.scope_type', '=', 'base'), eb('t.base_id', '=', base), eb('t.enabled', '=', 1)]),
        eb.and([
          eb('t.scope_type', '=', 'bases'),
          eb('t.id', 'in', db.selectFrom('api_token_bases').select('token_id').where('base_id', '=', base)),
        ]),
        eb.and([
          eb('t.scope_type', '=', 'workspace'),
          eb('t.workspace_id', '=', db.selectFrom('bases').select('workspace_id').where('id', '=', base)),
          eb.not(eb.exists(blocked)),
        ]),
        // An all-bases token reaches the bases its owner is a member of.
        eb.and([
          eb('t.scope_type', '=', 'all'),
          eb.exists(
            eb
              .selectFrom('base_members as m')
              .select('m.user_id')
              .whereRef('m.user_id', '=', 't.created_by')
              .where('m.base_id', '=', base),
          ),
          eb.not(eb.exists(blocked)),
        ]),
      ]);
    });
  }
  const rows = await query
    .orderBy('t.created_at')
    .orderBy('t.id')
    .limit(KILL_SWITCH_BATCH + 1)
    .execute();
  const batch = rows.slice(0, KILL_SWITCH_BATCH);
  const more = rows.length > KILL_SWITCH_BATCH;
  // With a base, only its single-base tokens are disabled; every other token loses that base only.
  const toDisable = batch.filter((row) => base === undefined || row.scope_type === 'base');
  const toCut = batch.filter((row) => base !== undefined && row.scope_type !== 'base');
  const result = {
    disabled: toDisable.length,
    baseAccessEnded: toCut.length,
    more,
    dryRun: filter.dryRun ?? false,
  };
  if (filter.dryRun || batch.length === 0) return result;

  const now = epochSeconds(deps.clock);
  const statements: Compilable[] = [];
  const disabledIds = toDisable.map((row) => row.id);
  if (disabledIds.length > 0)
    statements.push(
      deps.db
        .updateTable('api_tokens')
        .set({ enabled: 0, updated_at: now })
        .where(inIdList(deps.db, 'id', disabledIds))
        .where('enabled', '=', 1)
        .where('revoked_at', 'is', null),
      ...publishRevocations(deps, disabledIds, 'kill_switch'),
    );
  if (base !== undefined && toCut.length > 0) {
    const listed = toCut.filter((row) => row.scope_type === 'bases').map((row) => row.id);
    const blocked = toCut.filter((row) => row.scope_type !== 'bases');
    if (listed.length > 0)
      statements.push(
        deps.db
          .deleteFrom('api_token_bases')
          .where('base_id', '=', base)
          .where(inIdList(deps.db, 'token_id', listed)),
      );
    if (blocked.length > 0)
      statements.push(
        // Selected by one JSON id list, not spelled out as values: D1 binds at most 100 parameters.
        deps.db
          .insertInto('api_token_base_blocks')
          .columns(['token_id', 'base_id', 'created_at'])
          .expression(
            deps.db
              .selectFrom('api_tokens')
              .select((eb) => ['id', eb.val(base).as('base_id'), eb.val(now).as('created_at')])
              .where(
                inIdList(
                  deps.db,
                  'id',
                  blocked.map((row) => row.id),
                ),
              ),
          )
          .onConflict((oc) => oc.doNothing()),
      );
    statements.push(
      ...revocationStatements(
        deps,
        toCut.map((row) => ({ kind: 'client_base', value: row.id, baseId: base, change: 'kill_switch' })),
      ),
    );
  }
  const actor = actorOf(principal);
  const filterDetails = {
    user_id: filter.userId ?? null,
    base_uuid: base ?? null,
    created_before: filter.createdBefore ?? null,
  };
  const events: AuditEvent[] = [
    {
      action: 'token.kill_switch',
      actor,
      baseId: base ?? null,
      details: { ...filterDetails, disabled: toDisable.length, base_access_ended: toCut.length },
    },
    ...toDisable.map(
      (row): AuditEvent => ({
        action: 'api_token.disable',
        actor,
        subjectUserId: row.created_by,
        baseId: row.base_id,
        targetId: row.id,
        details: { name: row.name, reason: 'kill_switch' },
      }),
    ),
    ...toCut.map(
      (row): AuditEvent => ({
        action: 'api_token.base_access_end',
        actor,
        subjectUserId: row.created_by,
        baseId: base ?? null,
        targetId: row.id,
        details: { name: row.name, reason: 'kill_switch' },
      }),
    ),
  ];
  await deps.audit.commit(statements, events);
  return result;
}

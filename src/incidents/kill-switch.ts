import type { Principal } from '../accounts/principal';
import { actorOf, type AuditEvent } from '../audit/events';
import { adminBase } from '../bases/bases';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { badRequest, forbidden } from '../errors';
import { publishRevocations } from '../revocations/revoke';
import { inIdList } from '../store/id-list';

export interface KillSwitchFilter {
  userId?: string;
  baseUuid?: string;
  /** Epoch seconds: tokens created before this. */
  createdBefore?: number;
  dryRun?: boolean;
}

/** Tokens disabled per call: a bounded write (D1 batches, one audit record each); call again while `more`. */
export const KILL_SWITCH_BATCH = 500;

/**
 * Disables every live API-Token matching the filter in one atomic write, publishes their Base-Tokens
 * to the revocation feed (so they stop at every verifier within the poll interval), and records one
 * summary plus one `api_token.disable` per token (each owner sees theirs). Disabling is reversible:
 * owners re-enable what was caught by mistake. System admins may use any filter; base admins must
 * name a base they administer and reach only tokens scoped to it.
 */
export async function killSwitch(
  deps: Pick<Deps, 'db' | 'audit' | 'clock' | 'config'>,
  principal: Principal,
  filter: KillSwitchFilter,
) {
  if (filter.userId === undefined && filter.baseUuid === undefined && filter.createdBefore === undefined) {
    throw badRequest('name at least one of user_id, base_uuid, created_before');
  }
  if (principal.role !== 'system_admin') {
    if (filter.baseUuid === undefined)
      throw forbidden('only system admins use the kill switch without naming a base they administer');
    await adminBase(deps, principal, filter.baseUuid);
  }
  let query = deps.db
    .selectFrom('api_tokens')
    .select(['id', 'created_by', 'base_id', 'name'])
    .where('revoked_at', 'is', null)
    .where('enabled', '=', 1);
  if (filter.userId !== undefined) query = query.where('created_by', '=', filter.userId);
  if (filter.baseUuid !== undefined) {
    const base = filter.baseUuid;
    const listed = deps.db.selectFrom('api_token_bases').select('token_id').where('base_id', '=', base);
    query = query.where((eb) => eb.or([eb('base_id', '=', base), eb('id', 'in', listed)]));
  }
  if (filter.createdBefore !== undefined) query = query.where('created_at', '<', filter.createdBefore);
  const rows = await query
    .orderBy('created_at')
    .orderBy('id')
    .limit(KILL_SWITCH_BATCH + 1)
    .execute();
  const batch = rows.slice(0, KILL_SWITCH_BATCH);
  const more = rows.length > KILL_SWITCH_BATCH;
  if (filter.dryRun || batch.length === 0)
    return { disabled: batch.length, more, dryRun: filter.dryRun ?? false };

  const now = epochSeconds(deps.clock);
  const ids = batch.map((row) => row.id);
  const disable = deps.db
    .updateTable('api_tokens')
    .set({ enabled: 0, updated_at: now })
    .where(inIdList('id', ids))
    .where('enabled', '=', 1)
    .where('revoked_at', 'is', null);
  const actor = actorOf(principal);
  const filterDetails = {
    user_id: filter.userId ?? null,
    base_uuid: filter.baseUuid ?? null,
    created_before: filter.createdBefore ?? null,
  };
  const events: AuditEvent[] = [
    {
      action: 'token.kill_switch',
      actor,
      baseId: filter.baseUuid ?? null,
      details: { ...filterDetails, disabled: ids.length },
    },
    ...batch.map(
      (row): AuditEvent => ({
        action: 'api_token.disable',
        actor,
        subjectUserId: row.created_by,
        baseId: row.base_id,
        targetId: row.id,
        details: { name: row.name, reason: 'kill_switch' },
      }),
    ),
  ];
  await deps.audit.commit([disable, ...publishRevocations(deps, ids, 'kill_switch')], events);
  return { disabled: ids.length, more, dryRun: false };
}

import {
  sql,
  type Compilable,
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  type RawBuilder,
  type SqlBool,
} from 'kysely';
import type { AuditEvent } from '../audit/events';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { inIdList } from '../store/id-list';
import type { Database, RevocationKind } from '../store/schema';
import { OPAQUE_KINDS, type OpaqueKind, type TokenTable } from '../tokens/kinds';
import { RULES, type PublishingChange, type Rule } from './rules';

/**
 * Every write that revokes a credential or publishes a revocation to the feed is built here: the
 * conditional UPDATE of the token rows, the guard that says it took effect, and the feed rows, all
 * for one atomic write with the action's audit records.
 */

/** Clock skew a verifier allows on `iat`/`exp`: entries outlive the tokens they match by this much. */
export const VERIFIER_SKEW_SECONDS = 60;

/** The change a write publishes for: its rule (./rules.ts) says which feed kinds it may write. */
export type { PublishingChange } from './rules';

export interface Revocation {
  /**
   * `client`: Base-Tokens whose `client_id` is this token id (an API-Token's or Account-Token's id, a
   * temporary API-Token's `jti`); `client_base`: those of them for one base (`baseId`);
   * `subject_base`: every Base-Token of one user (`value`, their `sub`) for one base (`baseId`),
   * whatever its source; `jti`: one Base-Token (or one temporary API-Token, for its exchange).
   */
  kind: RevocationKind;
  value: string;
  change: PublishingChange;
  /** `client_base`, `subject_base`: the base. */
  baseId?: string;
  /** `jti`: the Base-Token's source token, whose live jti entries are bounded (see revokeBaseToken). */
  clientId?: string;
  /** For a `jti`: when that Base-Token expires. A source token's entry lasts one Base-Token lifetime. */
  tokenExpiresAt?: number;
  /**
   * For Base-Tokens without a `gen` claim (issued before tokenladder 0.2): those issued at or before
   * this time (epoch seconds) are revoked; default now.
   */
  revokedAt?: number;
  /**
   * Base-Tokens whose `gen` is below this are revoked; default the entry's own `seq`, i.e. every
   * matching Base-Token exchanged before this write. Only the per-source bound on jti entries sets a
   * smaller one (up to one Base-Token of the source).
   */
  gen?: number;
}

type FeedDeps = Pick<Deps, 'db' | 'clock' | 'config'>;

/**
 * Statements that publish revocations to the feed, for the same atomic write as the action itself.
 * `seq` (the feed cursor) is computed inside the write, so concurrent writers never share one. With
 * `onlyIf`, the entries are written only when the action took effect. Expired entries are dropped
 * here too (the newest row stays, so `seq` never goes back).
 *
 * A source (`client`, `client_base`, `subject_base`) has one entry: publishing it again writes a new row with the next
 * `seq` (so pollers read it) and the later of the two revocation times and expiries, then deletes the
 * older row. However often a token is disabled and enabled, the feed holds one entry for it.
 */
export function revocationStatements(
  deps: FeedDeps,
  revocations: readonly Revocation[],
  onlyIf?: Expression<unknown>,
): Compilable[] {
  if (revocations.length === 0) return [];
  const now = epochSeconds(deps.clock);
  const { db } = deps;
  const statements = revocations.flatMap((revocation): Compilable[] => {
    const expiresAt =
      (revocation.tokenExpiresAt ?? now + deps.config.baseTokenTtlSeconds) + VERIFIER_SKEW_SECONDS;
    const revokedAt = revocation.revokedAt ?? now;
    const perBase = revocation.kind === 'client_base' || revocation.kind === 'subject_base';
    const baseId = perBase ? (revocation.baseId ?? null) : null;
    if (perBase && baseId === null) throw new Error(`a ${revocation.kind} revocation names its base`);
    const source =
      revocation.kind === 'jti' ? null : { kind: revocation.kind, value: revocation.value, baseId };
    const earlier = (column: 'revoked_at' | 'expires_at' | 'seq') =>
      db
        .selectFrom('revocations as r')
        .select((eb) => eb.fn.max(`r.${column}` as const).as('m'))
        .where(sameSource(source!));
    // NULL stands for the row's own seq, above every earlier entry's: the common case stores nothing.
    // An explicit one never goes below what the source's earlier entries already refused.
    const earlierGen = () =>
      db
        .selectFrom('revocations as r')
        .select(sql<number>`max(coalesce(r.gen, r.seq))`.as('m'))
        .where(sameSource(source!));
    if (revocation.gen !== undefined && !source)
      throw new Error('a jti entry matches one token, not a generation');
    const select = db.selectNoFrom((eb) => [
      db.selectFrom('revocations').select(sql<number>`coalesce(max(seq), 0) + 1`.as('next')).as('seq'),
      eb.val(revocation.kind).as('kind'),
      eb.val(revocation.value).as('value'),
      eb.val(baseId).as('base_id'),
      eb.val(revocation.kind === 'jti' ? (revocation.clientId ?? null) : null).as('client_id'),
      (source ? larger(revokedAt, earlier('revoked_at')) : sql<number>`${revokedAt}`).as('revoked_at'),
      (source ? larger(expiresAt, earlier('expires_at')) : sql<number>`${expiresAt}`).as('expires_at'),
      eb.val(storedReason(revocation.change, revocation.kind)).as('reason'),
      (revocation.gen === undefined ? sql<number | null>`NULL` : larger(revocation.gen, earlierGen())).as(
        'gen',
      ),
    ]);
    const insert = db
      .insertInto('revocations')
      .columns(['seq', 'kind', 'value', 'base_id', 'client_id', 'revoked_at', 'expires_at', 'reason', 'gen'])
      .expression(onlyIf ? select.where((eb) => eb.exists(onlyIf)) : select);
    if (!source) return [insert];
    // The newest row of the source stays: the one just written (or, without it, the one already there).
    const replaced = db
      .deleteFrom('revocations')
      .where(sameSource(source, 'revocations'))
      .where('seq', '<', earlier('seq'));
    return [insert, replaced];
  });
  const prune = db
    .deleteFrom('revocations')
    .where('expires_at', '<', now)
    .where(
      'seq',
      '<',
      db.selectFrom('revocations').select((eb) => eb.fn.max('seq').as('m')),
    );
  return [...statements, prune];
}

/**
 * The larger of a value and what a subquery finds (0 when it finds nothing). Spelled as a CASE rather
 * than SQLite's two-argument `max(a, b)` (PostgreSQL's is `greatest`): one text for every dialect.
 */
function larger(value: number, found: Expression<unknown>): RawBuilder<number> {
  const other = sql<number>`coalesce((${found}), 0)`;
  return sql<number>`(CASE WHEN ${value} >= ${other} THEN ${value} ELSE ${other} END)`;
}

/**
 * The reason a feed entry is stored with, from its change's rule; a kind the rule does not list is a
 * bug in the caller (the rules are the statement of what each change ends).
 */
function storedReason(change: PublishingChange, kind: RevocationKind): string {
  const rule: Rule = RULES[change];
  if (!rule.feed.includes(kind))
    throw new Error(`${change} does not publish ${kind} entries (src/revocations/rules.ts)`);
  return rule.reason!;
}

/** The rows of one source's entry (kind, token or user id and, for per-base kinds, the base). */
function sameSource(
  source: { kind: RevocationKind; value: string; baseId: string | null },
  table: 'r' | 'revocations' = 'r',
) {
  const ref = (column: string) => sql.ref(`${table}.${column}`);
  const base =
    source.baseId === null ? sql`${ref('base_id')} IS NULL` : sql`${ref('base_id')} = ${source.baseId}`;
  return sql<boolean>`(${ref('kind')} = ${source.kind} AND ${ref('value')} = ${source.value} AND ${base})`;
}

/**
 * The feed entry that ends a user's Base-Tokens for one base, whatever they were exchanged from
 * (API-Tokens, Account-Tokens, temporary API-Tokens): for a member removed from the base or demoted
 * on it. A token exchanged afterwards carries what is left. One live entry per (user, base).
 */
export function publishSubjectBaseRevocation(
  deps: FeedDeps,
  subject: { userId: string; baseId: string },
  change: PublishingChange,
  onlyIf?: Expression<unknown>,
): Compilable[] {
  return revocationStatements(
    deps,
    [{ kind: 'subject_base', value: subject.userId, baseId: subject.baseId, change }],
    onlyIf,
  );
}

/**
 * Feed entries for source tokens (opaque token ids): every Base-Token they were exchanged for stops
 * at the verifiers, and for an Account-Token, every Base-Token of the live temporary API-Tokens it
 * made (see publishTempApiTokens). Alone, for a change that leaves the token itself in place
 * (disabled, narrowed, regenerated, its owner deactivated); with `revokeStatement`, for a revocation.
 */
export function publishRevocations(
  deps: FeedDeps,
  ids: readonly string[],
  change: PublishingChange,
  onlyIf?: Expression<unknown>,
): Compilable[] {
  if (ids.length === 0) return [];
  return [
    ...revocationStatements(
      deps,
      ids.map((value) => ({ kind: 'client', value, change })),
      onlyIf,
    ),
    publishTempApiTokens(deps, inIdList(deps.db, 't.account_token_id', ids), change, onlyIf),
  ];
}

/**
 * Feed entries for every live token of one kind a user owns (but `except`), chosen inside the write:
 * a token created up to the moment of the write, in this process or any other, is included, so no
 * Base-Token exchanged from it before the change escapes (a list read before the write could miss
 * it). Put these before the write's own revocation of the same tokens (they look for live ones).
 */
export function publishOwnedRevocations(
  deps: FeedDeps,
  kind: OpaqueKind,
  target: { owner: string; except?: string },
  change: PublishingChange,
  onlyIf?: Expression<unknown>,
): Compilable[] {
  const { db } = deps;
  const owned =
    kind === 'account'
      ? db.selectFrom('account_tokens as owned').select('owned.id').where('owned.user_id', '=', target.owner)
      : db.selectFrom('api_tokens as owned').select('owned.id').where('owned.created_by', '=', target.owner);
  return publishSelectedRevocations(
    deps,
    kind,
    owned
      .where('owned.revoked_at', 'is', null)
      .$if(target.except !== undefined, (query) => query.where('owned.id', '!=', target.except!)),
    change,
    onlyIf,
  );
}

/**
 * Feed entries (`client`) for the tokens of one kind a query selects (its column `id`), chosen inside
 * the write, so the tokens are those the database holds at that moment whatever another process did
 * meanwhile; for Account-Tokens, the live temporary API-Tokens they made too. A source's earlier entry
 * is replaced, as `revocationStatements` does; `seq` continues the feed in id order.
 */
export function publishSelectedRevocations(
  deps: FeedDeps,
  kind: OpaqueKind,
  selected: Expression<{ id: string }>,
  change: PublishingChange,
  onlyIf?: Expression<unknown>,
): Compilable[] {
  const now = epochSeconds(deps.clock);
  const { db } = deps;
  const expiresAt = now + deps.config.baseTokenTtlSeconds + VERIFIER_SKEW_SECONDS;
  const earlier = (column: 'revoked_at' | 'expires_at' | 'seq', of: string) =>
    sql<number>`(SELECT max(r.${sql.ref(column)}) FROM revocations AS r
      WHERE r.kind = 'client' AND r.base_id IS NULL AND r.value = ${sql.ref(of)})`;
  const insert = sql`INSERT INTO revocations (seq, kind, value, revoked_at, expires_at, reason)
    SELECT (SELECT coalesce(max(seq), 0) FROM revocations) + row_number() OVER (ORDER BY o.id),
           'client', o.id,
           ${larger(now, earlier('revoked_at', 'o.id'))},
           ${larger(expiresAt, earlier('expires_at', 'o.id'))},
           ${storedReason(change, 'client')}
      FROM ${selected} AS o${onlyIf ? sql` WHERE EXISTS ${onlyIf}` : sql``}`;
  // The newest row of each of these sources stays: the one just written.
  const replaced = db
    .deleteFrom('revocations')
    .where('kind', '=', 'client')
    .where('base_id', 'is', null)
    .where(sql<boolean>`value IN ${selected}`)
    .where('seq', '<', earlier('seq', 'revocations.value'));
  return [
    { compile: () => insert.compile(db) },
    replaced,
    ...(kind === 'account'
      ? [publishTempApiTokens(deps, sql<boolean>`t.account_token_id IN ${selected}`, change, onlyIf)]
      : []),
  ];
}

/**
 * One `client` entry per live temporary API-Token (SeaTable's) made by these Account-Tokens: their
 * Base-Tokens carry the temporary token's `jti` as `client_id`, so they stop at verifiers with the
 * Account-Token. Built inside the write from `temp_api_tokens`, so a temporary token made up to the
 * moment of the write is included; `seq` continues the feed, numbered in `jti` order. An entry lasts
 * until its temporary token expires (no Base-Token outlives it). Ids of other kinds match no row.
 */
function publishTempApiTokens(
  deps: FeedDeps,
  madeBy: Expression<SqlBool>,
  change: PublishingChange,
  onlyIf?: Expression<unknown>,
): Compilable {
  const now = epochSeconds(deps.clock);
  const { db } = deps;
  let select = db
    .selectFrom('temp_api_tokens as t')
    .select((eb) => [
      sql<number>`(SELECT coalesce(max(seq), 0) FROM revocations) + row_number() OVER (ORDER BY t.jti)`.as(
        'seq',
      ),
      eb.val<RevocationKind>('client').as('kind'),
      't.jti as value',
      eb.val(now).as('revoked_at'),
      sql<number>`t.expires_at + ${VERIFIER_SKEW_SECONDS}`.as('expires_at'),
      eb.val(storedReason(change, 'client')).as('reason'),
    ])
    .where(madeBy)
    // A Base-Token from it is accepted up to a verifier's clock tolerance past its expiry.
    .where('t.expires_at', '>', now - VERIFIER_SKEW_SECONDS);
  if (onlyIf) select = select.where((eb) => eb.exists(onlyIf));
  return db
    .insertInto('revocations')
    .columns(['seq', 'kind', 'value', 'revoked_at', 'expires_at', 'reason'])
    .expression(select);
}

/** Which tokens of a kind a revocation takes (all conditions hold together). */
export interface RevokeTarget {
  /** These tokens. */
  ids?: readonly string[];
  /** Only tokens of this user (the kind's owner column); without `ids`, every one of theirs. */
  owner?: string;
  /** Not this token (the one making the request). */
  except?: string;
}

export interface RevokeOptions {
  /** The write's time (epoch seconds): `revoked_at`, and what the `applied` guard looks for. */
  now: number;
  /** A query that must return a row, checked inside the write (the action's own precondition). */
  onlyIf?: Expression<unknown>;
  /** With `ids`: revoke them only if every one is still live, so overlapping requests never revoke part of a list. */
  allOrNothing?: boolean;
}

/**
 * The conditional UPDATE that revokes the live (not yet revoked) tokens of `target`: sets
 * `revoked_at`, and `updated_at` where the kind's table has one. Its affected rows are the tokens
 * this write revoked. Publish them with `publishRevocations` in the same atomic write.
 */
export function revokeStatement(
  deps: Pick<Deps, 'db'>,
  kind: OpaqueKind,
  target: RevokeTarget,
  { now, onlyIf, allOrNothing = false }: RevokeOptions,
): Compilable {
  const { table, hasUpdatedAt } = OPAQUE_KINDS[kind];
  let update = deps.db
    .updateTable(table)
    .set(hasUpdatedAt ? { revoked_at: now, updated_at: now } : { revoked_at: now })
    .where(targetFilter(deps.db, kind, target))
    .where('revoked_at', 'is', null);
  if (allOrNothing && target.ids) {
    const stillLive = deps.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(targetFilter(deps.db, kind, target))
      .where('revoked_at', 'is', null);
    update = update.where(stillLive, '=', target.ids.length);
  }
  if (onlyIf) update = update.where((eb) => eb.exists(onlyIf));
  return update;
}

function targetFilter(db: Kysely<Database>, kind: OpaqueKind, { ids, owner, except }: RevokeTarget) {
  // Never an empty condition: that would revoke every token of the kind.
  if (ids === undefined && owner === undefined)
    throw new Error('a revocation names its tokens or their owner');
  const column = OPAQUE_KINDS[kind].owner;
  return (eb: ExpressionBuilder<Database, TokenTable>) =>
    eb.and([
      ...(ids !== undefined ? [inIdList(db, 'id', ids)] : []),
      ...(owner !== undefined ? [eb(column, '=', owner)] : []),
      ...(except !== undefined ? [eb('id', '!=', except)] : []),
    ]);
}

/**
 * Revokes tokens of one kind by id and publishes them, with the action's audit records, in one
 * atomic write. Feed entries and records are written only if this write revoked every listed token
 * (all of them now carry this second's `revoked_at`; a concurrent revocation of the same token in the
 * same second could still pass: both then answer as done). Returns how many tokens it revoked.
 */
export async function revokeTokens(
  deps: Pick<Deps, 'db' | 'clock' | 'config' | 'audit'>,
  request: {
    kind: OpaqueKind;
    ids: readonly string[];
    /** Only if they belong to this user. */
    owner?: string;
    change: PublishingChange;
    events: readonly AuditEvent[];
    allOrNothing?: boolean;
  },
): Promise<number> {
  const { kind, ids, owner, change, events, allOrNothing } = request;
  const now = epochSeconds(deps.clock);
  const target = { ids, owner };
  const applied = deps.db
    .selectFrom(OPAQUE_KINDS[kind].table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(targetFilter(deps.db, kind, target))
    .where('revoked_at', '=', now)
    .having((eb) => eb.fn.countAll(), '=', ids.length);
  const [result] = await deps.audit.commit(
    [
      revokeStatement(deps, kind, target, { now, allOrNothing }),
      ...publishRevocations(deps, ids, change, applied),
    ],
    events,
    { onlyIf: applied },
  );
  return result!.numAffectedRows;
}

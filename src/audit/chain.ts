import type { AuditEventsTable } from '../store/schema';

/** `prev_hash` of the first record ever written. */
export const GENESIS_HASH = '0'.repeat(64);

export type AuditRow = AuditEventsTable;
export type UnsealedAuditRow = Omit<AuditRow, 'hash'>;

/** SHA-256 hex of a string: `deps.hashToken` (native on Node, Web Crypto elsewhere). */
export type Sha256Hex = (text: string) => string | Promise<string>;

/**
 * The exact bytes a record's hash covers: every column but `hash`, in a fixed order, as JSON (so no
 * field can bleed into its neighbour). Changing this breaks every existing chain: don't.
 */
export function canonicalAuditRecord(row: UnsealedAuditRow): string {
  return JSON.stringify([
    row.seq,
    row.at,
    row.action,
    row.outcome,
    row.actor_user_id,
    row.actor_token_id,
    row.subject_user_id,
    row.base_id,
    row.target_id,
    row.client_ip,
    row.details,
    row.prev_hash,
  ]);
}

export async function sealAuditRow(row: UnsealedAuditRow, sha256: Sha256Hex): Promise<AuditRow> {
  return { ...row, hash: await sha256(canonicalAuditRecord(row)) };
}

export interface ChainHead {
  seq: number;
  hash: string;
}

export interface ChainReport {
  ok: boolean;
  /** Records checked. */
  checked: number;
  /** First and last seq checked (null on an empty log). */
  first: number | null;
  last: number | null;
  /** The oldest record's own `prev_hash` when older records were pruned by retention (it cannot be checked). */
  anchoredAt: string | null;
  /** The first record that does not fit the chain, and why. */
  broken?: { seq: number; reason: 'hash_mismatch' | 'prev_hash_mismatch' | 'seq_gap' };
}

/**
 * Walks records in seq order and checks each one's hash and its link to the one before. Gaps in seq
 * (a deleted row) break the chain too: seq is contiguous by construction.
 */
export async function verifyAuditRows(
  rows: AsyncIterable<AuditRow> | Iterable<AuditRow>,
  sha256: Sha256Hex,
): Promise<ChainReport> {
  let previous: AuditRow | undefined;
  let first: AuditRow | undefined;
  let checked = 0;
  const report = (broken?: ChainReport['broken']): ChainReport => ({
    ok: broken === undefined,
    checked,
    first: first?.seq ?? null,
    last: previous?.seq ?? null,
    anchoredAt: first && first.prev_hash !== GENESIS_HASH ? first.prev_hash : null,
    ...(broken && { broken }),
  });
  for await (const row of rows) {
    first ??= row;
    if (previous && row.seq !== previous.seq + 1) return report({ seq: row.seq, reason: 'seq_gap' });
    if (previous && row.prev_hash !== previous.hash)
      return report({ seq: row.seq, reason: 'prev_hash_mismatch' });
    if ((await sha256(canonicalAuditRecord(row))) !== row.hash)
      return report({ seq: row.seq, reason: 'hash_mismatch' });
    previous = row;
    checked += 1;
  }
  return report();
}

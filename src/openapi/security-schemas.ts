import { z } from 'zod';

/** Response bodies of the audit, revocation and incident routes (see src/openapi/schemas.ts). */

export const auditEventSchema = z
  .strictObject({
    seq: z.number().int(),
    at: z.iso.datetime(),
    action: z.string(),
    outcome: z.enum(['success', 'failure']),
    actor: z.strictObject({
      user_id: z.string().nullable(),
      token_id: z.string().nullable(),
      client_ip: z.string().nullable(),
    }),
    subject_user_id: z.string().nullable(),
    base_uuid: z.string().nullable(),
    target_id: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).nullable(),
    hash: z.string(),
  })
  .meta({ id: 'AuditEvent' });

export const auditPageSchema = z
  .strictObject({ events: z.array(auditEventSchema), next_cursor: z.string().nullable() })
  .meta({ id: 'AuditPage' });

export const chainReportSchema = z
  .strictObject({
    ok: z.boolean(),
    checked: z.number().int(),
    first: z.number().int().nullable(),
    last: z.number().int().nullable(),
    anchored_at: z.string().nullable(),
    broken: z
      .strictObject({
        seq: z.number().int(),
        reason: z.enum(['hash_mismatch', 'prev_hash_mismatch', 'seq_gap']),
      })
      .optional(),
  })
  .meta({ id: 'AuditChainReport' });

export const revocationFeedSchema = z
  .strictObject({
    revocations: z.array(
      z.strictObject({
        kind: z.enum(['client', 'jti']),
        value: z.string(),
        revoked_at: z.number().int(),
        expires_at: z.number().int(),
      }),
    ),
    cursor: z.string(),
    complete: z.boolean(),
    reset: z.boolean(),
    poll_interval_seconds: z.number().int(),
  })
  .meta({ id: 'RevocationFeed' });

export const receivedSchema = z.strictObject({ received: z.number().int() }).meta({ id: 'Received' });

export const killSwitchResultSchema = z
  .strictObject({ disabled: z.number().int(), more: z.boolean(), dry_run: z.boolean() })
  .meta({ id: 'KillSwitchResult' });

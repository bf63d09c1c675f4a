import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { actorOf, type AuditEvent } from '../audit/events';
import type { Deps } from '../deps';
import { AppError, type ErrorCode } from '../errors';
import { OPAQUE_KINDS } from '../tokens/kinds';
import { parseOpaqueToken, type OpaqueKind } from '../tokens/opaque';
import { presentedCredential, type AppEnv } from './auth';
import { clientIp } from './client-ip';

/** Refusals of a presented credential: recorded as `auth.failure`. */
const AUTH_FAILURES = new Set<ErrorCode>([
  'token_invalid',
  'token_expired',
  'token_revoked',
  'token_disabled',
  'base_not_in_scope',
  'wrong_token_type',
  'account_disabled',
]);

/**
 * Records failed authentications and refused permissions in the audit log, after the response is
 * decided and before it is sent. Only tokens that exist are recorded (by id; their owner sees the
 * attempt in their audit view): garbage and made-up ids are answered but not recorded, so an
 * anonymous caller cannot fill the log.
 */
export function auditFailures(deps: Deps) {
  return createMiddleware<AppEnv>(async (c, next) => {
    await next();
    const error = c.error;
    if (!(error instanceof AppError)) return;
    if (AUTH_FAILURES.has(error.code)) {
      const presented = presentedToken(c);
      if (!presented) return;
      // Only tokens that exist: a well-formed unknown one is as cheap to make as garbage (CRC32).
      const owner = await ownerOf(deps, presented);
      if (owner === null) return;
      await deps.audit.record({
        action: 'auth.failure',
        outcome: 'failure',
        actor: { userId: null, tokenId: presented.id, clientIp: clientIp(c, deps.config.clientIpHeader) },
        subjectUserId: owner,
        targetId: presented.id,
        details: { code: error.code, method: c.req.method, path: c.req.path },
      });
    } else if (error.code === 'insufficient_permission') {
      const principal = c.get('principal');
      const event: AuditEvent = {
        action: 'access.denied',
        outcome: 'failure',
        actor: principal
          ? actorOf(principal)
          : {
              userId: null,
              tokenId: presentedToken(c)?.id ?? null,
              clientIp: clientIp(c, deps.config.clientIpHeader),
            },
        details: { method: c.req.method, path: c.req.path },
      };
      await deps.audit.record(event);
    }
  });
}

function presentedToken(c: Context) {
  const token = presentedCredential(c);
  return token ? parseOpaqueToken(token) : null;
}

async function ownerOf(deps: Deps, token: { kind: OpaqueKind; id: string }): Promise<string | null> {
  const { table, owner } = OPAQUE_KINDS[token.kind];
  const row = await deps.db
    .selectFrom(table)
    .select((eb) => eb.ref(owner).as('owner'))
    .where('id', '=', token.id)
    .executeTakeFirst();
  return row?.owner ?? null;
}

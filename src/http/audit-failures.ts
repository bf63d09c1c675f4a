import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { actorOf, boundedText, type AuditEvent } from '../audit/events';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { AppError, type ErrorCode } from '../errors';
import { hitCounter, peekCounter, pruneCounters, type CounterLimit } from '../throttle/counters';
import { OPAQUE_KINDS } from '../tokens/kinds';
import { parseOpaqueToken, type OpaqueKind } from '../tokens/opaque';
import { presentedCredential, type AppEnv } from './auth';
import { clientIp } from './client-ip';

/**
 * Refusals of a credential whose secret matched (the caller holds the real token): each one is
 * recorded as `auth.failure`. Only these codes are ever raised after the secret check.
 */
const GENUINE_FAILURES = new Set<ErrorCode>([
  'token_expired',
  'token_revoked',
  'token_disabled',
  'base_not_in_scope',
  'account_disabled',
]);

/**
 * Refusals that prove nothing about the caller: a wrong secret for a real id (`token_invalid`), or a
 * real id of another kind, refused before any secret check (`wrong_token_type`). Token ids are not
 * secret (the feed lists them, every verifier sees `client_id`), so anyone can make these: they are
 * recorded at most once per token id per window, never once per request.
 */
const UNVERIFIED_FAILURES = new Set<ErrorCode>(['token_invalid', 'wrong_token_type']);

/** One `auth.failure` record per token id per hour for unverified refusals (README: audit log). */
export const UNVERIFIED_FAILURE_WINDOW: CounterLimit = { limit: 1, windowSeconds: 3600 };
/** Recorded paths are cut to this many characters (the request line is the caller's to choose). */
export const AUDIT_PATH_MAX_CHARS = 256;
const METHOD_MAX_CHARS = 16;
const COUNTER_PREFIX = 'authfail:';
/** Per database handle: when the expired counters were last deleted (one DELETE an hour at most). */
const lastPrune = new WeakMap<object, number>();

/**
 * Records failed authentications and refused permissions in the audit log, after the response is
 * decided and before it is sent, in ways an anonymous caller cannot amplify: only tokens that exist
 * are recorded (by id; their owner sees the attempt in their audit view), every refusal of a genuine
 * credential, but a made-up secret only once per id per window; every field has a bounded size.
 */
export function auditFailures(deps: Deps) {
  return createMiddleware<AppEnv>(async (c, next) => {
    await next();
    const error = c.error;
    if (!(error instanceof AppError)) return;
    const genuine = GENUINE_FAILURES.has(error.code);
    if (genuine || UNVERIFIED_FAILURES.has(error.code)) {
      const presented = presentedToken(c);
      if (!presented) return;
      // Only tokens that exist: a well-formed unknown one is as cheap to make as garbage (CRC32).
      const owner = await ownerOf(deps, presented);
      if (owner === null) return;
      if (!genuine && !(await firstInWindow(deps, presented.id))) return;
      await deps.audit.record({
        action: 'auth.failure',
        outcome: 'failure',
        actor: { userId: null, tokenId: presented.id, clientIp: clientIp(c, deps.config.clientIpHeader) },
        subjectUserId: owner,
        targetId: presented.id,
        details: {
          code: error.code,
          ...requestDetails(c),
          ...(!genuine && { window_seconds: UNVERIFIED_FAILURE_WINDOW.windowSeconds }),
        },
      });
    } else if (error.code === 'insufficient_permission' || error.code === 'address_not_allowed') {
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
        details: { ...requestDetails(c), ...(error.code === 'address_not_allowed' && { code: error.code }) },
      };
      await deps.audit.record(event);
    }
  });
}

const requestDetails = (c: Context) => ({
  method: boundedText(c.req.method, METHOD_MAX_CHARS),
  path: boundedText(c.req.path, AUDIT_PATH_MAX_CHARS),
});

/**
 * Whether this is the first unverified refusal for `id` in the current window. A peek first, so the
 * flood that follows the first refusal costs reads, not writes; of concurrent first ones, the
 * counter lets exactly one through.
 */
async function firstInWindow(deps: Deps, id: string): Promise<boolean> {
  const key = `${COUNTER_PREFIX}${id}`;
  if (!(await peekCounter(deps, key, UNVERIFIED_FAILURE_WINDOW)).allowed) return false;
  await maybePrune(deps);
  return (await hitCounter(deps, key, UNVERIFIED_FAILURE_WINDOW)).hits === 1;
}

async function maybePrune(deps: Deps): Promise<void> {
  const now = epochSeconds(deps.clock);
  if (now - (lastPrune.get(deps.db) ?? 0) < UNVERIFIED_FAILURE_WINDOW.windowSeconds) return;
  lastPrune.set(deps.db, now);
  await pruneCounters(deps, COUNTER_PREFIX, UNVERIFIED_FAILURE_WINDOW.windowSeconds);
}

function presentedToken(c: Context<AppEnv>) {
  const token = c.get('presentedToken') ?? presentedCredential(c);
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

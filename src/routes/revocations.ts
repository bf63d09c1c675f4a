import { Hono } from 'hono';
import { z } from 'zod';
import { anonymousActor } from '../audit/events';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { requireAccount, type AppEnv } from '../http/auth';
import { clientIp } from '../http/client-ip';
import { epochFromIso, requireJsonBody, uuidParam, validate } from '../http/validate';
import { killSwitch } from '../incidents/kill-switch';
import { reportLeakedTokens } from '../incidents/leaked-tokens';
import { constantTimeEqual } from '../lib/bytes';
import { describe, json } from '../openapi/describe';
import { killSwitchResultSchema, receivedSchema, revocationFeedSchema } from '../openapi/security-schemas';
import { revokeBaseToken } from '../revocations/base-tokens';
import { latestRevocation, readRevocations } from '../revocations/feed';
import { MAX_TOKEN_LENGTH } from '../verify/precheck';

const feedQuerySchema = z.strictObject({
  since: z
    .string()
    .regex(/^\d{1,15}$/, 'must be a cursor from an earlier answer')
    .transform(Number)
    .optional(),
});

const someString = z.string().min(1).max(MAX_TOKEN_LENGTH);
const leakReportSchema = z.strictObject({ tokens: z.array(someString).min(1).max(100) });
const revokeBaseTokenSchema = z.strictObject({ token: someString });
const killSwitchSchema = z.strictObject({
  user_id: z.uuid('must be a user id').optional(),
  base_uuid: uuidParam.optional(),
  created_before: epochFromIso.optional(),
  dry_run: z.boolean().optional(),
});

/**
 * Revocation faster than a Base-Token's lifetime: the feed verifiers poll, revoking one Base-Token,
 * the public leak report, and the kill switch.
 */
export function revocationRoutes(deps: Deps) {
  const auth = requireAccount(deps);
  const feedToken = deps.config.revocationFeedToken;
  // Hashed once: each poll hashes only what it presents, and compares digests in constant time.
  const feedTokenHash = feedToken === null ? null : Promise.resolve(deps.hashToken(feedToken));
  return new Hono<AppEnv>()
    .get(
      '/api/v1/revocations',
      describe({
        summary: 'The revocation feed verifiers poll',
        description:
          'Entries `client` (reject Base-Tokens whose `client_id` is this token id and whose `iat` is at or before `revoked_at`) and `jti` (reject that Base-Token), ' +
          'each kept until the Base-Tokens it can match have expired. Poll with `since` = the last `cursor` and `If-None-Match` = the last ETag: an idle poll is a 304. ' +
          'Public unless the operator sets TOKENLADDER_REVOCATIONS_TOKEN (then send it as a Bearer token).',
        tags: ['Revocation and incidents'],
        auth: 'none',
        errors: [400, 401],
        responses: {
          200: json('Entries after the cursor', revocationFeedSchema),
          304: { description: 'Nothing new since the ETag' },
        },
      }),
      validate('query', feedQuerySchema),
      async (c) => {
        if (feedTokenHash !== null) {
          const presented = /^Bearer (\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
          if (!constantTimeEqual(await deps.hashToken(presented), await feedTokenHash))
            throw new AppError('missing_credentials', 'the revocation feed needs its Bearer credential');
        }
        c.header('Cache-Control', 'no-cache');
        const since = c.req.valid('query').since ?? 0;
        const latest = await latestRevocation(deps);
        const etag = `"${latest}"`;
        c.header('ETag', etag);
        if (c.req.header('if-none-match') === etag && since === latest) return c.body(null, 304);
        const page = await readRevocations(deps, since, latest);
        return c.json({ ...page, poll_interval_seconds: deps.config.revocationPollSeconds });
      },
    )
    .post(
      '/api/v1/base-tokens/revoke',
      describe({
        summary: 'Revoke one Base-Token',
        description:
          'Whoever holds a Base-Token may revoke it (RFC 7009 style): the answer is 200 whether or not the string was a valid token.',
        tags: ['Revocation and incidents'],
        auth: 'none',
        body: true,
        responses: { 200: json('Received', receivedSchema) },
      }),
      requireJsonBody,
      validate('json', revokeBaseTokenSchema),
      async (c) => {
        await revokeBaseToken(
          deps,
          c.req.valid('json').token,
          'revoked',
          anonymousActor(clientIp(c, deps.config.clientIpHeader)),
        );
        return c.json({ received: 1 });
      },
    )
    .post(
      '/api/v1/leaked-tokens',
      describe({
        summary: 'Report leaked tokens (no authentication)',
        description:
          'Every valid Account-Token, API-Token or Base-Token in the list is revoked and its owner sees a `token.leak_report` record. ' +
          'The answer is the same whichever strings were tokens. Rate-limited per client address.',
        tags: ['Revocation and incidents'],
        auth: 'none',
        body: true,
        errors: [429],
        responses: { 202: json('Received', receivedSchema) },
      }),
      requireJsonBody,
      validate('json', leakReportSchema),
      async (c) =>
        c.json(
          {
            received: await reportLeakedTokens(
              deps,
              c.req.valid('json').tokens,
              clientIp(c, deps.config.clientIpHeader),
            ),
          },
          202,
        ),
    )
    .post(
      '/api/v1/kill-switch',
      describe({
        summary: 'Disable every API-Token matching a filter',
        description:
          'System admins: any of user_id, base_uuid, created_before. Base admins: base_uuid of a base they administer. ' +
          `At most 500 tokens per call (\`more\` says whether to call again); \`dry_run\` counts without disabling.`,
        tags: ['Revocation and incidents'],
        auth: 'account',
        body: true,
        errors: [403, 404],
        responses: { 200: json('What was disabled', killSwitchResultSchema) },
      }),
      auth,
      requireJsonBody,
      validate('json', killSwitchSchema),
      async (c) => {
        const body = c.req.valid('json');
        return c.json(
          await killSwitch(deps, c.var.principal, {
            userId: body.user_id,
            baseUuid: body.base_uuid,
            createdBefore: body.created_before,
            dryRun: body.dry_run,
          }),
        );
      },
    );
}

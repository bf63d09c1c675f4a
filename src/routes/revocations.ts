import { Hono, type Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { anonymousActor } from '../audit/events';
import type { RevocationStreamConfig } from '../config';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { bearerCredential, requireAccount, type AppEnv } from '../http/auth';
import { clientIp } from '../http/client-ip';
import { epochFromIso, requireJsonBody, uuidParam, validate } from '../http/validate';
import { killSwitch } from '../incidents/kill-switch';
import { reportLeakedTokens } from '../incidents/leaked-tokens';
import { constantTimeEqual } from '../lib/bytes';
import { killSwitchResultSchema, receivedSchema, revocationFeedSchema } from '../openapi/responses';
import { emptyResponse, jsonResponse, routeDoc } from '../openapi/route-doc';
import { killSwitchJson, revocationFeedJson } from './serializers';
import { revokeBaseToken } from '../revocations/base-tokens';
import { latestRevocation, readRevocations } from '../revocations/feed';
import { followRevocations, sharedFeedReads, type FeedReads } from '../revocations/stream';
import { MAX_TOKEN_LENGTH } from '../verify/precheck';

const cursorParam = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a cursor from an earlier answer')
  .transform(Number);
const feedQuery = z.strictObject({ since: cursorParam.optional() });
// Not strict: a request carries many other headers.
const streamHeaders = z.object({ 'last-event-id': cursorParam.optional() });

/** Where the poll feed says the stream is (its `Tokenladder-Revocation-Stream` header), when offered. */
export const REVOCATION_STREAM_PATH = '/api/v1/revocations/stream';
/** The reconnection delay the stream advises (SSE `retry:`), in milliseconds. */
const STREAM_RETRY_MS = 2000;

const someString = z.string().min(1).max(MAX_TOKEN_LENGTH);
const leakReportBody = z.strictObject({ tokens: z.array(someString).min(1).max(100) });
const revokeBaseTokenBody = z.strictObject({ token: someString });
const killSwitchBody = z.strictObject({
  user_id: z.uuid('must be a user id').optional(),
  base_uuid: uuidParam.optional(),
  created_before: epochFromIso.optional(),
  dry_run: z.boolean().optional(),
});

const tags: ['Revocation and incidents'] = ['Revocation and incidents'];

const feedDoc = routeDoc({
  summary: 'The revocation feed verifiers poll',
  description:
    'Entries `client` (reject Base-Tokens whose `client_id` is this token id), ' +
    "`client_base` (the same, only for Base-Tokens whose `aud` is the entry's `aud`), " +
    "`subject_base` (reject Base-Tokens whose `sub` is this user id and whose `aud` is the entry's `aud`: " +
    'the user was removed from that base or demoted on it) ' +
    'and `jti` (reject that Base-Token), each kept until the Base-Tokens it can match have expired. ' +
    'The first three match only Base-Tokens exchanged before the entry was written: those whose `gen` claim ' +
    "is below the entry's `gen` (a Base-Token without `gen`: whose `iat` is at or before `revoked_at`). " +
    'A source has one entry: publishing it again moves it to a new cursor position. ' +
    'A verifier refuses every token until it has read the feed to `complete`, and on an entry kind it does not know. ' +
    'Poll with `since` = the last `cursor` and `If-None-Match` = the last ETag: an idle poll is a 304. ' +
    'Public unless the operator sets TOKENLADDER_REVOCATIONS_TOKEN (then send it as a Bearer token).',
  tags,
  auth: 'none',
  errors: [400, 401],
  responses: {
    200: jsonResponse('Entries after the cursor', revocationFeedSchema),
    304: emptyResponse('Nothing new since the ETag'),
  },
});

const streamDoc = routeDoc({
  summary: 'The revocation feed, pushed (Server-Sent Events)',
  description:
    "The poll feed's pages as Server-Sent Events: each event's `data` is the JSON a poll answers for " +
    "that page and its `id` the page's `cursor`. The first event comes at once (the catch-up, possibly " +
    'empty, `complete` once current), then one per change. Resume with `Last-Event-ID` (or `since`); ' +
    'a comment line every 15 s is the heartbeat. The server ends a stream after ' +
    'TOKENLADDER_REVOCATION_STREAM_LIFETIME (1 h): reconnect with `Last-Event-ID`. ' +
    'At most TOKENLADDER_REVOCATION_STREAMS_MAX streams per process (503 with Retry-After beyond: poll meanwhile). ' +
    'Not offered on Workers (404: poll); the poll feed says where the stream is in its ' +
    '`Tokenladder-Revocation-Stream` header when it is offered. Same credential as the poll feed.',
  tags,
  auth: 'none',
  errors: [400, 401, 404, 503],
  responses: {
    200: {
      description: 'An event stream (`text/event-stream`) of feed pages',
      content: { 'text/event-stream': { schema: { type: 'string' } } },
    },
  },
});

const revokeBaseTokenDoc = routeDoc({
  summary: 'Revoke one Base-Token',
  description:
    'Whoever holds a Base-Token may revoke it (RFC 7009 style): ' +
    'the answer is 200 whether or not the string was a valid token.',
  tags,
  auth: 'none',
  body: true,
  responses: { 200: jsonResponse('Received', receivedSchema) },
});

const leakReportDoc = routeDoc({
  summary: 'Report leaked tokens (no authentication)',
  description:
    'Every valid Account-Token, API-Token or Base-Token in the list is revoked ' +
    'and its owner sees a `token.leak_report` record. ' +
    'The answer is the same whichever strings were tokens. Rate-limited per client address.',
  tags,
  auth: 'none',
  body: true,
  errors: [429],
  responses: { 202: jsonResponse('Received', receivedSchema) },
});

const killSwitchDoc = routeDoc({
  summary: 'End the access of every API-Token matching a filter',
  description:
    'System admins: any of user_id, base_uuid, created_before. ' +
    'Base admins: base_uuid of a base they administer. ' +
    'Without base_uuid, matching tokens are disabled. With base_uuid, every token that reaches the base ' +
    'loses it and nothing else: its single-base tokens are disabled (`disabled`), multi-base tokens lose ' +
    'that base and keep their others (`base_access_ended`). ' +
    'At most 500 tokens per call (`more` says whether to call again); `dry_run` answers what the call would do, changing nothing.',
  tags,
  auth: 'account',
  body: true,
  errors: [403, 404],
  responses: { 200: jsonResponse('What was disabled', killSwitchResultSchema) },
});

/**
 * Revocation faster than a Base-Token's lifetime: the feed verifiers poll, revoking one Base-Token,
 * the public leak report, and the kill switch. Only the kill switch needs an Account-Token.
 */
export function revocationRoutes(deps: Deps) {
  const auth = requireAccount(deps);
  const feedToken = deps.config.revocationFeedToken;
  // Hashed once: each poll hashes only what it presents, and compares digests in constant time.
  const feedTokenHash = feedToken === null ? null : Promise.resolve(deps.hashToken(feedToken));
  const requireFeedCredential = async (c: Context<AppEnv>) => {
    if (feedTokenHash === null) return;
    const presented = bearerCredential(c) ?? '';
    if (!constantTimeEqual(await deps.hashToken(presented), await feedTokenHash))
      throw new AppError('missing_credentials', 'the revocation feed needs its Bearer credential');
  };
  const stream = deps.config.revocationStream;
  /** Streams open now (this app, so this process): each holds a connection and a subscription. */
  let openStreams = 0;
  const feedReads = sharedFeedReads(deps);
  const streamOffered = createMiddleware(async (_c, next) => {
    if (stream === null)
      throw new AppError(
        'not_found',
        'this server offers no revocation stream (Workers, or TOKENLADDER_REVOCATION_STREAMS_MAX=0): poll GET /api/v1/revocations',
      );
    await next();
  });
  return new Hono<AppEnv>()
    .get('/api/v1/revocations', feedDoc, validate('query', feedQuery), async (c) => {
      await requireFeedCredential(c);
      c.header('Cache-Control', 'no-cache');
      if (stream !== null) c.header('Tokenladder-Revocation-Stream', REVOCATION_STREAM_PATH);
      const since = c.req.valid('query').since ?? 0;
      const latest = await latestRevocation(deps);
      const etag = `"${latest}"`;
      c.header('ETag', etag);
      if (c.req.header('if-none-match') === etag && since === latest) return c.body(null, 304);
      const page = await readRevocations(deps, since, latest);
      return c.json(revocationFeedJson(page, deps.config.revocationPollSeconds));
    })
    .get(
      REVOCATION_STREAM_PATH,
      streamDoc,
      streamOffered,
      validate('query', feedQuery),
      validate('header', streamHeaders),
      async (c) => {
        await requireFeedCredential(c);
        const bounds = stream!;
        if (deps.feedWakeups.closed.aborted)
          throw new AppError('service_unavailable', 'the server is stopping: reconnect shortly', 1);
        if (openStreams >= bounds.maxStreams)
          throw new AppError(
            'service_unavailable',
            'too many revocation streams are open: poll GET /api/v1/revocations meanwhile',
            30,
          );
        // A reconnecting EventSource sends both: the header is the newer position.
        const since = c.req.valid('header')['last-event-id'] ?? c.req.valid('query').since ?? 0;
        openStreams++;
        return eventStream(c, deps, since, bounds, feedReads, () => openStreams--);
      },
    )
    .post(
      '/api/v1/base-tokens/revoke',
      revokeBaseTokenDoc,
      requireJsonBody,
      validate('json', revokeBaseTokenBody),
      async (c) => {
        const actor = anonymousActor(clientIp(c, deps.config.clientIpHeader));
        await revokeBaseToken(deps, c.req.valid('json').token, 'base_token_revoked', actor);
        return c.json({ received: 1 });
      },
    )
    .post(
      '/api/v1/leaked-tokens',
      leakReportDoc,
      requireJsonBody,
      validate('json', leakReportBody),
      async (c) => {
        const from = clientIp(c, deps.config.clientIpHeader);
        return c.json({ received: await reportLeakedTokens(deps, c.req.valid('json').tokens, from) }, 202);
      },
    )
    .post(
      '/api/v1/kill-switch',
      killSwitchDoc,
      auth,
      requireJsonBody,
      validate('json', killSwitchBody),
      async (c) => {
        const body = c.req.valid('json');
        const filter = {
          userId: body.user_id,
          baseUuid: body.base_uuid,
          createdBefore: body.created_before,
          dryRun: body.dry_run,
        };
        return c.json(killSwitchJson(await killSwitch(deps, c.var.principal, filter)));
      },
    );
}

/**
 * The stream's wire form: `retry:` first, then one event per page (`id` = cursor, `data` = the poll
 * feed's JSON for that page), a comment line per heartbeat; ended at its lifetime, by the client, or
 * when the server stops. `done` runs once it has ended.
 */
function eventStream(
  c: Context<AppEnv>,
  deps: Deps,
  since: number,
  bounds: RevocationStreamConfig,
  reads: FeedReads,
  done: () => void,
): Response {
  c.header('X-Accel-Buffering', 'no');
  const response = streamSSE(c, async (sse) => {
    const ended = new AbortController();
    sse.onAbort(() => ended.abort());
    // At its lifetime the stream ends even if the client stopped reading (a write would wait).
    const lifetime = setTimeout(() => sse.abort(), bounds.maxLifetimeSeconds * 1000);
    const heartbeat = setInterval(() => void sse.write(': heartbeat\n\n'), bounds.heartbeatMs);
    try {
      await sse.write(`retry: ${STREAM_RETRY_MS}\n\n`);
      for await (const page of followRevocations(deps, since, ended.signal, reads)) {
        const data = JSON.stringify(revocationFeedJson(page, deps.config.revocationPollSeconds));
        await sse.writeSSE({ id: String(page.cursor), data });
      }
    } catch (error) {
      // The client reconnects with Last-Event-ID; the cause goes to the log, never to the stream.
      deps.log.error('revocation stream failed', { error: String(error) });
    } finally {
      clearTimeout(lifetime);
      clearInterval(heartbeat);
      done();
    }
  });
  // Not kept alive after the stream (streamSSE says keep-alive): a stream ends at its lifetime or at
  // shutdown, and a server that is stopping must not wait for the idle connection.
  response.headers.set('Connection', 'close');
  return response;
}

import { Hono } from 'hono';
import { z } from 'zod';
import { checkAuditChain, listAuditEvents } from '../audit/query';
import type { Deps } from '../deps';
import { requireAccount, type AppEnv } from '../http/auth';
import { epochFromIso, idParam, uuidParam, validate } from '../http/validate';
import { auditPageSchema, chainReportSchema } from '../openapi/responses';
import { jsonResponse, routeDoc } from '../openapi/route-doc';
import { auditPageJson, chainReportJson } from './serializers';

const auditQuery = z.strictObject({
  action: z
    .string()
    .max(64)
    .regex(/^[a-z_]+(\.[a-z_]*)?\*?$/, 'must be an action name or a prefix like api_token.*')
    .optional(),
  outcome: z.enum(['success', 'failure']).optional(),
  user: z.uuid('must be a user id').optional(),
  base: uuidParam.optional(),
  token: idParam.optional(),
  since: epochFromIso.optional(),
  until: epochFromIso.optional(),
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, 'must be a next_cursor value')
    .transform(Number)
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const listAuditEventsDoc = routeDoc({
  summary: 'Audit records, newest first',
  description:
    'System admins see everything; others what they did or what was done to their account and tokens, ' +
    'plus everything about the bases they administer. ' +
    'Filter by action (or a prefix such as `api_token.*`), outcome, user, base, token, time; ' +
    'page with `cursor` = the previous `next_cursor`.',
  tags: ['Audit log'],
  auth: 'account',
  responses: { 200: jsonResponse('A page of records', auditPageSchema) },
});

const verifyAuditChainDoc = routeDoc({
  summary: 'Check the audit log hash chain (system admins)',
  tags: ['Audit log'],
  auth: 'account',
  errors: [403],
  responses: { 200: jsonResponse('The result of the check', chainReportSchema) },
});

/** The audit log: read it (what each caller may see), check its hash chain (system admins). */
export function auditRoutes(deps: Deps) {
  const auth = requireAccount(deps);
  return new Hono<AppEnv>()
    .get('/api/v1/audit', listAuditEventsDoc, auth, validate('query', auditQuery), async (c) => {
      const { cursor, ...filters } = c.req.valid('query');
      return c.json(
        auditPageJson(await listAuditEvents(deps, c.var.principal, { ...filters, before: cursor })),
      );
    })
    .get('/api/v1/audit/verify', verifyAuditChainDoc, auth, async (c) => {
      return c.json(chainReportJson(await checkAuditChain(deps, c.var.principal)));
    });
}

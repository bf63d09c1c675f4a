import { Hono } from 'hono';
import { z } from 'zod';
import type { Deps } from '../deps';
import { requireAccount, type AppEnv } from '../http/auth';
import { requestLog } from '../http/hygiene';
import { requireJsonBody, validate } from '../http/validate';
import { authorizeKeyAdmin, listSigningKeys, rotateSigningKey } from '../keys/admin';
import { SIGNING_ALGS } from '../keys/signing-keys';
import { listOf, signingKeySchema } from '../openapi/responses';
import { jsonResponse, routeDoc } from '../openapi/route-doc';
import { signingKeyJson } from './serializers';

const rotateBody = z.strictObject({
  activate_after_seconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 86400)
    .optional(),
  revoke_old: z.boolean().optional(),
  alg: z
    .enum(SIGNING_ALGS)
    .optional()
    .meta({ description: "the new key's algorithm; default TOKENLADDER_SIGNING_ALG (EdDSA unless set)" }),
});

const listKeysDoc = routeDoc({
  summary: 'Signing keys and their states (system admins)',
  tags: ['Signing keys'],
  auth: 'account',
  errors: [403],
  responses: { 200: jsonResponse('The keys', listOf('keys', signingKeySchema)) },
});

const rotateKeyDoc = routeDoc({
  summary: 'Rotate the signing key (system admins)',
  tags: ['Signing keys'],
  auth: 'account',
  body: true,
  errors: [403, 409],
  responses: { 201: jsonResponse('The new key', signingKeySchema) },
});

/** Signing keys, for system admins: list them, rotate (planned, or at once when a key is compromised). */
export function keyRoutes(deps: Deps) {
  const auth = requireAccount(deps);
  return (
    new Hono<AppEnv>()
      .use('/api/v1/keys', auth)
      .use('/api/v1/keys/*', auth)
      // Refused before the body is read, as for any path under /api/v1/keys.
      .use('/api/v1/keys*', async (c, next) => {
        authorizeKeyAdmin(c.var.principal);
        await next();
      })
      .get('/api/v1/keys', listKeysDoc, async (c) =>
        c.json({ keys: (await listSigningKeys(deps, c.var.principal)).map(signingKeyJson) }),
      )
      .post('/api/v1/keys/rotate', rotateKeyDoc, requireJsonBody, validate('json', rotateBody), async (c) => {
        const body = c.req.valid('json');
        const key = await rotateSigningKey(deps, c.var.principal, {
          activateAfterSeconds: body.activate_after_seconds ?? deps.config.keyActivationDelaySeconds,
          revokeOld: body.revoke_old ?? false,
          alg: body.alg,
        });
        requestLog(c, deps.log).info('signing key rotation', {
          kid: key.kid,
          alg: key.alg,
          revoke_old: body.revoke_old ?? false,
        });
        return c.json(signingKeyJson(key), 201);
      })
  );
}

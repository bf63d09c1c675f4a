import { Hono } from 'hono';
import { z } from 'zod';
import { actorOf } from '../audit/events';
import { isoTime } from '../clock';
import type { Deps } from '../deps';
import { forbidden } from '../errors';
import { requireAccount, type AppEnv } from '../http/auth';
import { requestLog } from '../http/hygiene';
import { requireJsonBody, validate } from '../http/validate';
import { describe, json } from '../openapi/describe';
import { listOf, signingKeySchema } from '../openapi/schemas';
import type { KeyInfo } from '../keys/signing-keys';

const keyView = (key: KeyInfo) => ({
  kid: key.kid,
  alg: key.alg,
  state: key.state,
  created_at: isoTime(key.created_at),
  activated_at: isoTime(key.activated_at),
  retired_at: isoTime(key.retired_at),
});

const rotateSchema = z.strictObject({
  activate_after_seconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 86400)
    .optional(),
  revoke_old: z.boolean().optional(),
});

/** Signing keys, for system admins: list them, rotate (planned, or at once when a key is compromised). */
export function keyRoutes(deps: Deps) {
  return new Hono<AppEnv>()
    .use('/api/v1/keys', requireAccount(deps))
    .use('/api/v1/keys/*', requireAccount(deps))
    .use('/api/v1/keys*', async (c, next) => {
      if (c.var.principal.role !== 'system_admin') throw forbidden('only system admins manage signing keys');
      await next();
    })
    .get(
      '/api/v1/keys',
      describe({
        summary: 'Signing keys and their states (system admins)',
        tags: ['Signing keys'],
        auth: 'account',
        errors: [403],
        responses: { 200: json('The keys', listOf('keys', signingKeySchema)) },
      }),
      async (c) => c.json({ keys: (await deps.keys.list()).map(keyView) }),
    )
    .post(
      '/api/v1/keys/rotate',
      describe({
        summary: 'Rotate the signing key (system admins)',
        tags: ['Signing keys'],
        auth: 'account',
        body: true,
        errors: [403, 409],
        responses: { 201: json('The new key', signingKeySchema) },
      }),
      requireJsonBody,
      validate('json', rotateSchema),
      async (c) => {
        const body = c.req.valid('json');
        const key = await deps.keys.rotate({
          activateAfterSeconds: body.activate_after_seconds ?? deps.config.keyActivationDelaySeconds,
          revokeOld: body.revoke_old ?? false,
          actor: actorOf(c.var.principal),
        });
        requestLog(c, deps.log).info('signing key rotation', {
          kid: key.kid,
          revoke_old: body.revoke_old ?? false,
        });
        return c.json(keyView(key), 201);
      },
    );
}

import { Hono } from 'hono';
import { login } from '../../accounts/account-tokens';
import type { Deps } from '../../deps';
import { badRequest } from '../../errors';
import { requireAccount, type AppEnv } from '../../http/auth';
import { clientIp } from '../../http/client-ip';
import { readFields } from '../../http/seatable';
import { displayName } from '../../http/validate';
import { describe, json } from '../../openapi/describe';
import * as seatable from '../../openapi/seatable-schemas';

const DEVICE_FIELDS = ['platform', 'device_id', 'device_name'] as const;

/** SeaTable's ping, server info, login and account info. */
export function seatableAuthRoutes(deps: Deps) {
  const { config } = deps;
  const serverInfo = {
    version: config.version,
    edition: 'tokenladder',
    features: ['api-tokens', 'temp-api-token', 'app-access-token', 'access-token', 'eddsa-base-tokens'],
  };
  const tags: ['SeaTable'] = ['SeaTable'];
  const info = describe({
    summary: 'Server info (SeaTable)',
    tags,
    auth: 'none',
    seatable: true,
    responses: { 200: json('Version and features', seatable.serverInfo) },
  });
  return new Hono<AppEnv>()
    .get(
      '/api2/ping/',
      describe({
        summary: 'Ping (SeaTable)',
        tags,
        auth: 'none',
        seatable: true,
        responses: { 200: json('"pong"', seatable.pong) },
      }),
      (c) => c.json('pong'),
    )
    .get(
      '/api2/auth/ping/',
      describe({
        summary: 'Authenticated ping (SeaTable)',
        tags,
        auth: 'account',
        seatable: true,
        responses: { 200: json('"pong"', seatable.pong) },
      }),
      requireAccount(deps),
      (c) => c.json('pong'),
    )
    .get('/server-info/', info, (c) => c.json(serverInfo))
    .get('/api2/server-info/', info, (c) => c.json(serverInfo))
    .post(
      '/api2/auth-token/',
      describe({
        summary: 'Sign in for an Account-Token (SeaTable)',
        tags,
        auth: 'none',
        seatable: true,
        body: true,
        requestBody: seatable.formBody(seatable.loginForm),
        responses: { 200: json('The Account-Token', seatable.authToken) },
      }),
      async (c) => {
        const fields = await readFields(c);
        const missing = (['username', 'password'] as const).filter((field) => !fields[field]);
        if (missing.length > 0)
          return c.json(
            Object.fromEntries(missing.map((field) => [field, ['This field is required.']])),
            400,
          );
        // The device fields come all together or not at all, as in SeaTable.
        const device = DEVICE_FIELDS.filter((field) => fields[field] !== undefined);
        if (device.length !== 0 && device.length !== DEVICE_FIELDS.length) throw badRequest('invalid params');
        const name = displayName.safeParse(fields.device_name ?? 'seatable-api');
        if (!name.success) throw badRequest('device_name invalid.');
        const { token } = await login(deps, {
          email: fields.username!,
          password: fields.password!,
          name: name.data,
          clientIp: clientIp(c, deps.config.clientIpHeader),
        });
        return c.json({ token });
      },
    )
    .get(
      '/api2/account/info/',
      describe({
        summary: 'Account info (SeaTable)',
        tags,
        auth: 'account',
        seatable: true,
        responses: { 200: json('Who you are, as SeaTable says it', seatable.accountInfo) },
      }),
      requireAccount(deps),
      (c) => {
        const { email, name, role, teamId } = c.var.principal;
        return c.json({
          email,
          name,
          login_id: '',
          contact_email: email,
          is_staff: role === 'system_admin',
          avatar_url: '',
          ...(teamId !== null && { org_id: teamId, is_org_staff: role === 'team_admin' }),
        });
      },
    );
}

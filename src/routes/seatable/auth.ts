import { Hono } from 'hono';
import { login } from '../../accounts/account-tokens';
import { isSystemAdmin } from '../../accounts/operator';
import type { Deps } from '../../deps';
import { badRequest } from '../../errors';
import { requireAccount, type AppEnv } from '../../http/auth';
import { clientIp } from '../../http/client-ip';
import { displayName } from '../../http/validate';
import { jsonResponse, routeDoc } from '../../openapi/route-doc';
import { readFields } from './protocol';
import * as seatable from './schemas';

const DEVICE_FIELDS = ['platform', 'device_id', 'device_name'] as const;

const tags: ['SeaTable'] = ['SeaTable'];

const pingDoc = routeDoc({
  summary: 'Ping (SeaTable)',
  tags,
  auth: 'none',
  seatable: true,
  responses: { 200: jsonResponse('"pong"', seatable.pong) },
});

const authPingDoc = routeDoc({
  summary: 'Authenticated ping (SeaTable)',
  tags,
  auth: 'account',
  seatable: true,
  responses: { 200: jsonResponse('"pong"', seatable.pong) },
});

const serverInfoDoc = routeDoc({
  summary: 'Server info (SeaTable)',
  tags,
  auth: 'none',
  seatable: true,
  responses: { 200: jsonResponse('Version and features', seatable.serverInfo) },
});

const loginDoc = routeDoc({
  summary: 'Sign in for an Account-Token (SeaTable)',
  tags,
  auth: 'none',
  seatable: true,
  body: true,
  requestBody: seatable.formBody(seatable.loginForm),
  responses: { 200: jsonResponse('The Account-Token', seatable.authToken) },
});

const accountInfoDoc = routeDoc({
  summary: 'Account info (SeaTable)',
  tags,
  auth: 'account',
  seatable: true,
  responses: { 200: jsonResponse('Who you are, as SeaTable says it', seatable.accountInfo) },
});

/** SeaTable's ping, server info, login and account info. Login is public, so the others name their authentication. */
export function seatableAuthRoutes(deps: Deps) {
  const { config } = deps;
  const auth = requireAccount(deps);
  const serverInfo = {
    version: config.version,
    edition: 'tokenladder',
    features: ['api-tokens', 'temp-api-token', 'app-access-token', 'access-token', 'eddsa-base-tokens'],
  };
  return new Hono<AppEnv>()
    .get('/api2/ping/', pingDoc, (c) => c.json('pong'))
    .get('/api2/auth/ping/', authPingDoc, auth, (c) => c.json('pong'))
    .get('/server-info/', serverInfoDoc, (c) => c.json(serverInfo))
    .get('/api2/server-info/', serverInfoDoc, (c) => c.json(serverInfo))
    .post('/api2/auth-token/', loginDoc, async (c) => {
      const fields = await readFields(c);
      const missing = (['username', 'password'] as const).filter((field) => !fields[field]);
      if (missing.length > 0)
        return c.json(Object.fromEntries(missing.map((field) => [field, ['This field is required.']])), 400);
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
    })
    .get('/api2/account/info/', accountInfoDoc, auth, (c) => {
      const { email, name, role, teamId } = c.var.principal;
      // SeaTable's staff flags; tokenladder's own rules decide nothing by them.
      return c.json({
        email,
        name,
        login_id: '',
        contact_email: email,
        is_staff: isSystemAdmin(c.var.principal),
        avatar_url: '',
        ...(teamId !== null && { org_id: teamId, is_org_staff: role === 'team_admin' }),
      });
    });
}

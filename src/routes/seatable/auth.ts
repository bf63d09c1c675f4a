import { Hono } from 'hono';
import { login } from '../../accounts/account-tokens';
import type { Deps } from '../../deps';
import { badRequest } from '../../errors';
import { requireAccount, type AppEnv } from '../../http/auth';
import { readFields } from '../../http/seatable';
import { displayName } from '../../http/validate';

const DEVICE_FIELDS = ['platform', 'device_id', 'device_name'] as const;

/** SeaTable's ping, server info, login and account info. */
export function seatableAuthRoutes(deps: Deps) {
  const { config } = deps;
  const serverInfo = {
    version: config.version,
    edition: 'tokenladder',
    features: ['api-tokens', 'temp-api-token', 'app-access-token', 'access-token', 'eddsa-base-tokens'],
  };
  return new Hono<AppEnv>()
    .get('/api2/ping/', (c) => c.json('pong'))
    .get('/api2/auth/ping/', requireAccount(deps), (c) => c.json('pong'))
    .get('/server-info/', (c) => c.json(serverInfo))
    .get('/api2/server-info/', (c) => c.json(serverInfo))
    .post('/api2/auth-token/', async (c) => {
      const fields = await readFields(c);
      const missing = (['username', 'password'] as const).filter((field) => !fields[field]);
      if (missing.length > 0) return c.json(Object.fromEntries(missing.map((field) => [field, ['This field is required.']])), 400);
      // The device fields come all together or not at all, as in SeaTable.
      const device = DEVICE_FIELDS.filter((field) => fields[field] !== undefined);
      if (device.length !== 0 && device.length !== DEVICE_FIELDS.length) throw badRequest('invalid params');
      const name = displayName.safeParse(fields.device_name ?? 'seatable-api');
      if (!name.success) throw badRequest('device_name invalid.');
      const { token } = await login(deps, { email: fields.username!, password: fields.password!, name: name.data });
      return c.json({ token });
    })
    .get('/api2/account/info/', requireAccount(deps), (c) => {
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
    });
}

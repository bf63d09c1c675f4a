import { resolver } from 'hono-openapi';
import { z } from 'zod';

/**
 * SeaTable's request and response shapes, for the document only: these routes parse their forms
 * themselves (readFields in ./protocol.ts) to keep SeaTable's error bodies, so nothing here
 * validates; the schemas describe what SeaTable clients send and get.
 */

const time = z
  .string()
  .meta({ description: 'ISO 8601 with seconds and a numeric offset, as SeaTable writes it' });

/** A form body, urlencoded, multipart or JSON: SeaTable's clients send all three. */
export function formBody(schema: z.ZodType) {
  const content = { schema: resolver(schema) };
  return {
    required: true,
    content: {
      'application/x-www-form-urlencoded': content,
      'multipart/form-data': content,
      'application/json': content,
    },
  };
}

export const loginForm = z
  .object({
    username: z.string().meta({ description: 'the email' }),
    password: z.string(),
    platform: z.string().optional(),
    device_id: z.string().optional(),
    device_name: z.string().optional(),
  })
  .meta({ id: 'SeatableLoginForm' });
export const createBaseForm = z
  .object({
    name: z.string(),
    owner: z.string().optional().meta({ description: 'your own email' }),
    workspace_id: z.string().optional(),
  })
  .meta({ id: 'SeatableCreateBaseForm' });
export const createApiTokenForm = z
  .object({ app_name: z.string(), permission: z.enum(['r', 'rw']) })
  .meta({ id: 'SeatableCreateApiTokenForm' });
export const permissionForm = z
  .object({ permission: z.enum(['r', 'rw']) })
  .meta({ id: 'SeatablePermissionForm' });

export const pong = z.literal('pong');
export const success = z.strictObject({ success: z.literal(true) });
export const serverInfo = z
  .strictObject({ version: z.string(), edition: z.string(), features: z.array(z.string()) })
  .meta({ id: 'SeatableServerInfo' });
export const authToken = z.strictObject({ token: z.string() }).meta({ id: 'SeatableAuthToken' });
export const accountInfo = z
  .strictObject({
    email: z.string(),
    name: z.string(),
    login_id: z.string(),
    contact_email: z.string(),
    is_staff: z.boolean(),
    avatar_url: z.string(),
    org_id: z.string().optional(),
    is_org_staff: z.boolean().optional(),
  })
  .meta({ id: 'SeatableAccountInfo' });

export const table = z
  .strictObject({
    id: z.string(),
    workspace_id: z.string(),
    uuid: z.string(),
    name: z.string(),
    creator: z.string(),
    modifier: z.string(),
    created_at: time,
    updated_at: time,
  })
  .meta({ id: 'SeatableTable' });
export const workspaces = z.strictObject({
  workspace_list: z.array(
    z.strictObject({
      id: z.string(),
      name: z.string(),
      owner_type: z.literal('Personal'),
      table_list: z.array(table),
    }),
  ),
});

export const apiToken = z
  .strictObject({
    app_name: z.string(),
    api_token: z
      .string()
      .nullable()
      .meta({ description: 'the secret in the create response only; null in lists' }),
    generated_by: z.string(),
    generated_at: time,
    last_access: time,
    permission: z.enum(['r', 'rw']),
  })
  .meta({ id: 'SeatableApiToken' });
export const apiTokens = z.strictObject({ api_tokens: z.array(apiToken) });
const adminApiToken = apiToken.extend({
  creator: z.string().optional(),
  avatar_url: z.string().optional(),
  dtable_uuid: z.string().optional(),
  dtable_name: z.string().optional(),
  dtable_icon: z.string().optional(),
  dtable_color: z.string().optional(),
});
export const adminApiTokens = z.strictObject({
  api_tokens: z.array(adminApiToken),
  total_count: z.number().int().optional(),
});
export const tempApiToken = z.strictObject({
  api_token: z.string().meta({ description: 'a one-hour JWT usable at app-access-token/' }),
});

const servers = {
  dtable_server: z.string(),
  dtable_socket: z.string(),
  dtable_db: z.string(),
  use_api_gateway: z.boolean(),
};
const accessFields = {
  access_token: z.string().meta({ description: 'the Base-Token (a signed JWT)' }),
  dtable_uuid: z.string(),
  ...servers,
  workspace_id: z.string(),
  dtable_name: z.string(),
};
export const appAccessToken = z
  .strictObject({ app_name: z.string(), ...accessFields })
  .meta({ id: 'SeatableAppAccessToken' });
export const accessToken = z.strictObject(accessFields).meta({ id: 'SeatableAccessToken' });

/** SeaTable 6's `exp` query on the Base-Token routes. */
export const expParameter = {
  in: 'query' as const,
  name: 'exp',
  required: false,
  description: 'lifetime, a number and a unit (30m, 5h, 3d); at most the configured Base-Token lifetime',
  schema: { type: 'string' as const, pattern: '^[1-9][0-9]{0,6}[smhd]$' },
};

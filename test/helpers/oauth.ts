// Shared by the OAuth endpoint tests: a configured resource server, the grant and token-type URNs,
// HTTP Basic as RFC 6749 §2.3.1 encodes it, and a form POST through app.request.
import { createHash } from 'node:crypto';
import type { TestApp } from './app';

/** A resource server allowed to introspect (its secret's hash is configured, as in production). */
export const GATEWAY = { id: 'gateway', secret: 'tl_rs_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG' };
export const gatewayConfig = {
  oauth: {
    resourceUrlTemplate: 'https://bases.example.com/bases/{base_uuid}',
    introspectionClients: [
      { id: GATEWAY.id, secretHash: createHash('sha256').update(GATEWAY.secret).digest('hex') },
    ],
  },
};
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const API_TOKEN_TYPE = 'urn:tokenladder:token-type:api_token';
export const ACCOUNT_TOKEN_TYPE = 'urn:tokenladder:token-type:account_token';
export const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** POSTs a form (a string is sent as is) to an OAuth endpoint; the body parsed when there is one. */
export async function postForm(
  t: TestApp,
  path: string,
  params: Record<string, string> | string,
  headers: Record<string, string> = {},
) {
  const response = await t.app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: typeof params === 'string' ? params : new URLSearchParams(params).toString(),
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: the answers are checked field by field
  const body: any = text ? JSON.parse(text) : null;
  return { status: response.status, body, headers: response.headers };
}

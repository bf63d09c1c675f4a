import type { Context } from 'hono';

/** Node's adapter puts the incoming message on `c.env`; elsewhere (Workers, tests) there is none. */
type NodeBindings = { incoming?: { socket?: { remoteAddress?: string } } };

/**
 * The caller's address, for throttling and the audit log. Behind a proxy only a header the operator
 * names is trusted (`TOKENLADDER_CLIENT_IP_HEADER`; Workers default to `cf-connecting-ip`): for a
 * list-valued header the last entry is the one our own proxy appended, the others are the client's say.
 */
export function clientIp(c: Context, trustedHeader: string | null): string | null {
  if (trustedHeader !== null) {
    const value = c.req.header(trustedHeader);
    const last = value?.split(',').pop()?.trim();
    return last ? last.slice(0, 64) : null;
  }
  const address = (c.env as NodeBindings | undefined)?.incoming?.socket?.remoteAddress;
  return address ? address.replace(/^::ffff:/, '') : null;
}

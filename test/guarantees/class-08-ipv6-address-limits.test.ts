import { describe, expect, it } from 'vitest';
import { appConfigFromEnv, parseEnv } from '../../src/config';
import { testApp } from '../helpers/app';

const LIMITS = { accountLimit: 100, addressLimit: 3, windowSeconds: 900 };

async function app(config: Record<string, unknown> = {}) {
  return testApp({ config: { loginThrottle: LIMITS, ...config } });
}

type App = Awaited<ReturnType<typeof app>>;

/** A failed sign-in (a new email each time, so only the address counter can trip) from `address`. */
const signIn = (t: App, address: string, i: number) =>
  t.call('POST', '/api/v1/account-tokens', {
    body: { email: `nobody${i}@example.com`, password: 'not the right password' },
    headers: { 'x-test-client-ip': address },
  });

const leakReport = (t: App, address: string) =>
  t.call('POST', '/api/v1/leaked-tokens', {
    body: { tokens: ['not-a-token'] },
    headers: { 'x-test-client-ip': address },
  });

describe('class 08: Per-address limits count each IPv6 address separately', () => {
  it('counts sign-ins from one /64 against one budget, however the addresses are written', async () => {
    const t = await app();
    const statuses = [];
    const addresses = [
      '2001:db8:1:2::1',
      '2001:DB8:1:2:0:0:0:2',
      '2001:db8:1:2:ffff:ffff:ffff:fffe',
      '2001:db8:1:2::4',
    ];
    for (const [i, address] of addresses.entries()) statuses.push((await signIn(t, address, i)).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    // Another /64 has its own budget; so has an IPv4 address.
    expect((await signIn(t, '2001:db8:1:3::1', 10)).status).toBe(401);
    expect((await signIn(t, '198.51.100.7', 11)).status).toBe(401);
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address', async () => {
    const t = await app();
    const statuses = [];
    for (const [i, address] of [
      '203.0.113.5',
      '::ffff:203.0.113.5',
      '::FFFF:cb00:7105',
      '203.0.113.5',
    ].entries())
      statuses.push((await signIn(t, address, i)).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    // 203.0.113.6 is another IPv4 address: not on the same key.
    expect((await signIn(t, '::ffff:203.0.113.6', 20)).status).toBe(401);
  });

  it('keys leak reports on the /64 too', async () => {
    const t = await app();
    for (let i = 0; i < 30; i++)
      expect((await leakReport(t, `2001:db8:aa:bb::${i.toString(16)}`)).status).toBe(202);
    const over = await leakReport(t, '2001:db8:aa:bb:1234:5678:9abc:def0');
    expect(over.status).toBe(429);
    expect((await leakReport(t, '2001:db8:aa:bc::1')).status).toBe(202);
  });

  it('takes the prefix length from TOKENLADDER_IPV6_PREFIX_LENGTH (default 64, validated)', async () => {
    expect(appConfigFromEnv(parseEnv({})).ipv6PrefixLength).toBe(64);
    expect(appConfigFromEnv(parseEnv({ TOKENLADDER_IPV6_PREFIX_LENGTH: '48' })).ipv6PrefixLength).toBe(48);
    for (const bad of ['0', '129', '64.5', 'sixty-four', '-1'])
      expect(() => parseEnv({ TOKENLADDER_IPV6_PREFIX_LENGTH: bad }), bad).toThrow(
        /TOKENLADDER_IPV6_PREFIX_LENGTH/,
      );

    // /48: two different /64s inside one /48 share a budget.
    const t = await app({ ipv6PrefixLength: 48 });
    const statuses = [];
    for (const [i, address] of [
      '2001:db8:5:1::1',
      '2001:db8:5:2::1',
      '2001:db8:5:ffff::1',
      '2001:db8:5:3::9',
    ].entries())
      statuses.push((await signIn(t, address, i)).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect((await signIn(t, '2001:db8:6::1', 9)).status).toBe(401);
  });
});

// Issue 17, "A leaked token is worth little": IP allowlists that survive statelessness. An API-Token
// may carry client networks (`allowed_networks`); the exchange refuses other addresses (403
// address_not_allowed, only its audit record written); the Base-Token carries the networks as `cidr`
// and the verifier refuses requests from outside them when told the client address.
import { decodeJwt } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { BaseTokenError, createBaseTokenVerifier } from '../../src/verify';
import { canonicalNetwork, networksContain, networksCover } from '../../src/verify/networks';
import { testApp, type TestApp } from '../helpers/app';
import { API_TOKEN_TYPE, basic, postForm, TOKEN_EXCHANGE } from '../helpers/oauth';

const IP = 'x-test-client-ip';
const NETWORKS = ['203.0.113.0/24', '2001:db8::/48', '198.51.100.7'];
const CANONICAL = ['203.0.113.0/24', '2001:db8::/48', '198.51.100.7/32'];

describe('CIDR matching (src/verify/networks.ts)', () => {
  it('canonicalises IPv4, IPv6 (compressed, upper case), bare addresses and IPv4-mapped IPv6', () => {
    expect(canonicalNetwork('2001:DB8:0:0::/48')).toEqual({ network: '2001:db8::/48' });
    expect(canonicalNetwork('2001:db8:0:0:0:0:0:1')).toEqual({ network: '2001:db8::1/128' });
    expect(canonicalNetwork('198.51.100.7')).toEqual({ network: '198.51.100.7/32' });
    expect(canonicalNetwork('::ffff:192.0.2.0/120')).toEqual({ network: '192.0.2.0/24' });
    expect(canonicalNetwork('::ffff:c000:201')).toEqual({ network: '192.0.2.1/32' });
    expect(canonicalNetwork('0.0.0.0/0')).toEqual({ network: '0.0.0.0/0' });
  });

  it('refuses host bits, bad prefixes and non-addresses', () => {
    expect(canonicalNetwork('10.0.0.1/8')).toEqual({
      error: 'host bits are set (10.0.0.0/8 is the network)',
    });
    for (const bad of [
      '1.2.3.4/33',
      '2001:db8::/129',
      '01.2.3.4',
      '1.2.3',
      'x',
      '1.2.3.4/',
      '::1::2',
      '1.2.3.4/08',
    ])
      expect(canonicalNetwork(bad)).toHaveProperty('error');
  });

  it('matches addresses, IPv4-mapped as IPv4, never across families', () => {
    expect(networksContain(CANONICAL, '203.0.113.200')).toBe(true);
    expect(networksContain(CANONICAL, '::ffff:203.0.113.9')).toBe(true);
    expect(networksContain(CANONICAL, '2001:db8:0:ffff::1')).toBe(true);
    expect(networksContain(CANONICAL, '[2001:DB8::5]')).toBe(true);
    expect(networksContain(CANONICAL, '198.51.100.7')).toBe(true);
    expect(networksContain(CANONICAL, '198.51.100.8')).toBe(false);
    expect(networksContain(CANONICAL, '203.0.114.1')).toBe(false);
    expect(networksContain(CANONICAL, '2001:db8:1::1')).toBe(false);
    expect(networksContain(['::/0'], '192.0.2.1')).toBe(false);
    expect(networksContain(CANONICAL, 'not an address')).toBe(false);
    expect(networksCover(['10.0.0.0/8'], ['10.1.0.0/16'])).toBe(true);
    expect(networksCover(['10.1.0.0/16'], ['10.0.0.0/8'])).toBe(false);
  });
});

describe('API-Token allowed_networks', () => {
  let t: TestApp;
  let admin: string;
  let crm: string;

  beforeEach(async () => {
    t = await testApp();
    admin = await t.login();
    crm = await t.createBase(admin, 'CRM');
  });

  const create = (body: Record<string, unknown>) =>
    t.call('POST', `/api/v1/bases/${crm}/api-tokens`, {
      token: admin,
      body: { name: 'sync', permission: 'rw', ...body },
    });
  const exchange = (token: string, address?: string) =>
    t.call('POST', '/api/v1/base-tokens', { token, body: {}, headers: address ? { [IP]: address } : {} });
  const auditSince = async (seq: number) =>
    (
      await t.deps.db.selectFrom('audit_events').selectAll().where('seq', '>', seq).orderBy('seq').execute()
    ).map((row) => ({ action: row.action, outcome: row.outcome, details: JSON.parse(row.details ?? '{}') }));
  const lastSeq = async () =>
    (await t.deps.db.selectFrom('audit_events').select('seq').orderBy('seq', 'desc').executeTakeFirst())
      ?.seq ?? 0;
  const verifier = async () =>
    createBaseTokenVerifier({
      issuer: 'http://tokenladder.test',
      jwks: await t.deps.keys.jwks(),
      currentDate: () => new Date(t.clock.now()),
    });

  it('is taken on every create route, canonicalised, and shown in lists and single answers', async () => {
    const created = await create({
      allowed_networks: [...NETWORKS, '203.0.113.0/24', '::ffff:192.0.2.0/120'],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.allowed_networks).toEqual([...CANONICAL, '192.0.2.0/24']);
    const one = await t.call('GET', `/api/v1/api-tokens/${created.body.id}`, { token: admin });
    expect(one.body.allowed_networks).toEqual([...CANONICAL, '192.0.2.0/24']);
    const list = await t.call('GET', `/api/v1/bases/${crm}/api-tokens`, { token: admin });
    expect(list.body.api_tokens[0].allowed_networks).toEqual([...CANONICAL, '192.0.2.0/24']);

    const multi = await t.call('POST', '/api/v1/api-tokens', {
      token: admin,
      body: { name: 'all', permission: 'r', resources: { type: 'all' }, allowed_networks: ['2001:DB8::1'] },
    });
    expect(multi.status, JSON.stringify(multi.body)).toBe(201);
    expect(multi.body.allowed_networks).toEqual(['2001:db8::1/128']);

    const service = await t.call('POST', '/api/v1/service-accounts', { token: admin, body: { name: 'etl' } });
    expect(service.status, JSON.stringify(service.body)).toBe(201);
    const minted = await t.call('POST', `/api/v1/service-accounts/${service.body.id}/api-tokens`, {
      token: admin,
      body: { name: 'etl', permission: 'r', resources: { type: 'all' }, allowed_networks: ['10.0.0.0/8'] },
    });
    expect(minted.status, JSON.stringify(minted.body)).toBe(201);
    expect(minted.body.allowed_networks).toEqual(['10.0.0.0/8']);

    const plain = await create({ name: 'plain' });
    expect(plain.body.allowed_networks).toBeNull();
    expect((await create({ name: 'empty', allowed_networks: [] })).body.allowed_networks).toBeNull();
  });

  it.each([
    [['10.0.0.1/8'], 'allowed_networks[0]: "10.0.0.1/8": host bits are set (10.0.0.0/8 is the network)'],
    [['203.0.113.0/24', 'example.com'], 'allowed_networks[1]: "example.com": not an IPv4 or IPv6 address'],
    [['2001:db8::/129'], 'allowed_networks[0]: "2001:db8::/129": the prefix length must be 0-128'],
    [Array.from({ length: 21 }, (_, i) => `10.0.${i}.0/24`), undefined],
    ['10.0.0.0/8', undefined],
    [[42], undefined],
  ])('refuses a bad list %j with 400 and changes nothing', async (list, message) => {
    const before = await t.digest();
    const refused = await create({ allowed_networks: list });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('invalid_request');
    if (message) expect(refused.body.error.message).toBe(message);
    expect(await t.digest()).toBe(before);
  });

  it('exchanges from inside (IPv4, IPv4-mapped, IPv6): the Base-Token carries cidr, the verifier checks it', async () => {
    const token = (await create({ allowed_networks: NETWORKS })).body.token as string;
    const v = await verifier();
    for (const address of ['203.0.113.9', '::ffff:203.0.113.10', '2001:db8:0:1::7', '198.51.100.7']) {
      const issued = await exchange(token, address);
      expect(issued.status, `${address}: ${JSON.stringify(issued.body)}`).toBe(201);
      expect(decodeJwt(issued.body.base_token).cidr).toEqual(CANONICAL);
      const claims = await v.verify(issued.body.base_token, { baseUuid: crm, clientAddress: address });
      expect(claims.cidr).toEqual(CANONICAL);
    }
    // A token without a list: no claim, and the verifier needs no address.
    const plain = (await create({ name: 'plain' })).body.token as string;
    const issued = await exchange(plain, '192.0.2.1');
    expect(decodeJwt(issued.body.base_token)).not.toHaveProperty('cidr');
    expect((await v.verify(issued.body.base_token, { baseUuid: crm })).cidr).toBeUndefined();
  });

  it.each([
    ['IPv4 outside', '203.0.114.1'],
    ['IPv6 outside', '2001:db8:1::1'],
    ['IPv4-mapped outside', '::ffff:198.51.100.8'],
    ['no address', undefined],
    ['not an address', 'unknown'],
  ])(
    'refuses the exchange from %s: 403 address_not_allowed, only access.denied written',
    async (_case, address) => {
      const token = (await create({ allowed_networks: NETWORKS })).body.token as string;
      const before = await t.digest();
      const seq = await lastSeq();
      const refused = await exchange(token, address);
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('address_not_allowed');
      // Nothing but the audit record (not even last_used_at, which the digest includes).
      expect(await t.digest()).toBe(before);
      const records = await auditSince(seq);
      expect(records).toEqual([
        {
          action: 'access.denied',
          outcome: 'failure',
          details: { method: 'POST', path: '/api/v1/base-tokens', code: 'address_not_allowed' },
        },
      ]);
    },
  );

  it('refuses at /oauth/token in the OAuth shape (unauthorized_client), writing only the audit record', async () => {
    const created = (await create({ allowed_networks: ['203.0.113.0/24'] })).body;
    const before = await t.digest();
    const refused = await postForm(
      t,
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { authorization: basic(created.id, created.token), [IP]: '192.0.2.1' },
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('unauthorized_client');
    expect(await t.digest()).toBe(before);
    const ok = await postForm(
      t,
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { authorization: basic(created.id, created.token), [IP]: '203.0.113.5' },
    );
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(decodeJwt(ok.body.access_token).cidr).toEqual(['203.0.113.0/24']);
  });

  it('refuses a token exchange (RFC 8693) from outside as invalid_grant, and the SeaTable app-access-token as 403', async () => {
    const created = (await create({ allowed_networks: ['2001:db8::/48'] })).body;
    const before = await t.digest();
    const refused = await postForm(
      t,
      '/oauth/token',
      { grant_type: TOKEN_EXCHANGE, subject_token: created.token, subject_token_type: API_TOKEN_TYPE },
      { [IP]: '2001:db9::1' },
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    const seatable = await t.app.request('/api/v2.1/dtable/app-access-token/', {
      headers: { authorization: `Token ${created.token}`, [IP]: '192.0.2.1' },
    });
    expect(seatable.status).toBe(403);
    expect(await seatable.json()).toEqual({ error_msg: 'Permission denied.' });
    expect(await t.digest()).toBe(before);
    const inside = await t.app.request('/api/v2.1/dtable/app-access-token/', {
      headers: { authorization: `Token ${created.token}`, [IP]: '2001:db8::1' },
    });
    expect(inside.status).toBe(200);
  });

  it('the token policy gives Base-Tokens from allowlisted tokens a shorter lifetime', async () => {
    const set = await t.call('PUT', '/api/v1/token-policy', {
      token: admin,
      body: { network_bound_base_token_ttl_seconds: 600 },
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.network_bound_base_token_ttl_seconds).toBe(600);
    const bound = (await create({ allowed_networks: ['203.0.113.0/24'] })).body.token as string;
    const plain = (await create({ name: 'plain' })).body.token as string;
    const now = Math.floor(t.clock.now() / 1000);
    const expOf = async (token: string, body: Record<string, unknown> = {}) => {
      const issued = await t.call('POST', '/api/v1/base-tokens', {
        token,
        body,
        headers: { [IP]: '203.0.113.1' },
      });
      expect(issued.status, JSON.stringify(issued.body)).toBe(201);
      return decodeJwt(issued.body.base_token).exp! - now;
    };
    expect(await expOf(bound)).toBe(600);
    expect(await expOf(bound, { ttl: 120 })).toBe(120);
    expect(await expOf(bound, { ttl: 3600 })).toBe(600);
    expect(await expOf(plain)).toBe(3 * 86400);
    const refused = await t.call('PUT', '/api/v1/token-policy', {
      token: admin,
      body: { network_bound_base_token_ttl_seconds: 10 },
    });
    expect(refused.status).toBe(400);
  });

  it('the verifier refuses outside, without an address, and its cache does not carry a pass to another address', async () => {
    const token = (await create({ allowed_networks: NETWORKS })).body.token as string;
    const jwt = (await exchange(token, '203.0.113.9')).body.base_token as string;
    const v = await verifier(); // with its verified-token cache
    const codeOf = (clientAddress?: string) =>
      v.verify(jwt, { baseUuid: crm, clientAddress }).then(
        () => 'accepted',
        (error: unknown) =>
          error instanceof BaseTokenError ? `${error.code} ${error.status}` : String(error),
      );
    expect(await codeOf('203.0.113.9')).toBe('accepted'); // now cached
    expect(await codeOf('203.0.114.9')).toBe('token_address_not_allowed 401');
    expect(await codeOf('2001:db8:1::1')).toBe('token_address_not_allowed 401');
    expect(await codeOf(undefined)).toBe('token_address_not_allowed 401');
    expect(await codeOf('2001:db8::9')).toBe('accepted');
    expect(await codeOf('::ffff:203.0.113.77')).toBe('accepted');
  });

  it('PATCH sets, narrows and removes the list; narrowing ends earlier Base-Tokens (client feed entry), widening does not', async () => {
    const created = (await create({})).body;
    const feedEntry = async () => {
      const feed = (await t.call('GET', '/api/v1/revocations?since=0')).body;
      return (feed.revocations as { kind: string; value: string; revoked_at: number }[]).find(
        (entry) => entry.kind === 'client' && entry.value === created.id,
      );
    };
    const patch = (allowed_networks: unknown) =>
      t.call('PATCH', `/api/v1/api-tokens/${created.id}`, { token: admin, body: { allowed_networks } });

    // Adding a list to a token that had none takes addresses away: earlier Base-Tokens end.
    t.clock.advance(60);
    const set = await patch(['203.0.113.0/24', '2001:db8::/48']);
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.allowed_networks).toEqual(['203.0.113.0/24', '2001:db8::/48']);
    const first = await feedEntry();
    expect(first?.revoked_at).toBe(Math.floor(t.clock.now() / 1000));

    // Widening (a wider network covering the old ones) publishes nothing.
    t.clock.advance(60);
    expect((await patch(['203.0.0.0/16', '2001:db8::/32'])).status).toBe(200);
    expect((await feedEntry())?.revoked_at).toBe(first!.revoked_at);

    // Narrowing again publishes again; the exchange now refuses the old network.
    t.clock.advance(60);
    expect((await patch(['203.0.113.0/24'])).status).toBe(200);
    expect((await feedEntry())?.revoked_at).toBe(Math.floor(t.clock.now() / 1000));
    expect((await exchange(created.token, '2001:db8::1')).status).toBe(403);

    // A bad entry changes nothing.
    const before = await t.digest();
    expect((await patch(['203.0.113.1/24'])).status).toBe(400);
    expect(await t.digest()).toBe(before);

    // null (or []) removes it: any address again.
    for (const removal of [null, []]) {
      const removed = await patch(removal);
      expect(removed.status).toBe(200);
      expect(removed.body.allowed_networks).toBeNull();
    }
    expect((await exchange(created.token, '2001:db8::1')).status).toBe(201);
    const actions = (await auditSince(0)).filter((r) => r.action === 'api_token.network_change');
    expect(actions.map((r) => r.details)).toEqual([
      { from: null, to: ['203.0.113.0/24', '2001:db8::/48'] },
      { from: ['203.0.113.0/24', '2001:db8::/48'], to: ['203.0.0.0/16', '2001:db8::/32'] },
      { from: ['203.0.0.0/16', '2001:db8::/32'], to: ['203.0.113.0/24'] },
      { from: ['203.0.113.0/24'], to: null },
    ]);
  });

  it('a Base-Token exchanged before a narrowing is refused by a verifier that read the feed', async () => {
    const created = (await create({ allowed_networks: ['203.0.113.0/24', '2001:db8::/48'] })).body;
    const jwt = (await exchange(created.token, '2001:db8::1')).body.base_token as string;
    const { feedVerifier } = await import('../helpers/feed-verifier');
    const feed = feedVerifier(t);
    // check() passes no client address: use a verifier that does, with the same feed.
    const v = createBaseTokenVerifier({
      issuer: 'http://tokenladder.test',
      jwks: await t.deps.keys.jwks(),
      currentDate: () => new Date(t.clock.now()),
      revocations: feed.revocations,
      cache: false,
    });
    await feed.revocations.sync();
    await expect(v.verify(jwt, { baseUuid: crm, clientAddress: '2001:db8::1' })).resolves.toBeDefined();
    t.clock.advance(60);
    expect(
      (
        await t.call('PATCH', `/api/v1/api-tokens/${created.id}`, {
          token: admin,
          body: { allowed_networks: ['203.0.113.0/24'] },
        })
      ).status,
    ).toBe(200);
    await feed.revocations.sync();
    await expect(v.verify(jwt, { baseUuid: crm, clientAddress: '2001:db8::1' })).rejects.toMatchObject({
      code: 'token_revoked',
    });
  });
});

describe('Base-Token cidr claim parsing', () => {
  it.each([
    [[], 'empty'],
    [['203.0.113.1/24'], 'host bits'],
    [['2001:DB8::/48'], 'not canonical'],
    [['198.51.100.7'], 'no prefix'],
    ['203.0.113.0/24', 'not an array'],
    [[1], 'not strings'],
    [Array.from({ length: 21 }, (_, i) => `10.0.${i}.0/24`), 'too many'],
  ])('refuses %j (%s) as token_claims_invalid', async (cidr, _why) => {
    const { parseBaseTokenClaims } = await import('../../src/verify/claims');
    const base = '0f8fad5b-d9cb-469f-a165-70867728950e';
    const payload = {
      iss: 'i',
      aud: `urn:tokenladder:base:${base}`,
      sub: 's',
      iat: 1,
      exp: 2,
      jti: 'j',
      client_id: 'c',
      token_type: 'api_token',
      token_name: 'n',
      base_uuid: base,
      permission: 'r',
      cidr,
    };
    expect(() => parseBaseTokenClaims(payload, [payload.aud])).toThrow(
      expect.objectContaining({ code: 'token_claims_invalid' }),
    );
    expect(parseBaseTokenClaims({ ...payload, cidr: ['10.0.0.0/8'] }, [payload.aud]).cidr).toEqual([
      '10.0.0.0/8',
    ]);
  });
});

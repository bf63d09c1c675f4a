import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { appConfigFromEnv, parseEnv } from '../../src/config';
import { rawEcdsaSignature } from '../../src/incidents/secret-scanning';
import { GITHUB_SCANNING_PATH } from '../../src/routes/secret-scanning';
import { mintOpaqueToken } from '../../src/tokens/opaque';
import { testApp, type TestApp } from '../helpers/app';
import { feedVerifier } from '../helpers/feed-verifier';

// Issue 17: GitHub's secret-scanning partner flow. GitHub cannot be reached from here, so the tests
// make their own P-256 key pair and sign bodies as GitHub does (DER ECDSA over the exact body bytes).

const SNIPPET = new URL('../../docs/examples/secret-scanning/validate-token.mjs', import.meta.url);
const KEY_ID = 'bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c';

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** GitHub's public_keys document, as the operator pastes it into the variable. */
const keysDocument = (keys: { id: string; pem: string; current?: boolean }[]) =>
  JSON.stringify({
    public_keys: keys.map(({ id, pem, current = true }) => ({
      key_identifier: id,
      key: pem,
      is_current: current,
    })),
  });

/** The config a server started with TOKENLADDER_GITHUB_SCANNING_KEYS=document gets (through the real parser). */
const scanningConfig = (document: string) => ({
  githubScanningKeys: appConfigFromEnv(parseEnv({ TOKENLADDER_GITHUB_SCANNING_KEYS: document }))
    .githubScanningKeys,
});

const github = keyPair();

async function setup() {
  const t = await testApp({ config: scanningConfig(keysDocument([{ id: KEY_ID, pem: github.pem }])) });
  const admin = await t.login();
  const alice = await t.userWithToken(admin, 'alice@example.com');
  const base = await t.createBase(alice.token, 'Projects');
  return { t, admin, alice, base };
}

const signed = (body: string, privateKey: KeyObject = github.privateKey, keyId = KEY_ID) => ({
  'github-public-key-identifier': keyId,
  'github-public-key-signature': sign('sha256', Buffer.from(body), privateKey).toString('base64'),
});

/** Posts `body` (a string: the exact bytes signed) as GitHub does. */
async function report(t: TestApp, body: string, headers: Record<string, string> = signed(body)) {
  return t.call('POST', GITHUB_SCANNING_PATH, {
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

const match = (token: string, url = 'https://github.com/octo/leaky/blob/abc/.env', source = 'content') => ({
  token,
  type: 'tokenladder_token',
  url,
  source,
});

const exchange = async (t: TestApp, token: string) =>
  (await t.call('POST', '/api/v1/base-tokens', { token })).body.base_token as string;

describe('GitHub secret-scanning reports', () => {
  it('revoke every reported token of ours, with the place it leaked in its owner’s audit log', async () => {
    const { t, admin, alice, base } = await setup();
    const api = await t.createApiToken(alice.token, base, 'leaky', 'rw');
    const other = await t.createApiToken(alice.token, base, 'other', 'r');
    const session = await t.login('alice@example.com', 'a perfectly fine passphrase');
    const jwt = await exchange(t, other.token);
    const apiJwt = await exchange(t, api.token);
    const verifier = feedVerifier(t);
    expect(await verifier.checkSynced(jwt)).toBe('accepted');
    expect(await verifier.checkSynced(apiJwt)).toBe('accepted');
    const unknown = (await mintOpaqueToken('api')).token;
    const matches = [
      match(api.token),
      match(session, 'https://github.com/octo/leaky/issues/1', 'issue_comment'),
      match(jwt),
      match(unknown),
      match('tl_api_not-a-token'),
    ];
    const body = JSON.stringify(matches);
    const answer = await report(t, body);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(
      matches.map(({ token, type }, i) => ({
        token_raw: token,
        token_type: type,
        label: i < 3 ? 'true_positive' : 'false_positive',
      })),
    );

    // Refused afterwards: the exchange, /me, and a verifier once it has polled (the revocation bound).
    expect((await t.call('POST', '/api/v1/base-tokens', { token: api.token })).body.error.code).toBe(
      'token_revoked',
    );
    expect((await t.call('GET', '/api/v1/me', { token: session })).status).toBe(401);
    expect(await verifier.check(jwt)).toBe('accepted'); // not polled yet
    expect(await verifier.checkSynced(jwt)).toBe('token_revoked');
    expect(await verifier.checkSynced(apiJwt)).toBe('token_revoked'); // the API-Token's Base-Tokens too
    expect((await t.call('POST', '/api/v1/base-tokens', { token: other.token })).status).toBe(201);
    expect((await t.call('GET', '/api/v1/me', { token: alice.token })).status).toBe(200);

    const audit = await t.call('GET', '/api/v1/audit?action=token.leak_report', { token: alice.token });
    const byTarget = Object.fromEntries(
      audit.body.events.map((event: { target_id: string; details: unknown }) => [
        event.target_id,
        event.details,
      ]),
    );
    expect(audit.body.events).toHaveLength(3);
    const jti = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()).jti;
    expect(byTarget[api.id]).toMatchObject({
      token_type: 'api_token',
      via: 'github_secret_scanning',
      url: 'https://github.com/octo/leaky/blob/abc/.env',
      source: 'content',
    });
    expect(Object.values(byTarget)).toContainEqual(
      expect.objectContaining({
        token_type: 'account_token',
        url: 'https://github.com/octo/leaky/issues/1',
        source: 'issue_comment',
      }),
    );
    expect(byTarget[jti]).toMatchObject({ token_type: 'base_token', source: 'content' });

    // Reported again: still true positives (they are ours, revoked before), and nothing changes.
    const before = await t.digest({ ignoreTables: [] });
    const again = await report(t, body);
    expect(again.body.map((verdict: { label: string }) => verdict.label)).toEqual([
      'true_positive',
      'true_positive',
      'true_positive',
      'false_positive',
      'false_positive',
    ]);
    expect(await t.digest({ ignoreTables: [] })).toBe(before);
    expect((await t.call('GET', '/api/v1/me', { token: admin })).status).toBe(200);
  });

  it('revoke service-account tokens and keep a url of up to 2048 characters whole in the record', async () => {
    const { t, admin, base, alice } = await setup();
    const service = (
      await t.call('POST', '/api/v1/service-accounts', { token: admin, body: { name: 'sync' } })
    ).body.id as string;
    await t.call('PUT', `/api/v1/bases/${base}/members/${service}`, {
      token: alice.token,
      body: { permission: 'rw' },
    });
    const minted = await t.call('POST', `/api/v1/service-accounts/${service}/api-tokens`, {
      token: admin,
      body: { name: 'sync', permission: 'rw', resources: { type: 'base', base_uuid: base } },
    });
    expect(minted.status).toBe(201);
    const url = `https://github.com/${'a'.repeat(2048 - 19)}`;
    const answer = await report(t, JSON.stringify([{ ...match(minted.body.token, url), extra: 'ignored' }]));
    expect(answer.body[0].label).toBe('true_positive');
    expect((await t.call('POST', '/api/v1/base-tokens', { token: minted.body.token })).status).toBe(401);
    const events = (await t.call('GET', '/api/v1/audit?action=token.leak_report', { token: admin })).body
      .events;
    expect(events[0].details.url).toBe(url);
  });

  it('are not limited per address (a verified scanner is not the anonymous leak report)', async () => {
    const { t } = await setup();
    const body = JSON.stringify([match('hello')]);
    for (let i = 0; i < 35; i++) {
      const answer = await report(t, body);
      expect(answer.status, `report ${i + 1}`).toBe(200);
    }
    // The anonymous endpoint from the same address still has its whole budget: nothing was counted.
    expect((await t.call('POST', '/api/v1/leaked-tokens', { body: { tokens: ['x'] } })).status).toBe(202);
  });

  it('refuse an unsigned or badly signed post with 401, writing nothing at all', async () => {
    const { t, alice, base } = await setup();
    const api = await t.createApiToken(alice.token, base, 'target', 'r');
    const body = JSON.stringify([match(api.token)]);
    const stranger = keyPair();
    const other = signed(body);
    const flipped = Buffer.from(other['github-public-key-signature'], 'base64');
    flipped[flipped.length - 1]! ^= 1;
    const before = await t.digest({ ignoreTables: [] });
    for (const [name, headers] of [
      ['unsigned', {}],
      ['no key id', { 'github-public-key-signature': other['github-public-key-signature'] }],
      ['no signature', { 'github-public-key-identifier': KEY_ID }],
      ['unknown key id', signed(body, github.privateKey, 'another-key')],
      ['signed by another key', signed(body, stranger.privateKey)],
      ['signature over another body', signed(JSON.stringify([match(api.token, 'https://x')]))],
      ['a flipped bit', { ...other, 'github-public-key-signature': flipped.toString('base64') }],
      ['not base64', { ...other, 'github-public-key-signature': '%%%' }],
      ['empty signature', { ...other, 'github-public-key-signature': '' }],
      [
        'raw r||s instead of DER',
        { ...other, 'github-public-key-signature': Buffer.alloc(64, 1).toString('base64') },
      ],
    ] as const) {
      const answer = await report(t, body, headers);
      expect(answer.status, name).toBe(401);
      expect(answer.body.error.code, name).toMatch(/^(missing|invalid)_credentials$/);
    }
    // Not JSON, unsigned: still 401 (the signature is checked before anything reads the body).
    expect((await report(t, 'not json', {})).status).toBe(401);
    expect(await t.digest({ ignoreTables: [] })).toBe(before);
    expect((await t.call('POST', '/api/v1/base-tokens', { token: api.token })).status).toBe(201);
  });

  it('refuse a signed but malformed report with 400, changing nothing', async () => {
    const { t, alice, base } = await setup();
    const api = await t.createApiToken(alice.token, base, 'target', 'r');
    const before = await t.digest();
    for (const body of [
      'not json',
      '{"token":"x"}',
      '[]',
      JSON.stringify([{ token: api.token }]),
      JSON.stringify([{ ...match(api.token), token: 7 }]),
      JSON.stringify([match(api.token), { ...match('x'), source: 's'.repeat(129) }]),
      JSON.stringify([match(api.token), match('x'.repeat(4097))]),
      JSON.stringify([match(api.token), ...Array.from({ length: 100 }, () => match('x'))]),
    ]) {
      const answer = await report(t, body);
      expect(answer.status, body.slice(0, 60)).toBe(400);
    }
    expect(await t.digest()).toBe(before);
    expect((await t.call('POST', '/api/v1/base-tokens', { token: api.token })).status).toBe(201);
  });

  it('accept any key of the document, current or not', async () => {
    const previous = keyPair();
    const t = await testApp({
      config: scanningConfig(
        keysDocument([
          { id: 'old', pem: previous.pem, current: false },
          { id: KEY_ID, pem: github.pem },
        ]),
      ),
    });
    const body = JSON.stringify([match('hello')]);
    expect((await report(t, body, signed(body, previous.privateKey, 'old'))).status).toBe(200);
    expect((await report(t, body, signed(body, previous.privateKey, KEY_ID))).status).toBe(401);
  });

  it('are not offered (404) when no keys are configured', async () => {
    const t = await testApp();
    const before = await t.digest({ ignoreTables: [] });
    const body = JSON.stringify([match('hello')]);
    expect((await report(t, body)).status).toBe(404);
    expect(await t.digest({ ignoreTables: [] })).toBe(before);
  });
});

describe('TOKENLADDER_GITHUB_SCANNING_KEYS', () => {
  it('refuses a bad document at start, naming the variable', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    for (const document of [
      'not json',
      '{}',
      '{"public_keys":[]}',
      keysDocument([{ id: 'a', pem: rsa }]),
      keysDocument([{ id: 'a', pem: p384 }]),
      keysDocument([{ id: 'a', pem: 'hello' }]),
      keysDocument([{ id: '', pem: github.pem }]),
      keysDocument([
        { id: 'a', pem: github.pem },
        { id: 'a', pem: github.pem },
      ]),
    ])
      expect(() => parseEnv({ TOKENLADDER_GITHUB_SCANNING_KEYS: document }), document.slice(0, 40)).toThrow(
        /TOKENLADDER_GITHUB_SCANNING_KEYS/,
      );
    expect(parseEnv({}).TOKENLADDER_GITHUB_SCANNING_KEYS).toBeUndefined();
  });

  it('DER signatures become r||s only when they are exactly a SEQUENCE of two small INTEGERs', () => {
    const der = sign('sha256', Buffer.from('x'), github.privateKey);
    expect(rawEcdsaSignature(der)).toHaveLength(64);
    expect(rawEcdsaSignature(Buffer.concat([der, Buffer.from([0])]))).toBeNull();
    expect(rawEcdsaSignature(der.subarray(0, der.length - 1))).toBeNull();
    expect(rawEcdsaSignature(new Uint8Array(64))).toBeNull();
  });
});

describe('docs/secret-scanning.md: the published patterns and the checksum snippet', () => {
  const page = readFileSync(new URL('../../docs/secret-scanning.md', import.meta.url), 'utf8');
  // The rows of the pattern table: their pattern starts with \b. The page itself is what is tested.
  const pattern = (name: string) => {
    const row = new RegExp(`\\| ${name} \\| \`(\\\\b[^\`]+)\``).exec(page);
    expect(row, name).not.toBeNull();
    return new RegExp(row![1]!);
  };
  const snippet = () =>
    import(SNIPPET.href) as Promise<{
      tokenKind(token: string): string | null;
    }>;

  /** Freshly minted tokens of every kind we issue (honeytokens do not exist yet). */
  async function mintedTokens() {
    const { t, admin, alice, base } = await setup();
    const api = await t.createApiToken(alice.token, base, 'scan-me', 'r');
    const service = (
      await t.call('POST', '/api/v1/service-accounts', { token: admin, body: { name: 'sync' } })
    ).body.id as string;
    await t.call('PUT', `/api/v1/bases/${base}/members/${service}`, {
      token: alice.token,
      body: { permission: 'r' },
    });
    const serviceToken = (
      await t.call('POST', `/api/v1/service-accounts/${service}/api-tokens`, {
        token: admin,
        body: { name: 'sync', permission: 'r', resources: { type: 'base', base_uuid: base } },
      })
    ).body.token as string;
    const tokens: [kind: string, row: string, token: string][] = [
      ['Account-Token', 'Account-Token', alice.token],
      ['API-Token', 'API-Token', api.token],
      ['API-Token', 'API-Token', serviceToken],
      ['Base-Token', 'Base-Token \\(JWT\\)', await exchange(t, api.token)],
    ];
    // Base-Tokens of the other signing algorithms (ES256 like EdDSA: 86 signature characters; RS256: 342).
    for (const signingAlg of ['ES256', 'RS256'] as const) {
      const other = await testApp({ config: { signingAlg } });
      const otherBase = await other.createBase(await other.login(), 'B');
      const otherApi = await other.createApiToken(await other.login(), otherBase, 'x', 'r');
      tokens.push([`Base-Token`, 'Base-Token \\(JWT\\)', await exchange(other, otherApi.token)]);
    }
    return tokens;
  }

  it('find every kind of token we mint, inside surrounding text, and the snippet names its kind', async () => {
    const { tokenKind } = await snippet();
    const tokens = await mintedTokens();
    expect(tokens.map(([, , token]) => token.slice(0, 7))).toEqual([
      'tl_acc_',
      'tl_api_',
      'tl_api_',
      'eyJhbGc',
      'eyJhbGc',
      'eyJhbGc',
    ]);
    for (const [kind, row, token] of tokens) {
      expect(pattern(row).exec(`export TOKEN="${token}" # oops`)?.[0], row).toBe(token);
      expect(tokenKind(token), token.slice(0, 12)).toBe(kind);
    }
    // The same patterns as docs/security.md's table (one list of patterns, shown on both pages).
    const security = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
    for (const [, row] of tokens)
      expect(security).toContain(
        `| ${row.replace('\\(', '(').replace('\\)', ')')} | \`${pattern(row).source}\``,
      );
  });

  it('refuse corrupted tokens: the snippet catches every changed, dropped or added character', async () => {
    const { tokenKind } = await snippet();
    const tokens = await mintedTokens();
    for (const [, , token] of tokens.filter(([kind]) => kind !== 'Base-Token')) {
      for (let i = 7; i < token.length; i++) {
        const changed = token[i] === 'a' ? 'b' : 'a';
        expect(tokenKind(token.slice(0, i) + changed + token.slice(i + 1)), `position ${i}`).toBeNull();
      }
      expect(tokenKind(token.slice(0, -1))).toBeNull();
      expect(tokenKind(`${token}a`)).toBeNull();
      expect(tokenKind(token.toUpperCase())).toBeNull();
      expect(tokenKind(token.replace('tl_', 'tk_'))).toBeNull();
      // The pattern still matches a corrupted one: the checksum is what tells them apart.
      expect(pattern('API-Token').test(token) || pattern('Account-Token').test(token)).toBe(true);
    }
    const jwt = tokens.find(([kind]) => kind === 'Base-Token')![2];
    expect(tokenKind(jwt.replace(/^eyJ[A-Za-z0-9_-]{4}/, 'eyJhbGcX'))).toBeNull();
    for (const garbage of ['', 'hello', 'tl_api_', `tl_api_${'a'.repeat(63)}`, 'eyJ.eyJ.x'])
      expect(tokenKind(garbage), garbage).toBeNull();
    expect(pattern('API-Token').test((await setup()).alice.token)).toBe(false);
  });

  it('runs as a command: prints the kind, exit code 1 for anything that is not a token', async () => {
    const tokens = await mintedTokens();
    const run = (args: string[]) =>
      spawnSync(process.execPath, [fileURLToPath(SNIPPET), ...args], { encoding: 'utf8' });
    const good = run(tokens.map(([, , token]) => token));
    expect(good.status).toBe(0);
    expect(good.stdout.trim().split('\n')).toEqual(tokens.map(([kind]) => kind));
    const bad = run([tokens[0]![2].slice(0, -1)]);
    expect({ status: bad.status, out: bad.stdout.trim() }).toEqual({ status: 1, out: 'not a token' });
  });
});

// Scenario "oauth" (issue 16): the OAuth token endpoint beside the native exchange, and introspection,
// all on one tokenladder server with the same API-Tokens, interleaved in the same rounds.
import { createHash, randomBytes } from 'node:crypto';
import { parseOpaqueToken } from '../../src/tokens/opaque';
import type { Fixture } from './fixture';
import type { LoadSpec } from './load';
import { measureHttp, startServers, stopAll, urlOf } from './measure';
import type { Row } from './report';
import { tokenladder, type Context, type ScenarioOutput } from './scenarios';

const CONNECTIONS = 50;
/** The API-Tokens both token endpoints cycle through, as scenario 3 does. */
const BUSY_TOKENS = 16;
const FORM = 'application/x-www-form-urlencoded';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** The resource server that introspects, configured as an operator would (id and SHA-256 of the secret). */
function resourceServer() {
  const id = 'bench-gateway';
  const secret = randomBytes(24).toString('base64url');
  const hash = createHash('sha256').update(secret).digest('hex');
  return { authorization: basic(id, secret), env: { TOKENLADDER_INTROSPECTION_CLIENTS: `${id}:${hash}` } };
}

/** The four loads, each cycling through the same requests on every connection. */
function specs(url: string, fixture: Fixture, gateway: string) {
  const tokens = fixture.apiTokens.slice(0, BUSY_TOKENS);
  const spec = (requests: LoadSpec['requests']): LoadSpec => ({
    url,
    connections: CONNECTIONS,
    requests,
    expectStatus: 200,
  });
  const introspect = (token: string) => ({
    method: 'POST' as const,
    path: '/oauth/introspect',
    headers: { authorization: gateway, 'content-type': FORM },
    body: new URLSearchParams({ token }).toString(),
  });
  return {
    native: {
      ...spec(
        tokens.map((token) => ({
          method: 'POST',
          path: '/api/v1/base-tokens',
          headers: { authorization: `Token ${token}` },
        })),
      ),
      expectStatus: 201,
    },
    oauth: spec(
      tokens.map((token) => ({
        method: 'POST',
        path: '/oauth/token',
        headers: { authorization: basic(parseOpaqueToken(token)!.id, token), 'content-type': FORM },
        body: 'grant_type=client_credentials',
      })),
    ),
    introspectBase: spec([introspect(fixture.baseToken)]),
    introspectApi: spec(tokens.map(introspect)),
  };
}

/** Checks once, before measuring, that introspection says what the load assumes: active. */
async function expectActive(spec: LoadSpec) {
  const [request] = spec.requests;
  const response = await fetch(spec.url + request!.path, {
    method: 'POST',
    headers: request!.headers as Record<string, string>,
    body: request!.body as string,
  });
  const answer = (await response.json()) as { active?: boolean };
  if (answer.active !== true)
    throw new Error(`oauth: introspection answered ${response.status} ${JSON.stringify(answer)}`);
}

export async function oauthScenario({ settings, main }: Context): Promise<ScenarioOutput> {
  const gateway = resourceServer();
  const server = tokenladder(main, 'tokenladder (OAuth)');
  server.options.env = { ...server.options.env, ...gateway.env };
  const [child] = await startServers([server]);
  try {
    const load = specs(urlOf(child!), main, gateway.authorization);
    await expectActive(load.introspectBase);
    await expectActive(load.introspectApi);
    const results = await measureHttp(
      Object.entries(load).map(([label, spec]) => ({ label, child: child!, spec })),
      settings,
    );
    const native = results.get('native')!;
    const versusNative = (scenario: string, label: string): Row => {
      const m = results.get(label)!;
      return {
        scenario,
        ...m,
        ceilingReqPerSec: native.reqPerSec,
        ratio: m.reqPerSec / native.reqPerSec,
        target: 'report',
      };
    };
    const cpu = (label: string) => {
      const us = results.get(label)!.cpuUsPerReq ?? 0;
      return `${Math.round(us)} µs (${(us / (native.cpuUsPerReq || 1)).toFixed(2)}×)`;
    };
    return {
      rows: [
        versusNative('7 OAuth: POST /oauth/token, client credentials (Basic)', 'oauth'),
        versusNative('7 OAuth: POST /oauth/introspect, a Base-Token', 'introspectBase'),
        versusNative('7 OAuth: POST /oauth/introspect, an API-Token', 'introspectApi'),
        { scenario: '7 reference: POST /api/v1/base-tokens (API-Token)', ...native, target: 'report' },
      ],
      notes: [
        `Scenario 7 runs one tokenladder server with a resource server configured for introspection; the native exchange, ` +
          `/oauth/token and introspection cycle through the same ${BUSY_TOKENS} API-Tokens (the Base-Token row introspects one ` +
          'Base-Token from the exchange), interleaved in the same rounds, so the ratio (÷ the native exchange) compares like with like. ' +
          `CPU per request (× the native exchange's; steadier than req/s on a shared machine): native exchange ${cpu('native')}, ` +
          `/oauth/token ${cpu('oauth')}, introspection of a Base-Token ${cpu('introspectBase')}, of an API-Token ${cpu('introspectApi')}. Introspection is a per-request cost for the resource ` +
          'server (one round trip each), where a Base-Token verified locally costs one signature check (scenario 1) and no round trip.',
      ],
    };
  } finally {
    await stopAll([child!]);
  }
}

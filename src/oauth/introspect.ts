import { jwtVerify } from 'jose';
import { epochSeconds, PEER_CLOCK_TOLERANCE_SECONDS } from '../clock';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { constantTimeEqual } from '../lib/bytes';
import { entriesRefusing } from '../revocations/feed';
import { addressKey } from '../throttle/address-key';
import { hitCounter, peekCounter, pruneCounters, type CounterLimit } from '../throttle/counters';
import {
  BASE_TOKEN_TYPE,
  checkApiTokenLive,
  evaluateApiToken,
  loadApiTokenForExchange,
} from '../tokens/base-tokens';
import { tokenScopes } from '../tokens/grants';
import { matchesSecret } from '../tokens/kinds';
import { SIGNING_ALGS } from '../keys/signing-keys';
import { touchLastUsed } from '../tokens/last-used';
import { parseOpaqueToken } from '../tokens/opaque';
import { BASE_AUDIENCE_PREFIX, baseAudience } from '../verify/claims';
import { COMPACT_JWS } from '../verify/precheck';
import { scopeString } from '../verify/scopes';
import { OAuthError } from './errors';
import type { ClientCredentials } from './form';

/** The algorithms our keys sign with (each key pinned to its JWK alg): the key ring's list. */

/** Failed resource-server authentications per client address and window, then 429. */
export const INTROSPECTION_AUTH_FAILURES: CounterLimit = { limit: 20, windowSeconds: 300 };
/**
 * Inactive answers per resource server and window, then 429: a gateway passes on what its callers
 * send, so this bounds how fast anyone behind it can probe for live tokens. Active answers cost no
 * write and are not counted.
 */
export const INTROSPECTION_INACTIVE_ANSWERS: CounterLimit = { limit: 1000, windowSeconds: 60 };

/** An RFC 7662 answer: `{active: false}` says nothing more, whatever the reason. */
export type Introspection = { active: false } | ActiveToken;

export interface ActiveToken {
  active: true;
  /** `base_token` (a JWT) or `api_token` (opaque). */
  token_kind: 'base_token' | 'api_token';
  client_id: string;
  sub: string;
  scope: string;
  iat: number;
  /** Absent for an API-Token that never expires. */
  exp?: number;
  iss?: string;
  /** The base(s) it is good for, as `urn:tokenladder:base:<uuid>`; absent for a workspace or all-bases API-Token asked about no base. */
  aud?: string | string[];
  jti?: string;
  token_name: string;
  /** The one base a Base-Token (or an API-Token asked about a base) is for. */
  base_uuid?: string;
  permission?: string;
  /** An API-Token's reach: `base`, `bases`, `workspace` or `all`. */
  scope_type?: string;
}

/**
 * Who is introspecting: a configured resource server (TOKENLADDER_INTROSPECTION_CLIENTS), by HTTP
 * Basic or the form, compared as SHA-256 digests in constant time. Never anonymous. Failures are
 * counted per client address; past the limit the answer is 429 before any check.
 */
export async function authenticateResourceServer(
  deps: Pick<Deps, 'db' | 'clock' | 'config' | 'hashToken'>,
  client: ClientCredentials,
  clientIp: string | null,
): Promise<string> {
  const key = `introspect:auth:${addressKey(clientIp, deps.config.ipv6PrefixLength)}`;
  const budget = await peekCounter(deps, key, INTROSPECTION_AUTH_FAILURES);
  if (!budget.allowed)
    throw new AppError(
      'rate_limited',
      'too many failed client authentications from this address; retry later',
      budget.retryAfterSeconds,
    );
  const { clientId, clientSecret } = client;
  if (clientId !== undefined && clientSecret !== undefined) {
    const presented = await deps.hashToken(clientSecret);
    const known = deps.config.oauth.introspectionClients.find((entry) => entry.id === clientId);
    // Compared even for an unknown id, so the answer takes as long either way.
    if (constantTimeEqual(presented, known?.secretHash ?? '0'.repeat(64)) && known) return known.id;
  }
  await hitCounter(deps, key, INTROSPECTION_AUTH_FAILURES);
  await maybePrune(deps);
  throw new OAuthError(
    'invalid_client',
    clientSecret === undefined
      ? "introspection needs a resource server's client credentials (HTTP Basic)"
      : 'unknown resource server or wrong secret',
  );
}

/** Per database handle: when the expired failure counters were last deleted (once a window at most). */
const lastPrune = new WeakMap<object, number>();

/** Failure counters are one row per address an anonymous caller chooses: expired ones are deleted now and then. */
async function maybePrune(deps: Pick<Deps, 'db' | 'clock'>): Promise<void> {
  const now = epochSeconds(deps.clock);
  if (now - (lastPrune.get(deps.db) ?? 0) < INTROSPECTION_AUTH_FAILURES.windowSeconds) return;
  lastPrune.set(deps.db, now);
  await pruneCounters(deps, 'introspect:auth:', INTROSPECTION_AUTH_FAILURES.windowSeconds);
}

/**
 * RFC 7662: is `token` active now, and for what? A Base-Token is active when its signature (a key
 * this server publishes), issuer, type, expiry and the revocation feed all agree; an API-Token when
 * the exchange would accept it (secret, enabled, unexpired, policy, owner) — and, with `baseUuid`,
 * when it reaches that base. Anything else, an Account-Token included, is inactive. No audit record;
 * inactive answers count against the resource server's limit.
 */
export async function introspect(
  deps: Pick<Deps, 'db' | 'keys' | 'clock' | 'config' | 'hashToken'>,
  resourceServer: string,
  token: string,
  baseUuid?: string,
): Promise<Introspection> {
  const answer = COMPACT_JWS.test(token)
    ? await introspectBaseToken(deps, token, baseUuid)
    : parseOpaqueToken(token)?.kind === 'api'
      ? await introspectApiToken(deps, token, baseUuid)
      : null;
  if (answer) return answer;
  const limited = await hitCounter(
    deps,
    `introspect:inactive:${resourceServer}`,
    INTROSPECTION_INACTIVE_ANSWERS,
  );
  if (!limited.allowed)
    throw new AppError(
      'rate_limited',
      'too many inactive tokens introspected by this resource server; retry later',
      limited.retryAfterSeconds,
    );
  return { active: false };
}

async function introspectBaseToken(
  deps: Pick<Deps, 'db' | 'keys' | 'clock' | 'config'>,
  jwt: string,
  baseUuid: string | undefined,
): Promise<ActiveToken | null> {
  // Outside the try: a database that cannot answer is a 503, never "inactive".
  const keys = await deps.keys.verificationKeys();
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(jwt, keys, {
      algorithms: [...SIGNING_ALGS],
      issuer: deps.config.issuer,
      typ: BASE_TOKEN_TYPE,
      requiredClaims: ['exp', 'iat', 'sub', 'jti', 'aud', 'client_id'],
      currentDate: new Date(deps.clock.now()),
      clockTolerance: PEER_CLOCK_TOLERANCE_SECONDS,
    }));
  } catch {
    return null;
  }
  const { aud, sub, jti, iat, exp, client_id, gen, scope, permission, token_name } = payload;
  if (
    typeof aud !== 'string' ||
    !aud.startsWith(BASE_AUDIENCE_PREFIX) ||
    typeof sub !== 'string' ||
    typeof jti !== 'string' ||
    typeof client_id !== 'string' ||
    typeof iat !== 'number' ||
    typeof exp !== 'number' ||
    // Expired is expired here: the tolerance above is only for a peer's clock at issue time.
    exp <= epochSeconds(deps.clock)
  )
    return null;
  const base = aud.slice(BASE_AUDIENCE_PREFIX.length);
  if (baseUuid !== undefined && base !== baseUuid) return null;
  const refused = await entriesRefusing(deps.db, {
    jti,
    clientId: client_id,
    sub,
    baseId: base,
    iat,
    ...(Number.isSafeInteger(gen) && { gen: gen as number }),
  }).executeTakeFirst();
  if (refused) return null;
  return {
    active: true,
    token_kind: 'base_token',
    client_id,
    sub,
    scope: typeof scope === 'string' ? scope : '',
    iat,
    exp,
    iss: deps.config.issuer,
    aud,
    jti,
    token_name: typeof token_name === 'string' ? token_name : '',
    base_uuid: base,
    ...(typeof permission === 'string' && { permission }),
  };
}

async function introspectApiToken(
  deps: Pick<Deps, 'db' | 'clock' | 'hashToken'>,
  secret: string,
  baseUuid: string | undefined,
): Promise<ActiveToken | null> {
  const { id } = parseOpaqueToken(secret)!;
  const hash = await deps.hashToken(secret);
  const token = await loadApiTokenForExchange(deps, id, baseUuid);
  const now = epochSeconds(deps.clock);
  const matched = token === undefined ? null : matchesSecret(token, hash, now);
  if (!token || matched === null) return null;
  let answer: ActiveToken;
  try {
    const { endsAt } = checkApiTokenLive(deps, token);
    const onBase =
      baseUuid !== undefined || token.scope_type === 'base'
        ? await evaluateApiToken(deps, token, { baseUuid })
        : null;
    const scopes = onBase?.scopes ?? tokenScopes(token);
    const end =
      matched === 'previous' ? Math.min(endsAt ?? Infinity, token.previous_secret_expires_at!) : endsAt;
    answer = {
      active: true,
      token_kind: 'api_token',
      client_id: token.id,
      sub: token.created_by,
      scope: scopeString(scopes),
      iat: token.created_at,
      ...(end !== null && Number.isFinite(end) && { exp: end }),
      ...(onBase
        ? { aud: baseAudience(onBase.baseUuid), base_uuid: onBase.baseUuid }
        : await basesOf(deps, token)),
      token_name: token.name,
      scope_type: token.scope_type,
    };
  } catch (error) {
    if (error instanceof AppError) return null;
    throw error;
  }
  if (matched === 'current') await touchLastUsed(deps.db, 'api_tokens', token.id, token.last_used_at, now);
  return answer;
}

/** A multi-base API-Token's bases as audiences (nothing for a workspace or all-bases token). */
async function basesOf(deps: Pick<Deps, 'db'>, token: { id: string; scope_type: string }) {
  if (token.scope_type !== 'bases') return {};
  const rows = await deps.db
    .selectFrom('api_token_bases')
    .select('base_id')
    .where('token_id', '=', token.id)
    .orderBy('base_id')
    .execute();
  return { aud: rows.map((row) => baseAudience(row.base_id)) };
}

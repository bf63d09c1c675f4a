import { actorOf } from '../audit/events';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Principal } from '../accounts/principal';
import { memberBase, weakest } from '../bases/bases';
import { epochSeconds, PEER_CLOCK_TOLERANCE_SECONDS } from '../clock';
import type { Deps } from '../deps';
import { SIGNING_ALGS } from '../keys/signing-keys';
import { AppError, forbidden } from '../errors';
import { base64url, randomBytes } from '../lib/bytes';
import type { BasePermission } from '../store/schema';
import { entriesRevoking, feedPosition } from '../revocations/feed';
import { VERIFIER_SKEW_SECONDS } from '../revocations/revoke';
import { precheckToken } from '../verify/precheck';
import { accountTokenEnd } from '../accounts/account-tokens';
import { signBaseToken } from './base-tokens';
import { earliest } from './expiry';
import { ceilingOf, intersectScopes } from './grants';

/**
 * SeaTable's temporary API-Token: good for one hour, for one base, with the permission its maker has.
 * Like SeaTable's it is a signed JWT; unlike SeaTable's it is signed with our asymmetric key and typed
 * apart from Base-Tokens (its own `typ` and `aud`), so no Base-Token verifier accepts one. Its exchange
 * re-checks the maker's membership and Account-Token. Its Base-Tokens carry its `jti` as `client_id`,
 * and a row in `temp_api_tokens` (kept while it lives) names the Account-Token that made it, so
 * revoking either one publishes a feed entry that ends them (src/revocations/revoke.ts).
 */
export const TEMP_TOKEN_TYPE = 'tl-temp-api-token+jwt';
export const TEMP_TOKEN_AUDIENCE = 'urn:tokenladder:temp-api-token';
export const TEMP_TOKEN_TTL_SECONDS = 3600;
/** SeaTable names the source of a temporary token's Base-Token "scripts". */
const TEMP_TOKEN_APP_NAME = 'scripts';

export async function mintTempApiToken(
  deps: Pick<Deps, 'db' | 'audit' | 'keys' | 'clock' | 'config'>,
  principal: Principal,
  baseUuid: string,
): Promise<string> {
  const { permission } = await memberBase(deps, principal, baseUuid);
  const key = await deps.keys.current();
  const now = epochSeconds(deps.clock);
  const jti = base64url(randomBytes(16));
  const expiresAt = now + TEMP_TOKEN_TTL_SECONDS;
  await deps.audit.commit(
    [
      deps.db
        .insertInto('temp_api_tokens')
        .values({ jti, account_token_id: principal.tokenId, expires_at: expiresAt }),
      // Expired ones (past a verifier's clock tolerance) can have no live Base-Token left: nothing to
      // publish for them any more.
      deps.db.deleteFrom('temp_api_tokens').where('expires_at', '<=', now - VERIFIER_SKEW_SECONDS),
    ],
    [
      {
        action: 'temp_api_token.create',
        actor: actorOf(principal),
        subjectUserId: principal.userId,
        baseId: baseUuid,
        targetId: jti,
      },
    ],
  );
  return new SignJWT({
    base_uuid: baseUuid,
    permission: weakest(permission, 'rw'),
    client_id: principal.tokenId,
    // Feed entries for its Account-Token written after that was read refuse it (entriesRevoking).
    gen: principal.gen,
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: TEMP_TOKEN_TYPE })
    .setIssuer(deps.config.issuer)
    .setAudience(TEMP_TOKEN_AUDIENCE)
    .setSubject(principal.userId)
    .setJti(jti)
    .setIssuedAt(now)
    .setExpirationTime(expiresAt)
    .sign(key.privateKey);
}

/** Temporary API-Token → Base-Token, with the lesser of its permission and its maker's current one. */
export async function exchangeTempApiToken(
  deps: Pick<Deps, 'db' | 'audit' | 'keys' | 'clock' | 'config'>,
  token: string,
  ttlSeconds?: number,
  clientIp: string | null = null,
) {
  const claims = await verifyTempApiToken(deps, token);
  const now = epochSeconds(deps.clock);
  // The clock tolerance is for an instance minting a little ahead, not for exchanging late.
  if (claims.exp <= now) throw new AppError('token_expired', 'this temporary API-Token has expired');
  const maker = await deps.db
    .selectFrom('users as u')
    .leftJoin('base_members as m', (join) =>
      join.onRef('m.user_id', '=', 'u.id').on('m.base_id', '=', claims.base_uuid),
    )
    // The Account-Token it was made with: revoking that one (sign-out, password change, leak) ends it too.
    .leftJoin('account_tokens as a', (join) =>
      join.on('a.id', '=', claims.client_id).onRef('a.user_id', '=', 'u.id'),
    )
    // Its record: which Account-Token made it (what that one's revocation publishes).
    .leftJoin('temp_api_tokens as tt', (join) =>
      join.on('tt.jti', '=', claims.jti).onRef('tt.account_token_id', '=', 'a.id'),
    )
    .select([
      'u.is_active',
      'u.kind',
      'm.permission',
      'a.revoked_at',
      'a.created_at',
      'a.expires_at',
      'a.id as maker_token',
      'tt.jti as recorded',
    ])
    .select((eb) =>
      eb.exists(entriesRevoking(deps.db, { ...claims, clientId: claims.client_id })).as('revoked_itself'),
    )
    // Read with everything above: what the Base-Token carries as `gen`.
    .select(feedPosition.as('gen'))
    .where('u.id', '=', claims.sub)
    .executeTakeFirst();
  if (!maker) throw new AppError('token_invalid', 'the token is malformed or unknown');
  if (
    maker.maker_token === null ||
    maker.revoked_at !== null ||
    maker.revoked_itself ||
    // Made with a service account's Account-Token, which is void (src/accounts/account-tokens.ts).
    maker.kind !== 'person'
  ) {
    throw new AppError(
      'token_revoked',
      'this temporary API-Token, or the Account-Token that made it, has been revoked',
    );
  }
  // Signed by us but never recorded (made before the record existed): not one we can revoke.
  if (maker.recorded === null) throw new AppError('token_invalid', 'the token is malformed or unknown');
  // Its Account-Token's end: its expiry, or the configured maximum age (set since, too).
  const makerEndsAt =
    maker.created_at === null
      ? null
      : accountTokenEnd(deps, { created_at: maker.created_at, expires_at: maker.expires_at });
  if (makerEndsAt !== null && makerEndsAt <= now)
    throw new AppError('token_expired', 'the Account-Token that made this temporary API-Token has expired');
  if (!maker.is_active) throw new AppError('account_disabled', "this token's maker is deactivated");
  if (maker.permission === null) throw forbidden("this token's maker no longer has access to its base");
  return signBaseToken(
    deps,
    {
      userId: claims.sub,
      baseUuid: claims.base_uuid,
      scopes: intersectScopes(ceilingOf(claims.permission), ceilingOf(maker.permission)),
      // Its own jti: revoking it (or its Account-Token, which publishes its live ones) ends these.
      clientId: claims.jti,
      tokenType: 'account_token',
      tokenName: TEMP_TOKEN_APP_NAME,
      // Never beyond the temporary token's own hour, nor its Account-Token's end.
      endsAt: earliest(claims.exp, makerEndsAt),
      clientIp,
      gen: maker.gen,
    },
    ttlSeconds,
  );
}

async function verifyTempApiToken(deps: Pick<Deps, 'keys' | 'clock' | 'config'>, token: string) {
  try {
    // The verifier library's structural checks first: a kid is required (jose would otherwise try any
    // key that fits), canonical base64url only, no jku/jwk/x5u/x5c headers, bounded length.
    precheckToken(token);
    const { payload } = await jwtVerify(token, await deps.keys.verificationKeys(), {
      // Each published key verifies only its own JWK alg (jose matches the header's alg to it).
      algorithms: [...SIGNING_ALGS],
      issuer: deps.config.issuer,
      audience: TEMP_TOKEN_AUDIENCE,
      typ: TEMP_TOKEN_TYPE,
      requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      maxTokenAge: TEMP_TOKEN_TTL_SECONDS,
      // Minted by another instance whose clock runs a little ahead: still ours.
      clockTolerance: PEER_CLOCK_TOLERANCE_SECONDS,
      currentDate: new Date(deps.clock.now()),
    });
    const { sub, base_uuid, permission, client_id, jti, exp, iat, gen } = payload;
    if (
      typeof sub !== 'string' ||
      typeof base_uuid !== 'string' ||
      typeof client_id !== 'string' ||
      typeof jti !== 'string' ||
      typeof exp !== 'number' ||
      typeof iat !== 'number' ||
      (permission !== 'r' && permission !== 'rw') ||
      (gen !== undefined && !Number.isSafeInteger(gen))
    ) {
      throw new AppError('token_invalid', 'the token is malformed or unknown');
    }
    return {
      sub,
      base_uuid,
      client_id,
      jti,
      exp,
      iat,
      // Absent from temporary tokens made before 0.2: their `iat` is compared instead.
      ...(gen !== undefined && { gen: gen as number }),
      permission: permission as BasePermission,
    };
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (error instanceof joseErrors.JWTExpired)
      throw new AppError('token_expired', 'this temporary API-Token has expired');
    // A Base-Token, a foreign JWT, a bad signature: all just "not a temporary API-Token".
    throw new AppError('token_invalid', 'the token is malformed or unknown');
  }
}

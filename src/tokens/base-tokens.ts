import { SignJWT } from 'jose';
import type { Principal } from '../accounts/account-tokens';
import { memberBase, weakest } from '../bases/bases';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { AppError, forbidden } from '../errors';
import { base64url, constantTimeEqual, randomBytes } from '../lib/bytes';
import type { BasePermission } from '../store/schema';
import { expectOpaqueToken } from './kinds';
import { touchLastUsed } from './last-used';
import { hashOpaqueToken } from './opaque';

/** `aud` of a Base-Token: it binds the token to the one base it was issued for. */
export const baseAudience = (uuid: string) => `urn:tokenladder:base:${uuid}`;

export const BASE_TOKEN_TYPE = 'at+jwt';

export interface BaseTokenGrant {
  userId: string;
  baseUuid: string;
  permission: BasePermission;
  clientId: string;
  tokenType: 'api_token' | 'account_token';
  tokenName: string;
}

/** A lifetime asked for by the client: at most the configured one. */
export interface ExchangeOptions {
  ttlSeconds?: number;
}

/**
 * Signs a Base-Token (RFC 9068 access-token profile) with the current key; always with a kid.
 * It also carries SeaTable's claim names (dtable_uuid, username, app_name), so services written for
 * SeaTable's payload read it unchanged.
 */
export async function signBaseToken(deps: Deps, grant: BaseTokenGrant, options: ExchangeOptions = {}) {
  const key = await deps.keys.current();
  const now = epochSeconds(deps.clock);
  const expiresAt = now + Math.min(options.ttlSeconds ?? Infinity, deps.config.baseTokenTtlSeconds);
  const jwt = await new SignJWT({
    client_id: grant.clientId,
    token_type: grant.tokenType,
    token_name: grant.tokenName,
    base_uuid: grant.baseUuid,
    permission: grant.permission,
    dtable_uuid: grant.baseUuid,
    username: grant.userId,
    ...(grant.tokenType === 'api_token' && { app_name: grant.tokenName }),
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: BASE_TOKEN_TYPE })
    .setIssuer(deps.config.issuer)
    .setAudience(baseAudience(grant.baseUuid))
    .setSubject(grant.userId)
    .setJti(base64url(randomBytes(16)))
    .setIssuedAt(now)
    .setExpirationTime(expiresAt)
    .sign(key.privateKey);
  return { jwt, expiresAt, grant };
}

/**
 * API-Token → Base-Token. The grant is re-checked against the creator's current membership every
 * time (intersection model): a demoted creator's rw token yields r; a removed creator's token fails.
 */
export async function exchangeApiToken(deps: Deps, token: string, requestedBaseUuid?: string, options?: ExchangeOptions) {
  const id = expectOpaqueToken(token, 'api');
  const hash = await hashOpaqueToken(token);
  const row = await deps.db
    .selectFrom('api_tokens as t')
    .innerJoin('users as u', 'u.id', 't.created_by')
    .leftJoin('base_members as m', (join) => join.onRef('m.base_id', '=', 't.base_id').onRef('m.user_id', '=', 't.created_by'))
    .select(['t.id', 't.name', 't.base_id', 't.permission', 't.secret_hash', 't.created_by', 't.last_used_at', 't.revoked_at'])
    .select(['u.is_active', 'm.permission as creator_permission'])
    .where('t.id', '=', id)
    .executeTakeFirst();
  if (!row || !constantTimeEqual(row.secret_hash, hash)) throw new AppError('token_invalid', 'the token is malformed or unknown');
  if (row.revoked_at !== null) throw new AppError('token_revoked', 'this API-Token has been revoked');
  if (!row.is_active) throw new AppError('account_disabled', "this API-Token's creator is deactivated");
  if (requestedBaseUuid !== undefined && requestedBaseUuid !== row.base_id) throw forbidden('this API-Token is for another base');
  if (row.creator_permission === null) throw forbidden("this API-Token's creator no longer has access to its base");
  await touchLastUsed(deps.db, 'api_tokens', row.id, row.last_used_at, epochSeconds(deps.clock));
  return signBaseToken(deps, {
    userId: row.created_by,
    baseUuid: row.base_id,
    permission: weakest(row.permission, row.creator_permission === 'admin' ? 'rw' : row.creator_permission),
    clientId: row.id,
    tokenType: 'api_token',
    tokenName: row.name,
  }, options);
}

/** Account-Token → Base-Token for a base the caller is a member of, with the caller's own permission. */
export async function exchangeAccountToken(deps: Deps, principal: Principal, baseUuid: string, options?: ExchangeOptions) {
  const { permission } = await memberBase(deps, principal, baseUuid);
  return signBaseToken(deps, {
    userId: principal.userId,
    baseUuid,
    permission,
    clientId: principal.tokenId,
    tokenType: 'account_token',
    tokenName: principal.tokenName,
  }, options);
}

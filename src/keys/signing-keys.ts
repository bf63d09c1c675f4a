import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK, type JWTVerifyGetKey } from 'jose';
import type { Kysely } from 'kysely';
import { epochSeconds, type Clock } from '../clock';
import { isUniqueViolation } from '../store/atomic';
import type { Database, SigningKeyState } from '../store/schema';
import { seal, unseal } from './kek';

export const SIGNING_ALG = 'EdDSA';

/** A public key as published in the JWKS: only public members, always with kid, alg and use. */
export interface PublicJwk extends JWK {
  kid: string;
  alg: string;
  use: 'sig';
}

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
}

export interface KeyInfo {
  kid: string;
  alg: string;
  state: SigningKeyState;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
}

export interface KeyRing {
  /** The key that signs now (imported once and cached, never per request). */
  current(): Promise<SigningKey>;
  /** The public JWKS: upcoming, current, and retired keys whose tokens may still be unexpired. */
  jwks(): Promise<{ keys: PublicJwk[] }>;
  /** The published keys as a jose key resolver, for tokens tokenladder verifies itself (temporary API-Tokens). */
  verificationKeys(): Promise<JWTVerifyGetKey>;
  list(): Promise<KeyInfo[]>;
}

/** Makes a new Ed25519 key; kid is its RFC 7638 thumbprint, so kids never collide across instances. */
export async function generateSigningKey(kek: CryptoKey): Promise<{ kid: string; publicJwk: PublicJwk; sealed: string }> {
  const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { crv: 'Ed25519', extractable: true });
  const publicParts = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicParts, 'sha256');
  const publicJwk: PublicJwk = { kty: publicParts.kty, crv: publicParts.crv, x: publicParts.x, kid, alg: SIGNING_ALG, use: 'sig' };
  const sealed = await seal(kek, JSON.stringify(await exportJWK(privateKey)), kid);
  return { kid, publicJwk, sealed };
}

/**
 * Creates the first signing key of a fresh database. Safe when several processes (or isolates) start
 * at once: the unique index on the current key lets exactly one insert win.
 */
export async function ensureSigningKey(db: Kysely<Database>, kek: CryptoKey, clock: Clock): Promise<boolean> {
  const existing = await db.selectFrom('signing_keys').select('kid').where('state', '=', 'current').executeTakeFirst();
  if (existing) return false;
  const key = await generateSigningKey(kek);
  const now = epochSeconds(clock);
  try {
    await db
      .insertInto('signing_keys')
      .values({
        kid: key.kid,
        alg: SIGNING_ALG,
        public_jwk: JSON.stringify(key.publicJwk),
        private_jwk_encrypted: key.sealed,
        state: 'current',
        created_at: now,
        activated_at: now,
        retired_at: null,
      })
      .execute();
    return true;
  } catch (error) {
    if (isUniqueViolation(error)) return false;
    throw error;
  }
}

export interface KeyRingOptions {
  db: Kysely<Database>;
  kek: CryptoKey;
  clock: Clock;
  /** How long a retired key stays published: the longest lifetime of a token it signed, plus skew. */
  retiredKeyGraceSeconds: number;
  /** How long this process trusts its loaded keys before re-reading them (rotation by another process). */
  reloadAfterSeconds?: number;
}

export function createKeyRing(options: KeyRingOptions): KeyRing {
  const { db, kek, clock } = options;
  const reloadAfter = (options.reloadAfterSeconds ?? 60) * 1000;
  let loaded: { at: number; current: SigningKey; jwks: { keys: PublicJwk[] }; resolver: JWTVerifyGetKey } | undefined;
  let loading: Promise<NonNullable<typeof loaded>> | undefined;

  const load = async () => {
    const now = epochSeconds(clock);
    const rows = await db.selectFrom('signing_keys').selectAll().orderBy('created_at').execute();
    const currentRow = rows.find((row) => row.state === 'current');
    if (!currentRow) throw new Error('no current signing key: the database was not initialised');
    const privateJwk = JSON.parse(await unseal(kek, currentRow.private_jwk_encrypted, currentRow.kid)) as JWK;
    const privateKey = (await importJWK(privateJwk, currentRow.alg, { extractable: false })) as CryptoKey;
    const published = rows.filter(
      (row) => row.state !== 'retired' || (row.retired_at ?? 0) + options.retiredKeyGraceSeconds > now,
    );
    const jwks = { keys: published.map((row) => JSON.parse(row.public_jwk) as PublicJwk) };
    return { at: clock.now(), current: { kid: currentRow.kid, alg: currentRow.alg, privateKey }, jwks, resolver: createLocalJWKSet(jwks) };
  };

  const fresh = async () => {
    if (loaded && clock.now() - loaded.at < reloadAfter) return loaded;
    // One load at a time; concurrent requests share it.
    loading ??= load().finally(() => (loading = undefined));
    loaded = await loading;
    return loaded;
  };

  return {
    current: async () => (await fresh()).current,
    jwks: async () => (await fresh()).jwks,
    verificationKeys: async () => (await fresh()).resolver,
    list: () =>
      db
        .selectFrom('signing_keys')
        .select(['kid', 'alg', 'state', 'created_at', 'activated_at', 'retired_at'])
        .orderBy('created_at')
        .execute(),
  };
}

import type { AuditActor, AuditEvent } from '../audit/events';
import type { AuditLog } from '../audit/log';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';
import type { Kysely } from 'kysely';
import { epochSeconds, type Clock } from '../clock';
import { badRequest, conflict } from '../errors';
import { isUniqueViolation, type Atomic, type StatementResult } from '../store/atomic';
import type { Database, SigningKeyState } from '../store/schema';
import { seal, unseal } from './kek';

/**
 * The algorithms tokenladder signs with, and so the only ones it accepts on its own tokens. Each key
 * has one, named by its JWK's `alg`, and a token is only checked against a key of its header's alg.
 * EdDSA (Ed25519) is the default; ES256 (P-256) and RS256 (RSA 2048) are for verifiers that lack
 * EdDSA (Spring Security, auth0 java-jwt, python-jose, lua-resty-jwt, Oathkeeper; RFC 9068 §2.1).
 */
export const SIGNING_ALGS = ['EdDSA', 'ES256', 'RS256'] as const;

export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** What new keys use unless TOKENLADDER_SIGNING_ALG (or a rotation's `alg`) says otherwise. */
export const DEFAULT_SIGNING_ALG: SigningAlg = 'EdDSA';

export const isSigningAlg = (value: unknown): value is SigningAlg =>
  typeof value === 'string' && (SIGNING_ALGS as readonly string[]).includes(value);

/**
 * Key generation per algorithm, and the public members each key type publishes. RSA 2048: the floor
 * RFC 7518 §3.3 sets and NIST SP 800-57 accepts through 2030, for keys that are rotated anyway; 3072
 * would take ~3× as long to make (~0.6 s against ~0.2 s here) and to sign every Base-Token with.
 */
const KEY_TYPES = {
  EdDSA: { options: { crv: 'Ed25519' }, members: ['crv', 'x'] },
  ES256: { options: {}, members: ['crv', 'x', 'y'] },
  RS256: { options: { modulusLength: 2048 }, members: ['n', 'e'] },
} as const satisfies Record<
  SigningAlg,
  { options: { crv?: string; modulusLength?: number }; members: string[] }
>;

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

/** A signing key's public facts and state; times in epoch seconds. */
export interface KeyInfo {
  kid: string;
  alg: string;
  state: SigningKeyState;
  createdAt: number;
  activatedAt: number | null;
  retiredAt: number | null;
}

const keyInfoOf = (row: {
  kid: string;
  alg: string;
  state: SigningKeyState;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
}): KeyInfo => ({
  kid: row.kid,
  alg: row.alg,
  state: row.state,
  createdAt: row.created_at,
  activatedAt: row.activated_at,
  retiredAt: row.retired_at,
});

export interface KeyRing {
  /** The key that signs now (imported once and cached, never per request). */
  current(): Promise<SigningKey>;
  /** The public JWKS: upcoming, current, and retired keys whose tokens may still be unexpired. */
  jwks(): Promise<{ keys: PublicJwk[] }>;
  /** The published keys as a jose key resolver, for tokens tokenladder verifies itself (temporary API-Tokens). */
  verificationKeys(): Promise<JWTVerifyGetKey>;
  /**
   * Starts a rotation: a new key is published at once and signs from `activateAfterSeconds` on (so
   * verifiers have fetched it first); the old key stays published until its tokens have expired.
   * With `revokeOld` (a compromised key) the new key signs at once and the old one is deleted.
   */
  rotate(options: {
    activateAfterSeconds: number;
    revokeOld: boolean;
    /** The new key's algorithm; default the ring's `signingAlg`. */
    alg?: SigningAlg;
    actor?: AuditActor | null;
  }): Promise<KeyInfo>;
  list(): Promise<KeyInfo[]>;
  /**
   * Forgets the loaded keys: the next use reads them again. For a push from the database that the
   * keys changed (PostgreSQL's NOTIFY, src/store/postgres-listen.ts); the periodic reload stays.
   */
  reload(): void;
}

/**
 * Makes a new key for `alg` (Ed25519, P-256 or RSA 2048); kid is its RFC 7638 thumbprint, so kids
 * never collide across instances. The published JWK holds only the public members, plus kid, alg, use.
 */
export async function generateSigningKey(
  kek: CryptoKey,
  alg: SigningAlg = DEFAULT_SIGNING_ALG,
): Promise<{ kid: string; publicJwk: PublicJwk; sealed: string }> {
  // Checked here too: a key of any other kind would be published and then refused by every verifier.
  if (!isSigningAlg(alg)) throw badRequest(`alg must be one of ${SIGNING_ALGS.join(', ')}`);
  const type = KEY_TYPES[alg];
  const { publicKey, privateKey } = await generateKeyPair(alg, { ...type.options, extractable: true });
  const publicParts = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicParts, 'sha256');
  const publicJwk: PublicJwk = {
    kty: publicParts.kty,
    ...Object.fromEntries(type.members.map((member) => [member, publicParts[member]])),
    kid,
    alg,
    use: 'sig',
  };
  const sealed = await seal(kek, JSON.stringify(await exportJWK(privateKey)), kid);
  return { kid, publicJwk, sealed };
}

/**
 * Creates the first signing key of a fresh database. Safe when several processes (or isolates) start
 * at once: the unique index on the current key lets exactly one insert win.
 */
export async function ensureSigningKey(
  db: Kysely<Database>,
  kek: CryptoKey,
  clock: Clock,
  alg: SigningAlg = DEFAULT_SIGNING_ALG,
): Promise<boolean> {
  const existing = await db
    .selectFrom('signing_keys')
    .select('kid')
    .where('state', '=', 'current')
    .executeTakeFirst();
  if (existing) return false;
  const key = await generateSigningKey(kek, alg);
  const now = epochSeconds(clock);
  try {
    await db
      .insertInto('signing_keys')
      .values({
        kid: key.kid,
        alg,
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
  atomic: Atomic;
  /** Rotations are recorded in the same write. */
  audit: AuditLog;
  kek: CryptoKey;
  clock: Clock;
  /** How long a retired key stays published: the longest lifetime of a token it signed, plus skew. */
  retiredKeyGraceSeconds: number;
  /** How long this process trusts its loaded keys before re-reading them (rotation by another process). */
  reloadAfterSeconds?: number;
  /**
   * How often (at most) the key that signs is compared with the database's current key, one indexed
   * read: a key revoked by another process (`revoke_old`) stops signing here, and leaves this process's
   * JWKS, within this bound. Default {@link KEY_CHECK_INTERVAL_MS}.
   */
  checkAfterMs?: number;
  /** The algorithm of new keys when a rotation names none (TOKENLADDER_SIGNING_ALG); default EdDSA. */
  signingAlg?: SigningAlg;
}

/** The bound on how long another process keeps signing with (and publishing) a revoked key: 1 s. */
export const KEY_CHECK_INTERVAL_MS = 1000;

export function createKeyRing(options: KeyRingOptions): KeyRing {
  const { db, atomic, audit, kek, clock } = options;
  const reloadAfter = (options.reloadAfterSeconds ?? 60) * 1000;
  const checkAfter = options.checkAfterMs ?? KEY_CHECK_INTERVAL_MS;
  type Loaded = {
    at: number;
    /** When the current key was last confirmed against the database. */
    checkedAt: number;
    current: SigningKey;
    jwks: { keys: PublicJwk[] };
    resolver: JWTVerifyGetKey;
    nextActivation: number | null;
  };
  let loaded: Loaded | undefined;
  let loading: Promise<Loaded> | undefined;
  /** Counts reload() calls, so a load that raced one is not kept. */
  let reloads = 0;

  const load = async (): Promise<Loaded> => {
    const now = epochSeconds(clock);
    try {
      await promoteDueKey(db, atomic, now);
    } catch (error) {
      // Another instance promoted the same key at once (PostgreSQL: the unique current key, or a
      // deadlock or serialization abort between the two): it is promoted either way; read what won.
      if (!lostPromotionRace(error)) throw error;
    }
    const rows = await db.selectFrom('signing_keys').selectAll().orderBy('created_at').execute();
    const currentRow = rows.find((row) => row.state === 'current');
    if (!currentRow) throw new Error('no current signing key: the database was not initialised');
    const privateJwk = JSON.parse(await unseal(kek, currentRow.private_jwk_encrypted, currentRow.kid)) as JWK;
    const privateKey = (await importJWK(privateJwk, currentRow.alg, { extractable: false })) as CryptoKey;
    const published = rows.filter(
      (row) => row.state !== 'retired' || (row.retired_at ?? 0) + options.retiredKeyGraceSeconds > now,
    );
    const jwks = { keys: published.map((row) => JSON.parse(row.public_jwk) as PublicJwk) };
    const next = rows.find((row) => row.state === 'next');
    // Reload when the next key is due, or when a retired key's grace ends (it must drop out of the JWKS).
    const changes = [
      next?.activated_at,
      ...rows
        .filter((row) => row.state === 'retired' && row.retired_at !== null)
        .map((row) => row.retired_at! + options.retiredKeyGraceSeconds),
    ].filter((at): at is number => at !== null && at !== undefined && at > now);
    return {
      at: clock.now(),
      checkedAt: clock.now(),
      current: { kid: currentRow.kid, alg: currentRow.alg, privateKey },
      jwks,
      resolver: createLocalJWKSet(jwks),
      nextActivation: changes.length > 0 ? Math.min(...changes) : null,
    };
  };

  /**
   * Whether the database still names our key as the current one (the unique index on the current key
   * makes this one indexed read). An emergency rotation elsewhere replaces it: reload at once.
   */
  const stillCurrent = async (keys: Loaded, now: number) => {
    if (now - keys.checkedAt < checkAfter && now >= keys.checkedAt) return true;
    const row = await db
      .selectFrom('signing_keys')
      .select('kid')
      .where('state', '=', 'current')
      .executeTakeFirst();
    if (row?.kid !== keys.current.kid) return false;
    keys.checkedAt = now;
    return true;
  };

  const fresh = async () => {
    const now = clock.now();
    // The keys as they are now: a reload() during the check below drops `loaded`, not these.
    const keys = loaded;
    const stale =
      !keys ||
      now - keys.at >= reloadAfter ||
      (keys.nextActivation !== null && now >= keys.nextActivation * 1000) ||
      !(await stillCurrent(keys, now));
    if (!stale) return keys;
    // One load at a time; concurrent requests share it. A reload() meanwhile (keys changed after the
    // load read them) leaves its result unstored: the next use reads again.
    const generation = reloads;
    if (!loading) {
      const started: Promise<Loaded> = load().finally(() => {
        if (loading === started) loading = undefined;
      });
      loading = started;
    }
    const result = await loading;
    if (generation === reloads) loaded = result;
    return result;
  };

  return {
    current: async () => (await fresh()).current,
    jwks: async () => (await fresh()).jwks,
    verificationKeys: async () => (await fresh()).resolver,
    async rotate({
      activateAfterSeconds,
      revokeOld,
      alg = options.signingAlg ?? DEFAULT_SIGNING_ALG,
      actor = null,
    }) {
      const key = await generateSigningKey(kek, alg);
      const now = epochSeconds(clock);
      const row = {
        kid: key.kid,
        alg,
        public_jwk: JSON.stringify(key.publicJwk),
        private_jwk_encrypted: key.sealed,
        state: (revokeOld ? 'current' : 'next') as SigningKeyState,
        created_at: now,
        activated_at: revokeOld ? now : now + activateAfterSeconds,
        retired_at: null,
      };
      const event: AuditEvent = {
        action: 'key.rotate',
        actor,
        targetId: row.kid,
        details: { revoke_old: revokeOld, activated_at: row.activated_at, alg },
      };
      if (revokeOld) {
        // The compromised key (and any pending one) is deleted, sealed private key and all: it can
        // sign nothing more and drops out of the JWKS now.
        await audit.commit(
          [
            db.deleteFrom('signing_keys').where('state', 'in', ['current', 'next']),
            db.insertInto('signing_keys').values(row),
          ],
          [event],
        );
      } else {
        const pending = db.selectFrom('signing_keys').select('kid').where('state', '=', 'next');
        let inserted: StatementResult | undefined;
        try {
          [inserted] = await audit.commit(
            [
              db
                .insertInto('signing_keys')
                .columns([
                  'kid',
                  'alg',
                  'public_jwk',
                  'private_jwk_encrypted',
                  'state',
                  'created_at',
                  'activated_at',
                  'retired_at',
                ])
                .expression(
                  db
                    .selectNoFrom((eb) => [
                      eb.val(row.kid).as('kid'),
                      eb.val(row.alg).as('alg'),
                      eb.val(row.public_jwk).as('public_jwk'),
                      eb.val(row.private_jwk_encrypted).as('private_jwk_encrypted'),
                      eb.val(row.state).as('state'),
                      eb.val(row.created_at).as('created_at'),
                      eb.val(row.activated_at).as('activated_at'),
                      eb.val(null).as('retired_at'),
                    ])
                    .where((eb) => eb.not(eb.exists(pending))),
                ),
            ],
            [event],
            { onlyIf: db.selectFrom('signing_keys').select('kid').where('kid', '=', row.kid) },
          );
        } catch (error) {
          // The unique `next` key: a rotation that raced this one past the NOT EXISTS check won.
          if (isUniqueViolation(error)) throw conflict('a key rotation is already pending');
          throw error;
        }
        if ((inserted?.numAffectedRows ?? 0) === 0) throw conflict('a key rotation is already pending');
      }
      loaded = undefined;
      return keyInfoOf(row);
    },
    list: async () =>
      (
        await db
          .selectFrom('signing_keys')
          .select(['kid', 'alg', 'state', 'created_at', 'activated_at', 'retired_at'])
          .orderBy('created_at')
          .execute()
      ).map(keyInfoOf),
    reload() {
      reloads += 1;
      loaded = undefined;
      loading = undefined;
    },
  };
}

/** SQLSTATEs of a transaction that lost a race to a concurrent one: deadlock, serialization failure. */
const RACE_ABORTS = new Set(['40P01', '40001']);

function lostPromotionRace(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return isUniqueViolation(error) || (typeof code === 'string' && RACE_ABORTS.has(code));
}

/**
 * Makes a due `next` key the signing key, retiring the current one; two conditional statements in one
 * atomic write, so processes racing to promote end with exactly one current key.
 */
async function promoteDueKey(db: Kysely<Database>, atomic: Atomic, now: number): Promise<void> {
  const due = await db
    .selectFrom('signing_keys')
    .select('kid')
    .where('state', '=', 'next')
    .where('activated_at', '<=', now)
    .executeTakeFirst();
  if (!due) return;
  const stillNext = db
    .selectFrom('signing_keys as n')
    .select('n.kid')
    .where('n.kid', '=', due.kid)
    .where('n.state', '=', 'next');
  await atomic([
    db
      .updateTable('signing_keys')
      .set({ state: 'retired', retired_at: now })
      .where('state', '=', 'current')
      .where((eb) => eb.exists(stillNext)),
    db
      .updateTable('signing_keys')
      .set({ state: 'current' })
      .where('kid', '=', due.kid)
      .where('state', '=', 'next'),
  ]);
}

import { appConfigFromEnv, parseEnv, type AppConfig } from '../config';
import { ConfigError, type AdminEnv } from '../startup';
import type { D1Binding } from '../store/d1';

/** A Worker's `env`: the D1 binding, plus vars (wrangler.toml) and secrets (`wrangler secret put`) as strings. */
export interface WorkerEnv {
  DB?: D1Binding;
  [name: string]: unknown;
}

export interface WorkerSettings {
  config: AppConfig;
  db: D1Binding;
  kekText: string;
  /** Who the first admin is, for prepare(). */
  admin: AdminEnv;
}

/**
 * Reads `env` through the same zod schema as Node (so the same bounds apply, including scrypt's
 * N·r·p ≤ 2^20 that Cloudflare enforces in production), then what only Workers require: no filesystem
 * means the KEK must be a secret, and no stable hostname means the issuer must be configured.
 */
export function workerSettings(env: WorkerEnv): WorkerSettings {
  // wrangler passes a TOML number or boolean var through as one; the schema reads text, as from process.env.
  const strings = Object.fromEntries(
    Object.entries(env)
      .filter(
        ([, value]) => typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean',
      )
      .map(([name, value]) => [name, String(value)]),
  );
  let parsed: ReturnType<typeof parseEnv>;
  try {
    parsed = parseEnv(strings);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  // Cloudflare sets cf-connecting-ip on every request and clients cannot forge it. No revocation
  // stream: an isolate has no listener shared with the isolates that write (that would take a Durable
  // Object), so verifiers poll (docs/workers.md).
  const config = {
    ...appConfigFromEnv(parsed),
    clientIpHeader: parsed.TOKENLADDER_CLIENT_IP_HEADER ?? 'cf-connecting-ip',
    revocationStream: null,
  };
  const problems: string[] = [];
  const db = env.DB;
  if (!db || typeof db.prepare !== 'function' || typeof db.batch !== 'function') {
    problems.push('DB: no D1 binding named DB ([[d1_databases]] in wrangler.toml)');
  }
  if (!parsed.TOKENLADDER_KEK)
    problems.push('TOKENLADDER_KEK: required on Workers (wrangler secret put TOKENLADDER_KEK)');
  if (!parsed.TOKENLADDER_ISSUER)
    problems.push("TOKENLADDER_ISSUER: required on Workers: this Worker's public URL");
  // TOKENLADDER_ADMIN_PASSWORD is checked by prepare() only when it creates the first admin: a weak
  // value left in the environment must not stop a Worker whose database has users.
  if (problems.length > 0 || !db || !parsed.TOKENLADDER_KEK) {
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return {
    config,
    db,
    kekText: parsed.TOKENLADDER_KEK,
    admin: {
      TOKENLADDER_ADMIN_EMAIL: parsed.TOKENLADDER_ADMIN_EMAIL,
      TOKENLADDER_ADMIN_PASSWORD: parsed.TOKENLADDER_ADMIN_PASSWORD,
    },
  };
}

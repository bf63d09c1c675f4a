// What every runtime does once before it serves, written once so Node and Workers start the same way.
import { passwordLengthDeviation } from './accounts/passwords';
import { bootstrapAdmin, passwordPolicyProblem } from './accounts/users';
import type { AppConfig, Env } from './config';
import type { Deps } from './deps';
import { base64url, randomBytes } from './lib/bytes';

/** The first admin's email when TOKENLADDER_ADMIN_EMAIL is unset. */
const DEFAULT_ADMIN_EMAIL = 'admin@tokenladder.local';

/** The variables that say who the first admin is. */
export type AdminEnv = Pick<Env, 'TOKENLADDER_ADMIN_EMAIL' | 'TOKENLADDER_ADMIN_PASSWORD'>;

/**
 * A start-up problem only the operator can fix (a wrong KEK, an unusable admin password): starting
 * again with the same configuration cannot succeed, unlike a store that is unreachable for now.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface PrepareOptions {
  /** TOKENLADDER_ADMIN_EMAIL and TOKENLADDER_ADMIN_PASSWORD, parsed. */
  env: AdminEnv;
  /** Where the signing keys are stored, as the wrong-KEK message names it. */
  keyStore: string;
  /**
   * The operator's console (Node's standard output): the first admin is announced there, and without
   * TOKENLADDER_ADMIN_PASSWORD a password is generated and shown there once. Without a console
   * (Workers) the log announces it, and a missing password is a ConfigError.
   */
  print?: (line: string) => void;
}

/**
 * Checks that the KEK opens the stored signing key, warns about a password policy below NIST's, and
 * creates the first admin on an empty database. Call it after createDeps, before serving.
 */
export async function prepare(deps: Deps, { env, keyStore, print }: PrepareOptions): Promise<void> {
  try {
    // A wrong KEK would otherwise surface as a 500 at the first token exchange.
    await deps.keys.current();
  } catch (error) {
    if (error instanceof Error && error.name === 'OperationError') {
      throw new ConfigError(
        `TOKENLADDER_KEK: it does not decrypt the signing keys stored in ${keyStore}; set the KEK they were sealed with`,
      );
    }
    throw error;
  }
  const deviation = passwordLengthDeviation(deps.config);
  if (deviation) deps.log.warn('password policy deviates from NIST SP 800-63B-4', { deviation });
  await ensureAdmin(deps, env, print);
}

/** Why TOKENLADDER_ADMIN_PASSWORD cannot be the first admin's password under `config`'s policy, or null. */
export function adminPasswordProblem(config: AppConfig, env: AdminEnv): string | null {
  const password = env.TOKENLADDER_ADMIN_PASSWORD;
  if (password === undefined) return null;
  const problem = passwordPolicyProblem({ config }, password, { email: adminEmail(env) });
  return problem && `TOKENLADDER_ADMIN_PASSWORD: ${problem}`;
}

/** Why the admin variables did nothing: said in the start-up warning (and in docs/troubleshooting.md). */
export const IGNORED_BECAUSE =
  'the database already has users, and the first admin is only created on an empty database; sign in with an existing account (or start on a new TOKENLADDER_DB)';

const adminEmail = (env: AdminEnv) => env.TOKENLADDER_ADMIN_EMAIL ?? DEFAULT_ADMIN_EMAIL;

/**
 * First start on an empty database: a system admin from the environment, or (with a console to show
 * it on) with a generated password shown once. Race-safe: of concurrent starts, one creates it.
 * Once any user exists the admin variables are ignored, with a warning: they neither change a
 * password nor block a restart (a weak TOKENLADDER_ADMIN_PASSWORD left in the environment included).
 */
export async function ensureAdmin(deps: Deps, env: AdminEnv, print?: (line: string) => void): Promise<void> {
  const anyUser = await deps.db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (anyUser) {
    const given = (['TOKENLADDER_ADMIN_EMAIL', 'TOKENLADDER_ADMIN_PASSWORD'] as const).filter(
      (name) => env[name] !== undefined,
    );
    if (given.length > 0)
      deps.log.warn(`${given.join(' and ')} ignored: ${IGNORED_BECAUSE}`, { ignored: given });
    return;
  }
  const problem = adminPasswordProblem(deps.config, env);
  if (problem) throw new ConfigError(problem);
  const email = adminEmail(env);
  let password = env.TOKENLADDER_ADMIN_PASSWORD;
  const generated = password === undefined;
  if (password === undefined) {
    if (!print) {
      throw new ConfigError(
        'TOKENLADDER_ADMIN_PASSWORD: required to create the first admin (wrangler secret put TOKENLADDER_ADMIN_PASSWORD)',
      );
    }
    password = base64url(randomBytes(24));
  }
  if (!(await bootstrapAdmin(deps, email, password))) return;
  if (!print) {
    deps.log.info('created the first system admin', { email });
    return;
  }
  print(`tokenladder: created the first system admin ${email}`);
  if (generated)
    print(`tokenladder: its generated password (shown only this once, store it now): ${password}`);
}

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import type { Env } from '../../config';
import { generateKekText, importKek } from '../../keys/kek';

/**
 * The key-encryption key: TOKENLADDER_KEK, else a file beside the database (created 0600 on first start).
 * A database that already holds sealed keys never gets a fresh KEK silently: that would lose them.
 */
export async function loadKek(env: Env, raw: Database.Database): Promise<CryptoKey> {
  if (env.TOKENLADDER_KEK) return importKek(env.TOKENLADDER_KEK);
  if (env.TOKENLADDER_DB === ':memory:') return importKek(generateKekText());
  const file = kekFileOf(env);
  if (existsSync(file)) return importKek(readFileSync(file, 'utf8').trim());
  const { keys } = raw.prepare('SELECT count(*) AS keys FROM signing_keys').get() as { keys: number };
  if (keys > 0)
    throw new Error(
      `the database has signing keys but the key-encryption key file ${file} is missing; set TOKENLADDER_KEK or restore the file`,
    );
  const text = generateKekText();
  writeFileSync(file, `${text}\n`, { mode: 0o600, flag: 'wx' });
  return importKek(text);
}

/** Where the KEK file is: TOKENLADDER_KEK_FILE, else kek.key beside the database. */
export const kekFileOf = (env: Pick<Env, 'TOKENLADDER_DB' | 'TOKENLADDER_KEK_FILE'>) =>
  resolve(env.TOKENLADDER_KEK_FILE ?? join(dirname(resolve(env.TOKENLADDER_DB)), 'kek.key'));

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Env } from '../../config';
import type { Kysely } from 'kysely';
import { generateKekText, importKek } from '../../keys/kek';
import type { Database } from '../../store/schema';

/**
 * The key-encryption key: TOKENLADDER_KEK, else a file beside the database (created 0600 on first start).
 * A database that already holds sealed keys never gets a fresh KEK silently: that would lose them.
 */
export async function loadKek(env: Env, store: { db: Kysely<Database> }): Promise<CryptoKey> {
  if (env.TOKENLADDER_KEK) return importKek(env.TOKENLADDER_KEK);
  if (env.TOKENLADDER_DATABASE_URL !== undefined) return loadSharedKek(env);
  if (env.TOKENLADDER_DB === ':memory:' && env.TOKENLADDER_DATABASE_URL === undefined)
    return importKek(generateKekText());
  const file = kekFileOf(env);
  if (existsSync(file)) return importKek(readFileSync(file, 'utf8').trim());
  const { keys } = (await store.db
    .selectFrom('signing_keys')
    .select((eb) => eb.fn.countAll<number>().as('keys'))
    .executeTakeFirstOrThrow()) as { keys: number };
  if (Number(keys) > 0)
    throw new Error(
      `the database has signing keys but the key-encryption key file ${file} is missing; set TOKENLADDER_KEK or restore the file`,
    );
  const text = generateKekText();
  try {
    writeFileSync(file, `${text}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another instance on this machine, starting at the same moment, wrote it first: theirs counts.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return importKek(readFileSync(file, 'utf8').trim());
  }
  return importKek(text);
}

/** Where the KEK file is: TOKENLADDER_KEK_FILE, else kek.key beside the database. */
export const kekFileOf = (env: Pick<Env, 'TOKENLADDER_DB' | 'TOKENLADDER_KEK_FILE'>) =>
  resolve(env.TOKENLADDER_KEK_FILE ?? join(dirname(resolve(env.TOKENLADDER_DB)), 'kek.key'));

/**
 * On PostgreSQL every instance must hold the same KEK, so none is ever made: instances on several
 * machines starting together would each make their own, and all but one could not open the signing
 * key. TOKENLADDER_KEK, or TOKENLADDER_KEK_FILE naming a file that exists, is required.
 */
export function loadSharedKek(env: Env): Promise<CryptoKey> {
  if (env.TOKENLADDER_KEK) return importKek(env.TOKENLADDER_KEK);
  if (env.TOKENLADDER_KEK_FILE === undefined)
    throw new Error(
      'TOKENLADDER_DATABASE_URL is set: give every instance the same key-encryption key, as TOKENLADDER_KEK (or TOKENLADDER_KEK_FILE naming a file that holds it); see docs/postgres.md',
    );
  const file = resolve(env.TOKENLADDER_KEK_FILE);
  if (!existsSync(file))
    throw new Error(
      `TOKENLADDER_KEK_FILE ${file} does not exist; with TOKENLADDER_DATABASE_URL the key-encryption key is never generated, since every instance needs the same one`,
    );
  return importKek(readFileSync(file, 'utf8').trim());
}

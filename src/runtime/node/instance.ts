// One server instance's dependencies, made and prepared: the store the environment names (and on
// PostgreSQL, the instance's LISTEN connection), the KEK, the deps, the first admin and key. What
// `tokenladder serve` runs before it listens; src/node.ts serves the result.
import type { Env } from '../../config';
import { appConfigFromEnv } from '../../config';
import type { Deps } from '../../deps';
import { consoleLogger } from '../../lib/logger';
import { prepare } from '../../startup';
import { createPostgresListener } from '../../store/postgres-listen';
import { openStore, type OpenedStore } from './database';
import { createNodeDeps } from './deps';
import { loadKek, loadSharedKek } from './kek';

export interface Instance {
  deps: Deps;
  store: OpenedStore;
  /** Ends the LISTEN connection and the store (the server calls it once it has stopped serving). */
  close(): void;
}

export async function prepareInstance(env: Env, print: (line: string) => void): Promise<Instance> {
  // On PostgreSQL the KEK is required (never generated): refused before anything touches the database.
  const sharedKek = env.TOKENLADDER_DATABASE_URL === undefined ? undefined : await loadSharedKek(env);
  const store = await openStore(env);
  const url = env.TOKENLADDER_DATABASE_URL;
  // PostgreSQL: one LISTEN connection per instance, so that another instance's revocation wakes this
  // one's streams, and its key change reloads this one's key ring, at once (NOTIFY at their commit).
  const listener = url === undefined ? undefined : createPostgresListener({ url, log: consoleLogger });
  const close = () => {
    void listener?.close();
    void store.close();
  };
  try {
    const deps = await createNodeDeps({
      store,
      kek: sharedKek ?? (await loadKek(env, store)),
      config: appConfigFromEnv(env),
      processMetrics: true,
      ...(listener && { feedWakeupSource: listener.onRevocations }),
    });
    listener?.onKeys(() => deps.keys.reload());
    if (store.applied.length > 0) deps.log.info('applied migrations', { migrations: store.applied });
    await prepare(deps, { env, keyStore: 'the database', print });
    return { deps, store, close };
  } catch (error) {
    close();
    throw error;
  }
}

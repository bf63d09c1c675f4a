// The server under test: the real tokenladder app (createNodeDeps + createApp) on @hono/node-server.
// Env: BENCH_DB (a SQLite fixture file) or BENCH_DATABASE_URL (a PostgreSQL fixture database), BENCH_KEK.
// Scrypt at the production default (ln=15,r=8,p=3). On PostgreSQL the store is opened as `tokenladder
// serve` opens it (openStore: pool, migrations), with the instance's LISTEN connection waking its
// revocation streams and reloading its keys on other instances' changes, as src/node.ts wires it.
import Database from 'better-sqlite3';
import { createApp } from '../../src/app';
import { parseEnv } from '../../src/config';
import { importKek } from '../../src/keys/kek';
import { openStore } from '../../src/runtime/node/database';
import { createNodeDeps } from '../../src/runtime/node/deps';
import { readMigrations } from '../../src/store/migration-files';
import { createPostgresListener } from '../../src/store/postgres-listen';
import { configureSqlite, migrateSqlite } from '../../src/store/sqlite';
import { benchConfig, discardLog, ISSUER } from '../lib/config';
import { serveFetch } from '../lib/child';

const kek = await importKek(process.env.BENCH_KEK!);
const url = process.env.BENCH_DATABASE_URL;
if (url === undefined) {
  const raw = new Database(process.env.BENCH_DB!);
  configureSqlite(raw);
  migrateSqlite(raw, readMigrations());
  const deps = await createNodeDeps({ raw, kek, config: benchConfig(), log: discardLog });
  serveFetch(createApp(deps).fetch, () => raw.close());
} else {
  const store = await openStore(
    parseEnv({ TOKENLADDER_ISSUER: ISSUER, TOKENLADDER_DATABASE_URL: url }),
    discardLog,
  );
  const listener = createPostgresListener({ url, log: discardLog });
  const deps = await createNodeDeps({
    store,
    kek,
    config: benchConfig(),
    log: discardLog,
    feedWakeupSource: listener.onRevocations,
  });
  listener.onKeys(() => deps.keys.reload());
  serveFetch(createApp(deps).fetch, () => {
    deps.feedWakeups.close();
    void listener.close();
    void store.close();
  });
}

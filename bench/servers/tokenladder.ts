// The server under test: the real tokenladder app (createNodeDeps + createApp) on @hono/node-server.
// Env: BENCH_DB (a fixture file), BENCH_KEK. Scrypt at the production default (ln=15,r=8,p=3).
import Database from 'better-sqlite3';
import { createApp } from '../../src/app';
import { importKek } from '../../src/keys/kek';
import { createNodeDeps } from '../../src/runtime/node/deps';
import { readMigrations } from '../../src/store/migration-files';
import { configureSqlite, migrateSqlite } from '../../src/store/sqlite';
import { benchConfig, discardLog } from '../lib/config';
import { serveFetch } from '../lib/child';

const raw = new Database(process.env.BENCH_DB!);
configureSqlite(raw);
migrateSqlite(raw, readMigrations());
const deps = await createNodeDeps({
  raw,
  kek: await importKek(process.env.BENCH_KEK!),
  config: benchConfig(),
  log: discardLog,
});
serveFetch(createApp(deps).fetch, () => raw.close());

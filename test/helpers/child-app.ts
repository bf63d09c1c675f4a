// Test-only: a second process serving the real app over a database file another process also serves,
// with a clock the parent test sets. Run with `node --import tsx test/helpers/child-app.ts`; it prints
// `listening <port>` once it serves on loopback. Nothing here is part of the product.
//
// Side channel (handled here, never seen by the app):
//   POST /__child/open {file, kek, now}   (re)open the app over another database file (closing the last)
//   x-child-now: <ms>                      on any request: the clock reads this from then on
import { serve } from '@hono/node-server';
import Database from 'better-sqlite3';
import { createApp } from '../../src/app';
import { importKek } from '../../src/keys/kek';
import { createNodeDeps } from '../../src/runtime/node/deps';
import { configureSqlite } from '../../src/store/sqlite';
import { silentLog, testConfig } from './app';

let now = 0;
const clock = { now: () => now };
let current: { app: ReturnType<typeof createApp>; raw: Database.Database } | null = null;

async function open(file: string, kek: string) {
  current?.raw.close();
  current = null;
  const raw = new Database(file);
  configureSqlite(raw);
  const deps = await createNodeDeps({
    raw,
    kek: await importKek(kek),
    config: testConfig(),
    clock,
    log: silentLog,
  });
  current = { app: createApp(deps), raw };
}

serve(
  {
    hostname: '127.0.0.1',
    port: 0,
    fetch: async (request) => {
      const url = new URL(request.url);
      if (url.pathname === '/__child/open' && request.method === 'POST') {
        const body = (await request.json()) as { file: string; kek: string; now: number };
        now = body.now;
        await open(body.file, body.kek);
        return new Response(null, { status: 204 });
      }
      if (current === null) return new Response('no database open', { status: 503 });
      const at = request.headers.get('x-child-now');
      if (at !== null) now = Number(at);
      const headers = new Headers(request.headers);
      headers.delete('x-child-now');
      const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.text();
      return current.app.fetch(new Request(request.url, { method: request.method, headers, body }));
    },
  },
  (info) => process.stdout.write(`listening ${info.port}\n`),
);

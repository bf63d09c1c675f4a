// Ceiling of the exchange: a minimal Hono endpoint doing one indexed better-sqlite3 lookup and one
// jose EdDSA sign with a pre-imported key, answering a body of about the real size. Env: BENCH_DB.
// With BENCH_AUDIT_DB it also does the least an audited exchange must: append one hash-chained row
// to a log table and commit it durably (WAL, synchronous=FULL, requests of one loop turn sharing a
// commit) before answering.
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { Hono } from 'hono';
import { generateKeyPair, SignJWT } from 'jose';
import { serveFetch } from '../lib/child';

const raw = new Database(process.env.BENCH_DB!, { readonly: true });
const select = raw.prepare('SELECT id, name, base_id, permission, created_by FROM api_tokens WHERE id = ?');
const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
const kid = 'x'.repeat(43);
type Row = { id: string; name: string; base_id: string; permission: string; created_by: string };

const auditDb = process.env.BENCH_AUDIT_DB ? new Database(process.env.BENCH_AUDIT_DB) : undefined;
let appendRow: ((fields: unknown[]) => Promise<void>) | undefined;
if (auditDb) {
  auditDb.pragma('journal_mode = WAL');
  auditDb.pragma('synchronous = FULL');
  auditDb.exec(
    'CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, at INTEGER, fields TEXT, prev_hash TEXT, hash TEXT)',
  );
  const insert = auditDb.prepare('INSERT INTO log VALUES (?, ?, ?, ?, ?)');
  let head = { seq: 0, hash: '0'.repeat(64) };
  let pending: { fields: unknown[]; done: () => void }[] = [];
  const commit = auditDb.transaction((batch: { fields: unknown[] }[]) => {
    for (const { fields } of batch) {
      const text = JSON.stringify(fields);
      const hash = createHash('sha256')
        .update(head.hash + text)
        .digest('hex');
      insert.run(head.seq + 1, Math.floor(Date.now() / 1000), text, head.hash, hash);
      head = { seq: head.seq + 1, hash };
    }
  });
  appendRow = (fields) =>
    new Promise((resolve) => {
      pending.push({ fields, done: resolve });
      if (pending.length === 1) {
        setImmediate(() => {
          const batch = pending;
          pending = [];
          commit(batch);
          for (const entry of batch) entry.done();
        });
      }
    });
}

const app = new Hono().post('/api/v1/base-tokens', async (c) => {
  const token = (c.req.header('authorization') ?? '').replace(/^token /i, '');
  const row = select.get(token.slice(7, 23)) as Row | undefined;
  if (!row) return c.json({ error: { code: 'token_invalid' } }, 401);
  const now = Math.floor(Date.now() / 1000);
  // The claims the real exchange signs, so the token (and the body) is about as long.
  const jwt = await new SignJWT({
    client_id: row.id,
    token_type: 'api_token',
    token_name: row.name,
    base_uuid: row.base_id,
    permission: row.permission,
    dtable_uuid: row.base_id,
    username: row.created_by,
    app_name: row.name,
  })
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
    .setIssuer('http://tokenladder.bench')
    .setAudience(`urn:tokenladder:base:${row.base_id}`)
    .setSubject(row.created_by)
    .setJti(crypto.randomUUID().replaceAll('-', '').slice(0, 22))
    .setIssuedAt(now)
    .setExpirationTime(now + 259_200)
    .sign(privateKey);
  await appendRow?.([row.created_by, row.id, row.base_id, row.permission, now + 259_200]);
  return c.json(
    {
      base_token: jwt,
      expires_at: new Date((now + 259_200) * 1000).toISOString(),
      base_uuid: row.base_id,
      permission: row.permission,
    },
    201,
  );
});
serveFetch(app.fetch, () => {
  raw.close();
  auditDb?.close();
});

// Catalog F-01 "nothing lost": the real server (`tokenladder serve`) on a file database, concurrent
// API-Token creation and exchange, SIGKILL mid-load, restart on the same file. Then: integrity_check
// ok, every token whose creation was acknowledged (201) still exchanges, and no half-written rows.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, start, type Running } from '../helpers/processes';

const ADMIN_EMAIL = 'admin@example.com';
const ADMIN_PASSWORD = 'correct horse battery staple';
const WORKERS = 8;
const LOAD_MS = 2500;

describe('durability under SIGKILL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-durability-'));
  const file = join(dir, 'tokenladder.db');
  let server: Running | undefined;
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('F-01 every acknowledged token survives a SIGKILL under load; no half-written rows; integrity ok', {
    timeout: 60_000,
  }, async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = {
      TOKENLADDER_DB: file,
      TOKENLADDER_ISSUER: url,
      PORT: String(port),
      TOKENLADDER_ADMIN_EMAIL: ADMIN_EMAIL,
      TOKENLADDER_ADMIN_PASSWORD: ADMIN_PASSWORD,
      TOKENLADDER_SCRYPT: 'ln=12,r=8,p=1',
    };
    const api = async (method: string, path: string, token?: string, body?: unknown) => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: await response.json().catch(() => null) };
    };

    server = await start('node', ['bin/tokenladder.mjs', 'serve'], env, /"listening"/);
    const signIn = await api('POST', '/api/v1/account-tokens', undefined, {
      email: ADMIN_EMAIL,
      password: ADMIN_PASSWORD,
    });
    expect(signIn.status).toBe(201);
    const account: string = signIn.body.token;
    const bases: string[] = [];
    for (const name of ['D1', 'D2'])
      bases.push((await api('POST', '/api/v1/bases', account, { name })).body.uuid);

    // Load: each worker creates tokens (single-base, or two-base tokens that write api_token_bases
    // rows in the same atomic batch) and exchanges tokens acknowledged so far.
    type Acked = { id: string; token: string; base: string };
    const acked: Acked[] = [];
    let started = 0;
    let finished = 0;
    let exchanges = 0;
    let failedAfterKill = 0;
    let killed = false;
    let seq = 0;
    const worker = async (n: number) => {
      while (!killed) {
        const i = seq++;
        const multi = i % 2 === 1;
        started++;
        try {
          const created = multi
            ? await api('POST', '/api/v1/api-tokens', account, {
                name: `w${n}-${i}`,
                permission: 'rw',
                resources: { type: 'bases', base_uuids: bases },
              })
            : await api('POST', `/api/v1/bases/${bases[0]}/api-tokens`, account, {
                name: `w${n}-${i}`,
                permission: 'rw',
              });
          finished++;
          if (created.status === 201)
            acked.push({
              id: created.body.id,
              token: created.body.token,
              base: multi ? bases[1]! : bases[0]!,
            });
          else if (!killed)
            throw new Error(`create answered ${created.status} ${JSON.stringify(created.body)}`);
          const pick = acked[Math.floor(Math.random() * acked.length)];
          if (pick) {
            started++;
            const exchanged = await api('POST', '/api/v1/base-tokens', pick.token, { base_uuid: pick.base });
            finished++;
            if (exchanged.status === 201) exchanges++;
            else if (!killed)
              throw new Error(`exchange answered ${exchanged.status} ${JSON.stringify(exchanged.body)}`);
          }
        } catch (error) {
          if (!killed) throw error;
          failedAfterKill++;
        }
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, (_, n) => worker(n)));
    await new Promise((resolve) => setTimeout(resolve, LOAD_MS));
    const inFlightAtKill = started - finished;
    killed = true;
    server.child.kill('SIGKILL');
    await new Promise<void>((resolve) =>
      server!.child.exitCode !== null || server!.child.signalCode !== null
        ? resolve()
        : server!.child.once('exit', () => resolve()),
    );
    await load;
    const ackedAtKill = acked.length;
    expect(ackedAtKill).toBeGreaterThan(20);

    // Restart on the same file.
    server = await start('node', ['bin/tokenladder.mjs', 'serve'], env, /"listening"/);
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('foreign_key_check')).toEqual([]);
      const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
      const orphans = {
        bases_rows_without_token: count(
          'SELECT count(*) AS n FROM api_token_bases b LEFT JOIN api_tokens t ON t.id = b.token_id WHERE t.id IS NULL',
        ),
        multi_base_tokens_without_both_bases: count(
          "SELECT count(*) AS n FROM api_tokens t WHERE t.scope_type = 'bases' AND (SELECT count(*) FROM api_token_bases b WHERE b.token_id = t.id) <> 2",
        ),
        single_base_tokens_with_bases_rows: count(
          "SELECT count(*) AS n FROM api_tokens t WHERE t.scope_type = 'base' AND EXISTS (SELECT 1 FROM api_token_bases b WHERE b.token_id = t.id)",
        ),
        tokens_without_creator: count(
          'SELECT count(*) AS n FROM api_tokens t LEFT JOIN users u ON u.id = t.created_by WHERE u.id IS NULL',
        ),
        tokens_without_base: count(
          'SELECT count(*) AS n FROM api_tokens t LEFT JOIN bases b ON b.id = t.base_id WHERE t.base_id IS NOT NULL AND b.id IS NULL',
        ),
        account_tokens_without_user: count(
          'SELECT count(*) AS n FROM account_tokens a LEFT JOIN users u ON u.id = a.user_id WHERE u.id IS NULL',
        ),
      };
      expect(orphans).toEqual(Object.fromEntries(Object.keys(orphans).map((key) => [key, 0])));
      const committed = count("SELECT count(*) AS n FROM api_tokens WHERE name LIKE 'w%-%'");

      // Every acknowledged token exchanges after the restart (the Account-Token survived too).
      let survived = 0;
      const missing: string[] = [];
      for (const token of acked) {
        const exchanged = await api('POST', '/api/v1/base-tokens', token.token, { base_uuid: token.base });
        if (exchanged.status === 201) survived++;
        else missing.push(`${token.id}: ${exchanged.status}`);
      }
      console.log(
        `durability: acked ${ackedAtKill}, in flight at SIGKILL ${inFlightAtKill}, failed by the kill ${failedAfterKill}, ` +
          `exchanges before the kill ${exchanges}, committed rows ${committed} (committed but never acked ${committed - ackedAtKill}), survived ${survived}/${ackedAtKill}`,
      );
      expect(missing).toEqual([]);
      expect(survived).toBe(ackedAtKill);
      expect(committed).toBeGreaterThanOrEqual(ackedAtKill);
      expect((await api('GET', '/api/v1/me', account)).status).toBe(200);
    } finally {
      db.close();
    }
  });
});

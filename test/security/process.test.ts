// Catalog cases that need a real `tokenladder serve` process: raw HTTP the Node adapter parses
// (H-17, H-18), and starts that must be refused (C-15, F-06, F-10, F-12).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, openSync, rmSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateKekText } from '../../src/keys/kek';
import { freePort, ROOT, start, type Running } from '../helpers/processes';

const dir = mkdtempSync(join(tmpdir(), 'tl-process-'));
const baseEnv = { PATH: process.env.PATH ?? '', TOKENLADDER_SCRYPT: 'ln=10,r=8,p=1' };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// One-off commands run the CLI bundled by test/setup/build-cli.ts; the running server is bin/tokenladder.mjs.
/** `tokenladder migrate` against a database file: what a start does first, without serving. */
const migrate = (env: Record<string, string>) =>
  spawnSync('node', [inject('cliBundle'), 'migrate'], {
    cwd: ROOT,
    env: { ...baseEnv, ...env },
    encoding: 'utf8',
  });
const serveOnce = (env: Record<string, string>) =>
  spawnSync('node', [inject('cliBundle'), 'serve'], {
    cwd: ROOT,
    env: { ...baseEnv, PORT: '1', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });

/** Sends raw bytes and returns the status line the server answers with. */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('end', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer')));
  });
}

describe('a running server', () => {
  let server: Running;
  let port: number;
  let db: string;
  beforeAll(async () => {
    port = await freePort();
    db = join(dir, 'served.db');
    server = await start(
      'node',
      ['bin/tokenladder.mjs', 'serve'],
      { ...baseEnv, TOKENLADDER_DB: db, PORT: String(port) },
      /"listening"/,
    );
  }, 30_000);
  afterAll(() => server?.stop());

  it('C-15 a fresh install has no default password: the bootstrap admin gets a random one, printed once', async () => {
    const password = /generated password \(shown only this once, store it now\): (\S+)/.exec(
      server.stdout(),
    )?.[1];
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    for (const guess of ['admin', 'password', 'tokenladder', 'admin@tokenladder.local']) {
      const answer = await fetch(`http://127.0.0.1:${port}/api/v1/account-tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.0.0.${guess.length}` },
        body: JSON.stringify({ email: 'admin@tokenladder.local', password: guess }),
      });
      expect(answer.status).toBe(401);
    }
  });

  it.each([
    [
      'Content-Length with Transfer-Encoding',
      'POST /api/v1/base-tokens HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    [
      'two Content-Lengths',
      'POST /api/v1/base-tokens HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
    ],
    ['an obs-fold header line', 'GET /api/v1/ping HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n'],
    ['a space before the colon', 'GET /api/v1/ping HTTP/1.1\r\nHost : x\r\n\r\n'],
  ])('H-17 request smuggling shapes are refused by the parser: %s → 400', async (_name, request) => {
    expect(await raw(port, request)).toBe('HTTP/1.1 400 Bad Request');
  });

  it('H-17 the control: a well-formed raw request is answered', async () => {
    expect(await raw(port, 'GET /api/v1/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toBe(
      'HTTP/1.1 200 OK',
    );
  });

  it('H-18 headers over 16 KB → 431, before any of our code runs', async () => {
    expect(
      await raw(port, `GET /api/v1/ping HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`),
    ).toBe('HTTP/1.1 431 Request Header Fields Too Large');
  });
});

describe('refused starts', () => {
  it('F-06 a corrupt or truncated database file: no start, the reason named', () => {
    const good = join(dir, 'good.db');
    expect(migrate({ TOKENLADDER_DB: good }).status).toBe(0);
    const notADatabase = join(dir, 'garbage.db');
    writeFileSync(notADatabase, 'this is not an SQLite file at all'.repeat(200));
    const garbage = migrate({ TOKENLADDER_DB: notADatabase });
    expect(garbage.status).toBe(1);
    expect(garbage.stderr).toMatch(/not a database|damaged/);

    // A real database with a page overwritten in the middle.
    const damaged = join(dir, 'damaged.db');
    copyFileSync(good, damaged);
    const fd = openSync(damaged, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 4096 * 2);
    closeSync(fd);
    const answer = migrate({ TOKENLADDER_DB: damaged });
    expect(answer.status).toBe(1);
    expect(answer.stderr).toMatch(/damaged|malformed|not a database/);
  });

  it('F-10 a KEK that does not open the stored signing key: no start, never a fallback key', () => {
    const file = join(dir, 'kek.db');
    const kek = generateKekText();
    const keys = (env: Record<string, string>) =>
      spawnSync('node', [inject('cliBundle'), 'keys', 'list', '--json'], {
        cwd: ROOT,
        env: { ...baseEnv, TOKENLADDER_DB: file, ...env },
        encoding: 'utf8',
      });
    expect(keys({ TOKENLADDER_KEK: kek }).status).toBe(0); // makes the first key, sealed under `kek`
    const keysBefore = new Database(file, { readonly: true })
      .prepare('SELECT kid, private_jwk_encrypted FROM signing_keys')
      .all();
    const wrong = serveOnce({ TOKENLADDER_DB: file, TOKENLADDER_KEK: generateKekText() });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('TOKENLADDER_KEK: it does not decrypt the signing keys');
    expect(wrong.stdout).not.toContain('listening');
    const missing = serveOnce({ TOKENLADDER_DB: file, TOKENLADDER_KEK_FILE: join(dir, 'no-such-kek.key') });
    expect(missing.status).toBe(1);
    expect(
      new Database(file, { readonly: true })
        .prepare('SELECT kid, private_jwk_encrypted FROM signing_keys')
        .all(),
    ).toEqual(keysBefore);
  });

  it('F-12 a database from a newer version (a migration this code does not know): no start', () => {
    const file = join(dir, 'newer.db');
    expect(migrate({ TOKENLADDER_DB: file }).status).toBe(0);
    const db = new Database(file);
    db.prepare("INSERT INTO d1_migrations (name) VALUES ('9999_future.sql')").run();
    db.close();
    const answer = migrate({ TOKENLADDER_DB: file });
    expect(answer.status).toBe(1);
    expect(answer.stderr).toContain('database has migrations this version does not know: 9999_future.sql');
  });
});

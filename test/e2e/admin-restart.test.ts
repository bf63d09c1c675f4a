import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonCaller, serveTokenladder } from '../helpers/processes';

// Issue 15: the quick start restarted with TOKENLADDER_ADMIN_* on a database that already had its
// admin, and the variables were silently ignored; a weak password left in the environment stopped
// every restart. Real `tokenladder serve` processes on one database file.
describe('restarting with the admin variables once the admin exists', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-admin-restart-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const base = { TOKENLADDER_DB: join(dir, 'tokenladder.db'), TOKENLADDER_SCRYPT: 'ln=12,r=8,p=1' };
  const FIRST = { email: 'root@example.com', password: 'the first admin passphrase' };

  it('starts, warns that they are ignored, and the first admin still signs in', async () => {
    const first = await serveTokenladder({
      ...base,
      TOKENLADDER_ADMIN_EMAIL: FIRST.email,
      TOKENLADDER_ADMIN_PASSWORD: FIRST.password,
    });
    await first.stop();

    const again = await serveTokenladder({
      ...base,
      TOKENLADDER_ADMIN_EMAIL: 'admin@example.com',
      TOKENLADDER_ADMIN_PASSWORD: 'short',
    });
    try {
      expect(again.stderr()).toContain(
        'TOKENLADDER_ADMIN_EMAIL and TOKENLADDER_ADMIN_PASSWORD ignored: the database already has users',
      );
      expect(again.stdout()).not.toContain('created the first system admin');
      const call = jsonCaller(() => again.url);
      expect((await call('POST', '/api/v1/account-tokens', undefined, FIRST)).status).toBe(201);
      const ignored = { email: 'admin@example.com', password: 'short' };
      expect((await call('POST', '/api/v1/account-tokens', undefined, ignored)).status).toBe(401);
    } finally {
      await again.stop();
    }
  }, 60_000);
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, HAS_CHROMIUM } from '../helpers/chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveTokenladder, type Running } from '../helpers/processes';

/**
 * /docs offline: every request that is not to the tokenladder server itself is aborted (and
 * recorded), yet the reference renders the API's endpoints from the script the server serves.
 */
describe.skipIf(!HAS_CHROMIUM)('/docs in Chromium with the network blocked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-docs-'));
  let server: Running & { url: string };
  let browser: Browser;

  beforeAll(async () => {
    server = await serveTokenladder(
      {
        TOKENLADDER_DB: join(dir, 'db', 'tokenladder.db'),
        TOKENLADDER_ADMIN_EMAIL: 'admin@example.com',
        TOKENLADDER_ADMIN_PASSWORD: 'correct horse battery staple',
      },
      30_000,
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the endpoints without any request leaving the machine', { timeout: 60_000 }, async () => {
    const context = await browser.newContext();
    const blocked: string[] = [];
    const origin = new URL(server.url).origin;
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${origin}/`) || url.startsWith('data:') || url.startsWith('blob:'))
        return route.continue();
      blocked.push(url);
      return route.abort('internetdisconnected');
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const response = await page.goto(`${server.url}/docs`);
    expect(response?.status()).toBe(200);
    // The OpenAPI document's tags and the first group's endpoints, rendered by the script.
    await expect
      .poll(async () => (await page.locator('body').textContent()) ?? '', { timeout: 30_000 })
      .toContain('/readyz');
    const text = (await page.locator('body').textContent()) ?? '';
    for (const expected of [
      'Readiness',
      '/api/v1/ping',
      '/.well-known/jwks.json',
      'Signing keys',
      'Revocation and incidents',
    ])
      expect(text).toContain(expected);
    expect(text).not.toContain('The API reference is loading');
    // The agent that would upload the document to Scalar's servers is switched off.
    expect(text).not.toContain('Ask AI');
    expect(errors).toEqual([]);
    // What the reference tried to load from elsewhere (fonts, telemetry) was refused; it rendered anyway.
    console.info(`blocked ${blocked.length} requests: ${blocked.slice(0, 5).join(', ')}`);
    await context.close();
  });

  it('without JavaScript, /docs links the OpenAPI document', { timeout: 30_000 }, async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${server.url}/docs`);
    const link = page.locator('a[href="/openapi.json"]').first();
    expect(await link.isVisible()).toBe(true);
    await context.close();
  });
});

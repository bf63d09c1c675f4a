import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, HAS_CHROMIUM } from '../helpers/chromium';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, jsonCaller, ROOT, serveTokenladder, type Running } from '../helpers/processes';

if (!HAS_CHROMIUM)
  console.warn(
    `test/browser skipped: no Chromium at ${CHROMIUM}; run \`npm run setup:browser\` to enable it`,
  );
const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };

/**
 * The web UI in a real browser (Debian's Chromium through playwright-core) against `tokenladder serve`
 * on a file database: sign in, create a base and tokens, copy the show-once secret, use it on the API,
 * deactivate, regenerate, delete; CSRF and cookie attributes as the browser sees them.
 */
describe.skipIf(!HAS_CHROMIUM)('web UI in Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-ui-'));
  // The README's screenshots are refreshed on request (UPDATE_SCREENSHOTS=1); otherwise they go to the temp dir.
  const SCREENSHOTS =
    process.env.UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'screenshots') : join(dir, 'screenshots');
  let url: string;
  let server: Running;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    const started = await serveTokenladder(
      {
        TOKENLADDER_DB: join(dir, 'db', 'tokenladder.db'),
        TOKENLADDER_ADMIN_EMAIL: ADMIN.email,
        TOKENLADDER_ADMIN_PASSWORD: ADMIN.password,
        TOKENLADDER_SCRYPT: 'ln=12,r=8,p=1',
      },
      30_000,
    );
    server = started;
    url = started.url;
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1200, height: 800 },
    });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
    page = context.pages()[0] ?? (await context.newPage());
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 2 * 60_000);

  afterAll(async () => {
    await context?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = jsonCaller(() => url, 'Token');
  const shot = (name: string, target: Page = page) =>
    target.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
  const sessionCookie = async () =>
    (await context.cookies(`${url}/ui/`)).find((cookie) => cookie.name === 'tl_ui_session');

  /** Creates a token through the form, copies it with the Copy button, closes the dialog; returns the secret. */
  async function createToken(name: string, permission: 'r' | 'rw', expires: string, screenshot?: string) {
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel(permission === 'r' ? 'Read-only' : 'Read & write').check();
    await page.getByLabel('Expires after').selectOption(expires);
    await page.getByRole('button', { name: 'Create token' }).click();
    return copyFromDialog(screenshot);
  }

  async function copyFromDialog(screenshot?: string) {
    const dialog = page.getByRole('dialog');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(
      await page.evaluate(() =>
        (document.getElementById('secret-dialog') as HTMLDialogElement).matches(':modal'),
      ),
    ).toBe(true);
    const done = dialog.getByRole('button', { name: 'Done' });
    expect(await done.isDisabled()).toBe(true);
    if (screenshot) await shot(screenshot);
    await dialog.getByRole('button', { name: 'Copy' }).click();
    await expect.poll(() => done.isEnabled()).toBe(true);
    const secret = await page.evaluate(() => navigator.clipboard.readText());
    expect(secret).toMatch(/^tl_api_/);
    expect(await dialog.getByLabel(/API-Token/).inputValue()).toBe(secret);
    // The address already is the list's (history.replaceState); Done loads it afresh.
    const reloaded = page.waitForNavigation();
    await done.click();
    await reloaded;
    expect(page.url()).toMatch(/\/ui\/bases\/[0-9a-f-]{36}$/);
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect(await page.content()).not.toContain(secret);
    return secret;
  }

  let baseUrl: string;
  let baseUuid: string;
  let secret: string;

  it('signs in: the session cookie is HttpOnly, SameSite=Strict, Path=/ui and not readable by scripts', {
    timeout: 120_000,
  }, async () => {
    await page.goto(`${url}/ui`);
    await page.waitForURL(`${url}/ui/login`);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await shot('sign-in');

    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill('not the right password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toContain('Email or password is incorrect.');

    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${url}/ui/bases`);
    const cookie = (await sessionCookie())!;
    expect(cookie.value).toMatch(/^tl_acc_/);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/ui', secure: false });
    expect(cookie.expires).toBeGreaterThan(Date.now() / 1000 + 6 * 86400);
    expect(await page.evaluate(() => document.cookie)).not.toContain('tl_ui_session');
    // The session is an Account-Token like any other.
    expect((await api('GET', '/api/v1/me', cookie.value)).body.email).toBe(ADMIN.email);
  });

  it('creates a base and an API-Token; the secret is copied from the show-once dialog and works on the API', {
    timeout: 120_000,
  }, async () => {
    await page.getByLabel('Name').fill('Inventory');
    await page.getByRole('button', { name: 'Create base' }).click();
    await page.waitForURL(/\/ui\/bases\/[0-9a-f-]{36}\?notice=base-created$/);
    baseUrl = page.url().split('?')[0]!;
    baseUuid = baseUrl.split('/').pop()!;

    // The base's UUID is on its page, with a Copy button the script shows; the page links a favicon.
    expect(await page.locator('#base-uuid').textContent()).toBe(baseUuid);
    await page.getByRole('button', { name: 'Copy the base UUID' }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(baseUuid);
    expect(await page.locator('[data-copy-status="base-uuid"]').textContent()).toBe('Copied.');
    const favicon = await page.evaluate(async () => {
      const href = document.querySelector('link[rel=icon]')?.getAttribute('href') ?? '';
      const response = await fetch(href);
      return { href, status: response.status, type: response.headers.get('content-type') };
    });
    expect(favicon).toEqual({ href: '/ui/assets/favicon.svg', status: 200, type: 'image/svg+xml' });

    secret = await createToken('nightly-report', 'rw', '30', 'secret-dialog');
    const exchange = await api('POST', '/api/v1/base-tokens', secret);
    expect(exchange.status).toBe(201);
    expect(exchange.body).toMatchObject({ base_uuid: baseUuid, permission: 'rw' });

    // Reload and back show no secret: the POST response's history entry was replaced.
    await page.reload();
    expect(await page.content()).not.toContain(secret);
    await page.goBack();
    expect(await page.content()).not.toContain(secret);
    await page.goto(baseUrl);

    const row = page.getByRole('row', { name: /nightly-report/ });
    expect(await row.textContent()).toContain('Read & write');
    expect(await row.textContent()).toContain(ADMIN.email);
  });

  it('deactivates with the Active switch (the API answers 401) and activates again', {
    timeout: 120_000,
  }, async () => {
    const toggle = page.getByRole('switch', { name: 'Active: nightly-report' });
    expect(await toggle.getAttribute('aria-checked')).toBe('true');
    await toggle.click();
    await page.waitForURL(/notice=token-disabled/);
    expect(
      await page.getByRole('switch', { name: 'Active: nightly-report' }).getAttribute('aria-checked'),
    ).toBe('false');
    const refused = await api('POST', '/api/v1/base-tokens', secret);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('token_disabled');

    // Keyboard: focus the switch and press Space.
    await page.getByRole('switch', { name: 'Active: nightly-report' }).focus();
    await page.keyboard.press('Space');
    await page.waitForURL(/notice=token-enabled/);
    expect((await api('POST', '/api/v1/base-tokens', secret)).status).toBe(201);
  });

  it('regenerates: a new secret shown once (copied by keyboard), the old one refused at once', {
    timeout: 120_000,
  }, async () => {
    await page.getByRole('link', { name: 'Manage nightly-report' }).click();
    // Regenerate asks first; Cancel goes back with the secret unchanged.
    await page.getByRole('link', { name: 'Regenerate…' }).click();
    await page.getByRole('heading', { name: 'Regenerate the secret of “nightly-report”?' }).waitFor();
    await page.getByRole('link', { name: 'Cancel' }).click();
    await page.getByRole('link', { name: 'Regenerate…' }).waitFor();
    expect((await api('POST', '/api/v1/base-tokens', secret)).status).toBe(201);
    await page.getByRole('link', { name: 'Regenerate…' }).click();
    await page.getByRole('button', { name: 'Regenerate' }).click();
    const dialog = page.getByRole('dialog');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    // Escape does not close the dialog before the secret was copied.
    await page.keyboard.press('Escape');
    expect(await dialog.isVisible()).toBe(true);
    // Focus starts on Copy; Enter copies and moves focus to Done; Enter again closes.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('secret-copy');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('secret-done');
    const renewed = await page.evaluate(() => navigator.clipboard.readText());
    const reloaded = page.waitForNavigation();
    await page.keyboard.press('Enter');
    await reloaded;
    expect(page.url()).toBe(baseUrl);
    expect(renewed).toMatch(/^tl_api_/);
    expect(renewed).not.toBe(secret);
    expect((await api('POST', '/api/v1/base-tokens', secret)).body.error.code).toBe('token_invalid');
    expect((await api('POST', '/api/v1/base-tokens', renewed)).status).toBe(201);
    secret = renewed;
  });

  it('renames, deletes one token after confirmation and bulk-deletes with checkboxes', {
    timeout: 120_000,
  }, async () => {
    await createToken('ci-deploy', 'r', 'never');
    const spare = await createToken('backup-job', 'r', '365');
    await createToken('metrics-export', 'r', '7');
    await shot('tokens-list');

    await page.getByRole('link', { name: 'Manage ci-deploy' }).click();
    await shot('token-manage');
    await page.getByLabel('New name').fill('ci-deploy-prod');
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.waitForURL(/notice=token-renamed/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('ci-deploy-prod');
    await page.goto(baseUrl);

    await page.getByRole('link', { name: 'Delete backup-job' }).click();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('backup-job');
    expect((await api('POST', '/api/v1/base-tokens', spare)).status).toBe(201); // asking changed nothing
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(/notice=tokens-deleted/);
    expect(await page.getByRole('row', { name: /backup-job/ }).count()).toBe(0);
    expect((await api('POST', '/api/v1/base-tokens', spare)).status).toBe(401);

    await page.getByLabel('Select ci-deploy-prod').check();
    await page.getByLabel('Select metrics-export').check();
    await page.getByRole('button', { name: 'Delete selected (2)' }).click();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Delete 2 API-Tokens?');
    await shot('confirm-delete');
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(/notice=tokens-deleted/);
    const names = await page.locator('tbody td.name').allTextContents();
    expect(names).toEqual(['nightly-report']);
  });

  it('creates a token with custom scopes (records read + comments read) by keyboard; its Base-Token carries them in scp', {
    timeout: 120_000,
  }, async () => {
    await page.goto(baseUrl);
    const panel = page.getByRole('group', { name: 'Custom permissions' });
    // The script shows the custom fieldset only while "Custom" is chosen.
    expect(await panel.isVisible()).toBe(false);
    await page.getByLabel('Name', { exact: true }).fill('report-reader');
    await page.getByLabel('Read-only').check();
    await page.getByLabel('Read-only').focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    expect(await page.getByLabel('Custom', { exact: true }).isChecked()).toBe(true);
    await expect.poll(() => panel.isVisible()).toBe(true);
    // Tab leads into the fieldset: the record operations first; Space ticks "Read".
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('scope-records-create');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('scope-records-read');
    await page.keyboard.press('Space');
    expect(
      await panel.getByRole('group', { name: 'Records' }).getByLabel('Read', { exact: true }).isChecked(),
    ).toBe(true);
    await panel.getByLabel('Comments').selectOption('r');
    await shot('custom-scopes');

    // Back to "Read-only" hides (and disables) the fieldset; "Custom" again keeps the choices.
    await page.getByLabel('Read-only').check();
    expect(await panel.isVisible()).toBe(false);
    await page.getByLabel('Custom', { exact: true }).check();
    expect(await panel.isVisible()).toBe(true);

    await page.getByRole('button', { name: 'Create token' }).click();
    const custom = await copyFromDialog();
    const exchange = await api('POST', '/api/v1/base-tokens', custom);
    expect(exchange.status).toBe(201);
    expect(exchange.body).toMatchObject({
      base_uuid: baseUuid,
      permission: 'custom',
      scopes: { v: 1, c: { records: 'r', comments: 'r' } },
    });
    const claims = JSON.parse(Buffer.from(exchange.body.base_token.split('.')[1], 'base64url').toString());
    expect(claims.scp).toEqual({ v: 1, c: { records: 'r', comments: 'r' } });
    expect(claims.permission).toBe('custom');

    expect(await page.getByRole('row', { name: /report-reader/ }).textContent()).toContain('Custom scopes');
    await page.getByRole('link', { name: 'Manage report-reader' }).click();
    const scopes = page.locator('ul.scope-list li');
    expect(await scopes.allTextContents()).toEqual([
      'Records Read (all tables)',
      'Comments Read',
      'Tables None',
      'Fields None',
      'Views None',
      'Webhooks None',
      'Base settings None',
      'Users None',
    ]);
    await shot('token-scopes');
    await page.goto(baseUrl);
  });

  it('refuses forms without the right CSRF token (403) and cross-site forms (no cookie: sign-in page)', {
    timeout: 120_000,
  }, async () => {
    const statuses = await page.evaluate(async () => {
      const post = (body: Record<string, string>) =>
        fetch('/ui/bases', { method: 'POST', body: new URLSearchParams(body), redirect: 'manual' }).then(
          (response) => response.status,
        );
      return [await post({ name: 'Forged' }), await post({ name: 'Forged', _csrf: 'not-the-token' })];
    });
    expect(statuses).toEqual([403, 403]);

    // A page on another origin auto-submits a form to /ui/bases: SameSite=Strict keeps the cookie home.
    const evilPort = await freePort();
    const evil: Server = createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(
        `<!DOCTYPE html><form id="f" method="post" action="${url}/ui/bases"><input name="name" value="Forged"></form><script>document.getElementById('f').submit()</script>`,
      );
    });
    await new Promise<void>((resolve) => evil.listen(evilPort, '127.0.0.1', resolve));
    try {
      const other = await context.newPage();
      await other.goto(`http://localhost:${evilPort}/`);
      await other.waitForURL(/\/ui\/login$/);
      await other.close();
    } finally {
      evil.close();
    }
    const token = (await sessionCookie())!.value;
    const bases = (await api('GET', '/api/v1/bases', token)).body.bases.map(
      (base: { name: string }) => base.name,
    );
    expect(bases).toEqual(['Inventory']);
  });

  it('lists Account-Tokens and the users page (system admins); narrow screens stay readable', {
    timeout: 120_000,
  }, async () => {
    await api('POST', '/api/v1/account-tokens', undefined, { ...ADMIN, name: 'laptop cli' });
    await api('POST', '/api/v1/bases', (await sessionCookie())!.value, { name: 'Customer CRM' });
    await page.goto(`${url}/ui/bases`);
    await shot('bases');

    await page.getByRole('link', { name: 'Account-Tokens' }).click();
    expect(await page.getByRole('row', { name: /Web session/ }).textContent()).toContain('this session');
    await shot('account-tokens');
    await page.getByRole('button', { name: 'Revoke laptop cli' }).click();
    await page.waitForURL(/notice=account-token-revoked/);
    expect(await page.getByRole('row', { name: /laptop cli/ }).count()).toBe(0);

    const admin = (await sessionCookie())!.value;
    await api('POST', '/api/v1/users', admin, {
      email: 'dana@example.com',
      password: 'another fine passphrase',
      role: 'user',
      name: 'Dana',
    });
    await page.getByRole('link', { name: 'Users' }).click();
    expect(await page.getByRole('row', { name: /dana@example.com/ }).count()).toBe(1);
    await shot('admin-users');

    const narrow = await context.newPage();
    await narrow.setViewportSize({ width: 360, height: 780 });
    await narrow.goto(baseUrl);
    const overflow = await narrow.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    // The custom fieldset fits too.
    await narrow.getByLabel('Custom', { exact: true }).check();
    expect(await narrow.getByRole('group', { name: 'Custom permissions' }).isVisible()).toBe(true);
    expect(
      await narrow.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      ),
    ).toBeLessThanOrEqual(0);
    await narrow.getByLabel('Read-only').check();
    await narrow.screenshot({ path: join(SCREENSHOTS, 'narrow-tokens.png'), fullPage: true });
    await narrow.close();
  });

  it('a user who is no system admin gets a 403 page for the users page', { timeout: 120_000 }, async () => {
    const other = await chromium.launchPersistentContext(join(dir, 'profile-dana'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    try {
      const danaPage = other.pages()[0] ?? (await other.newPage());
      await danaPage.goto(`${url}/ui/login`);
      await danaPage.getByLabel('Email').fill('dana@example.com');
      await danaPage.getByLabel('Password').fill('another fine passphrase');
      await danaPage.getByRole('button', { name: 'Sign in' }).click();
      await danaPage.waitForURL(`${url}/ui/bases`);
      expect(await danaPage.getByRole('link', { name: 'Users' }).count()).toBe(0);
      const response = await danaPage.goto(`${url}/ui/admin/users`);
      expect(response?.status()).toBe(403);
      expect(await danaPage.content()).not.toContain(ADMIN.email);
    } finally {
      await other.close();
    }
  });

  it('signs out: the Account-Token behind the cookie is revoked', { timeout: 120_000 }, async () => {
    const token = (await sessionCookie())!.value;
    await page.goto(`${url}/ui/bases`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/ui\/login\?notice=signed-out$/);
    expect(await sessionCookie()).toBeUndefined();
    expect((await api('GET', '/api/v1/me', token)).status).toBe(401);
  });
});

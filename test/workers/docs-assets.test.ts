// /docs on Workers: Scalar's script comes from the [assets] binding wrangler.toml declares (the
// installed @scalar/api-reference's browser folder), served by the Worker at /docs/scalar.js, inside
// workerd as `wrangler dev` runs it. The folder's other files are not served: the Worker runs first.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrationsWithWrangler, startWorkerd, wranglerWorkerOptions } from './harness';

describe('/docs inside workerd, through the assets binding', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-workerd-docs-'));
  let run: Awaited<ReturnType<typeof startWorkerd>>;
  let origin: string;

  beforeAll(async () => {
    await applyMigrationsWithWrangler(dir);
    run = await startWorkerd(dir);
    origin = wranglerWorkerOptions().bindings.TOKENLADDER_ISSUER!;
  }, 60_000);
  afterAll(async () => {
    await run?.mf.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the page and Scalar's script, byte for byte the installed file", async () => {
    const page = await run.mf.dispatchFetch(`${origin}/docs`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/docs/scalar.js');
    const script = await run.mf.dispatchFetch(`${origin}/docs/scalar.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    const served = Buffer.from(await script.arrayBuffer());
    const installed = readFileSync(join(wranglerWorkerOptions().assets.directory, 'standalone.js'));
    expect(served.length).toBeGreaterThan(100_000);
    expect(served.equals(installed)).toBe(true);
  });

  it('does not serve the assets folder itself', async () => {
    const direct = await run.mf.dispatchFetch(`${origin}/standalone.js`);
    expect(direct.status).toBe(404);
    await direct.arrayBuffer();
  });
});

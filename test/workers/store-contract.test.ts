// The store contract (test/store/contract.ts) on D1: a local database migrated by
// `wrangler d1 migrations apply`, served by workerd through Miniflare, used from Node through its D1
// binding with createD1Store, as src/worker.ts uses it inside the Worker.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { describe, expect } from 'vitest';
import { createD1Store, type D1Binding } from '../../src/store/d1';
import { defineStoreContract, type StoreFixture } from '../store/contract';
import { applyMigrationsWithWrangler, wranglerWorkerOptions } from './harness';

/** A fresh local D1 (its own persist folder), migrated by wrangler, in a workerd of its own. */
async function openD1Store(): Promise<StoreFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-d1-contract-'));
  try {
    expect(await applyMigrationsWithWrangler(dir)).toMatch(/0001_init\.sql/);
    const wrangler = wranglerWorkerOptions();
    const mf = new Miniflare({
      // Only the binding is wanted: the contract drives D1 from Node, as worker.test.ts does.
      modules: true,
      script: 'export default { fetch: () => new Response(null, { status: 404 }) };',
      compatibilityDate: wrangler.compatibilityDate,
      compatibilityFlags: wrangler.compatibilityFlags,
      d1Databases: wrangler.d1Databases,
      d1Persist: join(dir, 'v3', 'd1'),
      cf: false,
    });
    const binding = (await mf.getD1Database('DB')) as unknown as D1Binding;
    return {
      ...createD1Store(binding),
      close: async () => {
        await mf.dispose();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

describe('the store contract on d1', () => {
  defineStoreContract('d1', openD1Store);
});

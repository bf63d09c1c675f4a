import { describe, expect, it } from 'vitest';
import { bundleWorker } from '../../scripts/check-worker-bundle';

describe('the Worker bundle check (scripts/check-worker-bundle.ts)', () => {
  it('passes the Worker entry: only node:crypto from the runtime, nothing Node-only', async () => {
    expect((await bundleWorker()).problems).toEqual([]);
  });

  it('catches Node-only modules: the Node entry fails it, naming what slipped in', async () => {
    const { problems } = await bundleWorker('src/node.ts');
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Node-only module bundled: node_modules\/better-sqlite3\//),
        expect.stringMatching(/^Node-only module bundled: node_modules\/@hono\/node-server\//),
        'runtime import node:fs (from src/runtime/node/database.ts) is not available on Workers',
        'runtime import node:path (from src/runtime/node/database.ts) is not available on Workers',
      ]),
    );
  });
});

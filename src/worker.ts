// The Cloudflare Workers entry (wrangler.toml `main`): createApp over D1, configured from `env`.
// node:crypto here is workerd's own under `nodejs_compat` (scrypt only); nothing else Node-only is
// imported, which scripts/check-worker-bundle.ts verifies on the bundle.
import { nodeScrypt } from './accounts/scrypt';
import { createWorkerHandler } from './workers/handler';

export default createWorkerHandler({ scrypt: nodeScrypt });

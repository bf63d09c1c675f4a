// The example downstream base service (examples/base-service.ts) behind the verifier middleware,
// verifying against tokenladder's JWKS URL as in production. Env: BENCH_ISSUER, BENCH_JWKS_URL.
import { createBaseService } from '../../examples/base-service';
import { createBaseTokenVerifier } from '../../src/verify';
import { serveFetch } from '../lib/child';

const verifier = createBaseTokenVerifier({
  issuer: process.env.BENCH_ISSUER!,
  jwksUrl: process.env.BENCH_JWKS_URL!,
});
serveFetch(createBaseService({ verifier }).fetch);

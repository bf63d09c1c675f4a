import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { z } from 'zod';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import type { AppEnv } from '../http/auth';
import { clientIp } from '../http/client-ip';
import { requireJsonBody, validate } from '../http/validate';
import {
  importScanningKeys,
  MAX_SCANNER_MATCHES,
  reportScannedTokens,
  SCANNER_SOURCE_MAX_CHARS,
  SCANNER_URL_MAX_CHARS,
  verifyScannerSignature,
} from '../incidents/secret-scanning';
import { scannerFeedbackSchema } from '../openapi/responses';
import { jsonResponse, routeDoc } from '../openapi/route-doc';
import { MAX_TOKEN_LENGTH } from '../verify/precheck';

/** Where GitHub posts matches (the URL an operator registers as a secret-scanning partner). */
export const GITHUB_SCANNING_PATH = '/api/v1/secret-scanning/github';

// Not strict: the body is GitHub's format, signed by GitHub; a field it adds one day must not turn
// every report into a 400 (unknown fields are dropped). `url` and `source` may be absent.
const githubReportBody = z
  .array(
    z.object({
      token: z.string().min(1).max(MAX_TOKEN_LENGTH),
      type: z.string().max(128),
      url: z.string().max(SCANNER_URL_MAX_CHARS).default(''),
      source: z.string().max(SCANNER_SOURCE_MAX_CHARS).default(''),
    }),
  )
  .min(1)
  .max(MAX_SCANNER_MATCHES);

const githubReportDoc = routeDoc({
  summary: "GitHub's secret-scanning partner endpoint",
  description:
    'GitHub posts the strings its scanners matched against our token patterns, signed with ECDSA P-256 ' +
    '(`Github-Public-Key-Identifier`, `Github-Public-Key-Signature`: base64 DER over the exact body) ' +
    'with one of the keys in TOKENLADDER_GITHUB_SCANNING_KEYS. Every match that is one of our tokens is ' +
    'revoked as `POST /api/v1/leaked-tokens` revokes it, its owner sees a `token.leak_report` record with ' +
    "the match's `url` and `source`; no per-address limit. The answer is GitHub's feedback: " +
    '`true_positive` for one of our tokens (revoked now or before), else `false_positive`. ' +
    `At most ${MAX_SCANNER_MATCHES} matches per report. A missing, unknown or wrong signature is a 401 ` +
    'and writes nothing. 404 when TOKENLADDER_GITHUB_SCANNING_KEYS is unset.',
  tags: ['Revocation and incidents'],
  auth: 'none',
  body: true,
  errors: [401, 404],
  parameters: [
    { name: 'Github-Public-Key-Identifier', in: 'header', required: true, schema: { type: 'string' } },
    { name: 'Github-Public-Key-Signature', in: 'header', required: true, schema: { type: 'string' } },
  ],
  responses: { 200: jsonResponse('One verdict per match, in order', scannerFeedbackSchema) },
});

/** Secret scanners that report leaks of our tokens for us: GitHub's partner program. */
export function secretScanningRoutes(deps: Deps) {
  const configured = deps.config.githubScanningKeys ?? null;
  // Imported on first use (Workers allow no crypto outside a request), then kept with this app.
  let keys: ReturnType<typeof importScanningKeys> | undefined;
  // Before anything reads the body as text: the signature covers the exact bytes.
  const signedByGithub = createMiddleware(async (c, next) => {
    if (configured === null)
      throw new AppError('not_found', 'GitHub secret scanning is not configured on this server');
    keys ??= importScanningKeys(configured);
    await verifyScannerSignature(
      await keys,
      new Uint8Array(await c.req.arrayBuffer()),
      c.req.header('github-public-key-identifier'),
      c.req.header('github-public-key-signature'),
    );
    await next();
  });
  return new Hono<AppEnv>().post(
    GITHUB_SCANNING_PATH,
    githubReportDoc,
    signedByGithub,
    requireJsonBody,
    validate('json', githubReportBody),
    async (c) => {
      const from = clientIp(c, deps.config.clientIpHeader);
      const verdicts = await reportScannedTokens(deps, c.req.valid('json'), 'github', from);
      return c.json(
        verdicts.map(({ token, type, label }) => ({ token_raw: token, token_type: type, label })),
      );
    },
  );
}

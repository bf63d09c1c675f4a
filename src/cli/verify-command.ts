// `tokenladder verify`: what a downstream service would decide about a Base-Token, with the
// verifier library (src/verify) against the server's JWKS and revocation feed. Loaded only when
// verify runs (jose). Exit codes: 1 invalid, 4 revoked, 5 could not check (src/cli/exit-codes.ts).
import {
  BaseTokenError,
  createBaseTokenVerifier,
  createRevocationList,
  type BaseTokenClaims,
} from '../verify';
import { anonymousClient, type ClientOptions } from './context';
import { CliError, EXIT } from './exit-codes';
import { ok, unreachable } from './http';
import { printJson } from './output';

/** Syncs a long feed reads at most: each reads up to 100 pages. */
const MAX_SYNCS = 10;

export interface Verdict {
  valid: true;
  revoked: false;
  claims: BaseTokenClaims;
  revocations_checked_at: string;
}

/** Decodes the payload without verifying it: only to learn which base the token names. */
function unverifiedAudience(token: string): unknown {
  const payload = token.split('.')[1];
  if (token.split('.').length !== 3 || !payload) return undefined;
  try {
    return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { aud?: unknown }).aud;
  } catch {
    return undefined;
  }
}

export async function verifyBaseToken(
  token: string,
  server: string,
  options: ClientOptions & { base?: string },
): Promise<Verdict> {
  /** Not a valid Base-Token (exit 1); with --json, the verdict on stdout too. */
  const invalid = (code: string, message: string, hint?: string) => {
    if (options.json) printJson({ valid: false, code, message });
    return new CliError(`invalid Base-Token: ${message}`, EXIT.failure, { code, hint });
  };
  // Opaque tokens are never sent anywhere by verify; the prefix says what they are.
  if (token.startsWith('tl_api_'))
    throw invalid(
      'not_a_base_token',
      'this is an API-Token, not a Base-Token',
      'exchange it first: tokenladder exchange --api-token-stdin (or TOKENLADDER_API_TOKEN), then verify the Base-Token it prints',
    );
  if (token.startsWith('tl_acc_'))
    throw invalid(
      'not_a_base_token',
      'this is an Account-Token, not a Base-Token',
      'exchange it for a base first: tokenladder exchange --base <uuid> (with it in TOKENLADDER_TOKEN), then verify the Base-Token it prints',
    );

  let info: { issuer: string; base_token: { lifetime_seconds: number; audience_prefix: string } };
  try {
    info = ok(await anonymousClient({ ...options, server }).GET('/api/v1/server-info'), 'none');
  } catch (error) {
    // Without the server's facts nothing can be checked: that is never "invalid".
    if (error instanceof CliError) throw new CliError(error.message, EXIT.unavailable, error.details);
    throw error;
  }

  let audience: string | undefined;
  if (!options.base) {
    const aud = unverifiedAudience(token);
    if (aud === undefined) throw invalid('token_malformed', 'not a JWT');
    if (typeof aud !== 'string' || !aud.startsWith(info.base_token.audience_prefix))
      throw invalid('token_audience_mismatch', 'the token names no tokenladder base');
    audience = aud;
  }

  // The feed, read to its end once (no background polling); failures are kept for after the signature check.
  const feedUrl = `${server}/api/v1/revocations`;
  let feedStatus: number | undefined;
  const feedToken = process.env.TOKENLADDER_REVOCATIONS_TOKEN;
  const revocations = createRevocationList({
    url: feedUrl,
    ...(feedToken && { headers: { authorization: `Bearer ${feedToken}` } }),
    fetch: async (input, init) => {
      try {
        const response = await fetch(input, init);
        feedStatus = response.status;
        return response;
      } catch (error) {
        throw unreachable(server, feedUrl, error);
      }
    },
  });
  let feedError: unknown;
  try {
    for (let syncs = 0; syncs < MAX_SYNCS && !revocations.status().complete; syncs++)
      await revocations.sync();
  } catch (error) {
    feedError = error;
  }

  const verifier = createBaseTokenVerifier({
    issuer: info.issuer,
    jwksUrl: `${server}/.well-known/jwks.json`,
    lifetimeSeconds: info.base_token.lifetime_seconds,
    cache: false,
  });
  let claims: BaseTokenClaims;
  try {
    claims = await verifier.verify(
      token,
      options.base ? { baseUuid: options.base } : { audience: audience! },
    );
  } catch (error) {
    if (!(error instanceof BaseTokenError)) throw error;
    if (error.code === 'jwks_unavailable')
      throw new CliError(
        `could not check: the signing keys at ${server}/.well-known/jwks.json could not be read`,
        EXIT.unavailable,
        {
          code: error.code,
          url: `${server}/.well-known/jwks.json`,
          hint: 'is tokenladder running there? retry later, or set --server',
        },
      );
    throw invalid(error.code, error.message.replace(/\.$/, '').replace(/^The/, 'the'));
  }

  if (feedError !== undefined || !revocations.status().complete) {
    const reason =
      feedError instanceof CliError
        ? feedError.message
        : feedError instanceof Error
          ? feedError.message
          : 'the feed is longer than one check reads';
    throw new CliError(
      `could not check: the signature and claims are valid, but the revocation feed ${feedUrl} could not be read (${reason})`,
      EXIT.unavailable,
      {
        code: 'revocations_unavailable',
        url: feedUrl,
        ...(feedStatus !== undefined && { status: feedStatus }),
        hint:
          feedStatus === 401
            ? 'the feed is private: set TOKENLADDER_REVOCATIONS_TOKEN to its credential'
            : 'retry later',
      },
    );
  }
  try {
    revocations.check(claims);
  } catch (error) {
    if (!(error instanceof BaseTokenError) || error.code !== 'token_revoked') throw error;
    if (options.json) printJson({ valid: false, revoked: true, code: error.code, claims });
    throw new CliError(
      `revoked Base-Token: its signature and claims are valid, but the revocation feed lists it (jti ${claims.jti}, source ${claims.client_id}); every verifier refuses it`,
      EXIT.revoked,
      { code: 'token_revoked', url: feedUrl },
    );
  }
  return { valid: true, revoked: false, claims, revocations_checked_at: new Date().toISOString() };
}

// How client commands talk to the server: a fetch that names the URL when it cannot connect, and a
// check of each answer that names the URL, the server's code, Retry-After and the next step.
import { createClient, type TokenladderClient } from '../client';
import { CliError, EXIT, type ErrorDetails } from './exit-codes';

/** Seconds a request may take before the command gives up (connection and answer). */
const TIMEOUT_SECONDS = 30;

const SET_SERVER = 'set --server or TOKENLADDER_URL';

/** Why fetch failed, in words: undici puts the system error in `cause`. */
function networkReason(error: unknown): { reason: string; hint: string } {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return { reason: `no answer within ${TIMEOUT_SECONDS} s`, hint: 'is the server overloaded? retry later' };
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? '';
  const hint = `is tokenladder running there? ${SET_SERVER}`;
  if (code === 'ECONNREFUSED') return { reason: 'connection refused', hint };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { reason: 'host not found', hint: SET_SERVER };
  if (code === 'ECONNRESET') return { reason: 'connection reset', hint };
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT')
    return { reason: 'connection timed out', hint };
  if (/CERT|SSL|TLS|SELF_SIGNED/.test(code))
    return {
      reason: `TLS certificate problem (${code})`,
      hint: 'check the server certificate, or NODE_EXTRA_CA_CERTS for a private CA',
    };
  if (code === 'UND_ERR_SOCKET' || /wrong version number/i.test(cause?.message ?? ''))
    return {
      reason: `the connection failed (${cause?.message ?? code})`,
      hint: `http:// or https://? ${SET_SERVER}`,
    };
  return { reason: cause?.message ?? (error as Error).message ?? 'network error', hint };
}

/** The error of a request that got no answer: it names the server and what to try. */
export function unreachable(server: string, url: string, error: unknown): CliError {
  const { reason, hint } = networkReason(error);
  return new CliError(`cannot reach ${server}: ${reason}`, EXIT.unavailable, {
    code: 'unreachable',
    hint,
    url,
  });
}

/** The request of each answer, so an error can name its method and URL. */
export const requestOf = new WeakMap<Response, Request>();

/** fetch with a timeout; a failure to connect becomes {@link unreachable}. */
export function fetchFor(server: string) {
  return async (request: Request): Promise<Response> => {
    try {
      const response = await fetch(request, { signal: AbortSignal.timeout(TIMEOUT_SECONDS * 1000) });
      requestOf.set(response, request);
      return response;
    } catch (error) {
      throw unreachable(server, request.url, error);
    }
  };
}

export function clientFor(server: string, token?: string): TokenladderClient {
  return createClient({ baseUrl: server, token, fetch: fetchFor(server) });
}

/**
 * Whose credential a request carried, for the next step after a 401: the stored login, the
 * TOKENLADDER_TOKEN variable, an API-Token, a password (login) or none.
 */
export type Credential = 'account' | 'api-token' | 'password' | 'none';

function refusedHint(credential: Credential): string | undefined {
  if (credential === 'account')
    return process.env.TOKENLADDER_TOKEN
      ? 'TOKENLADDER_TOKEN was refused: set a valid Account-Token, or unset it and run tokenladder login'
      : 'run tokenladder login';
  if (credential === 'api-token') return 'check the API-Token: tokenladder api-tokens list shows its status';
  if (credential === 'password') return 'check the email and password';
  return undefined;
}

/**
 * The data of a successful answer; otherwise a {@link CliError} naming the request, the server's
 * error code and message, its request id and `Retry-After`, and the next step.
 */
export function ok<Data>(
  result: { data?: Data; error?: unknown; response: Response },
  credential: Credential = 'account',
): Data {
  const { response } = result;
  if (response.ok && result.error === undefined) return result.data as Data;
  const body = (result.error ?? {}) as {
    error?: { code?: unknown; message?: unknown; request_id?: unknown };
  };
  const request = requestOf.get(response);
  const url = request?.url ?? response.url;
  const method = request?.method ?? 'GET';
  const status = response.status;
  const retryAfter = Number.parseInt(response.headers.get('retry-after') ?? '', 10);
  const requestId =
    typeof body.error?.request_id === 'string'
      ? body.error.request_id
      : (response.headers.get('x-request-id') ?? undefined);
  const details: ErrorDetails = {
    url,
    status,
    ...(Number.isFinite(retryAfter) && { retry_after: retryAfter }),
    ...(requestId && { request_id: requestId }),
  };
  const ours = typeof body.error?.code === 'string' && typeof body.error.message === 'string';
  const code = ours ? (body.error!.code as string) : `http_${status}`;
  const message = ours ? (body.error!.message as string) : `HTTP ${status}`;
  let hint: string | undefined;
  let exitCode: (typeof EXIT)[keyof typeof EXIT] = EXIT.failure;
  if (!ours && status < 500)
    hint = `the answer is not tokenladder's: is ${new URL(url).origin} a tokenladder server? ${SET_SERVER}`;
  else if (status === 401) {
    exitCode = EXIT.auth;
    hint = refusedHint(credential);
  } else if (status === 429 || status === 502 || status === 503 || status === 504) {
    exitCode = EXIT.unavailable;
    hint = Number.isFinite(retryAfter) ? `retry after ${retryAfter} s` : 'retry later';
  } else if (status >= 500)
    hint = `the server failed; its operator can find request id ${requestId ?? '(none)'} in its log`;
  throw new CliError(`${method} ${url}: ${message} (${code}, HTTP ${status})`, exitCode, {
    code,
    hint,
    ...details,
  });
}

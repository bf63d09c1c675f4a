/** A failed request: the HTTP status and, for the native API, tokenladder's stable error code. */
export class TokenladderError extends Error {
  constructor(
    readonly status: number,
    /** e.g. `token_expired`, `insufficient_permission` (README, Errors); `http_<status>` when the body had none. */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'TokenladderError';
  }
}

/**
 * The data of a successful openapi-fetch result, or a thrown {@link TokenladderError}.
 * @example const me = unwrap(await client.GET('/api/v1/me'));
 */
export function unwrap<Data>(result: { data?: Data; error?: unknown; response: Response }): Data {
  if (result.response.ok && result.error === undefined) return result.data as Data;
  throw errorOf(result.response.status, result.error);
}

function errorOf(status: number, body: unknown): TokenladderError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (typeof error?.code === 'string' && typeof error.message === 'string')
    return new TokenladderError(status, error.code, error.message);
  // SeaTable-compatible routes answer {detail} or {error_msg}.
  const other = body as { detail?: unknown; error_msg?: unknown } | undefined;
  const message =
    typeof other?.detail === 'string'
      ? other.detail
      : typeof other?.error_msg === 'string'
        ? other.error_msg
        : `HTTP ${status}`;
  return new TokenladderError(status, `http_${status}`, message);
}

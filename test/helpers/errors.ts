import { expect } from 'vitest';
import { REQUEST_ID_PATTERN } from '../../src/http/hygiene';

/** Any request id the app hands out: a UUID it made, or the caller's own id if it was plain. */
export const anyRequestId = () => expect.stringMatching(REQUEST_ID_PATTERN);

/**
 * The native error body, exactly: `{error: {code, message, request_id}}`. Tests compare whole bodies
 * through this, so a new field still fails them and the request id is checked, not ignored.
 */
export function errorBody(code: string, message: unknown = expect.any(String)) {
  return { error: { code, message, request_id: anyRequestId() } };
}

import type { Principal } from '../accounts/principal';
import type { Deps } from '../deps';
import { AppError, type ErrorCode } from '../errors';
import { allows, type ScopeAction } from '../verify/scopes';
import { manageableApiToken } from './api-tokens';
import { evaluateApiToken, loadApiTokenForExchange, type ExchangeRequest } from './base-tokens';
import { claimsOf } from './grants';

/** Whether an exchange (or an action with its Base-Token) would be allowed, and if not why. */
export interface Explanation {
  allowed: boolean;
  /** The base the exchange would be for, if known. */
  baseUuid: string | null;
  /** The error code a refusal would carry. */
  code: ErrorCode | null;
  reason: string | null;
  /** What a Base-Token would carry. */
  effective: ReturnType<typeof claimsOf> | null;
}

/**
 * Tells a token's owner (or an admin of its base) why an exchange or an action would be refused:
 * the same evaluation the exchange runs, reported instead of thrown. Never shown to the caller of a
 * failed request, who only gets the status and code.
 */
export async function explainApiToken(
  deps: Pick<Deps, 'db' | 'clock'>,
  principal: Principal,
  id: string,
  request: ExchangeRequest & { action?: ScopeAction },
): Promise<Explanation> {
  await manageableApiToken(deps, principal, id);
  const token = (await loadApiTokenForExchange(deps, id, request.baseUuid))!;
  try {
    const { baseUuid, scopes } = await evaluateApiToken(deps, token, request);
    const granted = claimsOf(scopes);
    if (request.action && !allows(scopes, request.action, request.table)) {
      return {
        allowed: false,
        baseUuid,
        code: 'insufficient_permission',
        reason: `the effective grant does not include ${request.action}`,
        effective: granted,
      };
    }
    return { allowed: true, baseUuid, code: null, reason: null, effective: granted };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return {
      allowed: false,
      baseUuid: request.baseUuid ?? token.base_id,
      code: error.code,
      reason: error.message,
      effective: null,
    };
  }
}

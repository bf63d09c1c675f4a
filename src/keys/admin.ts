import { isOperator, isSystemAdmin, type Caller } from '../accounts/operator';
import { actorOf } from '../audit/events';
import type { Deps } from '../deps';
import { forbidden } from '../errors';
import type { KeyInfo, SigningAlg } from './signing-keys';

/** Only system admins (and the operator) manage signing keys; the routes apply it before validation too. */
export function authorizeKeyAdmin(caller: Caller): void {
  if (!isSystemAdmin(caller)) throw forbidden('only system admins manage signing keys');
}

/** The signing keys and their states, for system admins and the operator. */
export async function listSigningKeys(deps: Pick<Deps, 'keys'>, caller: Caller): Promise<KeyInfo[]> {
  authorizeKeyAdmin(caller);
  return deps.keys.list();
}

/**
 * Rotates the signing key (see KeyRing.rotate), for system admins and the operator; `alg` overrides
 * the configured algorithm for the new key. A user's rotation is recorded as theirs; the operator's
 * with no actor.
 */
export async function rotateSigningKey(
  deps: Pick<Deps, 'keys'>,
  caller: Caller,
  options: { activateAfterSeconds: number; revokeOld: boolean; alg?: SigningAlg },
): Promise<KeyInfo> {
  authorizeKeyAdmin(caller);
  return deps.keys.rotate({ ...options, actor: isOperator(caller) ? null : actorOf(caller) });
}

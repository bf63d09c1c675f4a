import type { Principal } from './principal';

/**
 * The operator at the server's console (the `tokenladder` command, with the database and the key
 * encryption key in hand): allowed what a system admin is, with no account behind it.
 */
export const OPERATOR = { operator: true } as const;
export type Operator = typeof OPERATOR;

/** Who calls an administrative domain function: a signed-in user, or the operator. */
export type Caller = Principal | Operator;

export const isOperator = (caller: Caller): caller is Operator => 'operator' in caller;

/** System admins, and the operator. Anyone else is a signed-in user with a lesser role. */
export function isSystemAdmin(caller: Caller): caller is Operator | (Principal & { role: 'system_admin' }) {
  return isOperator(caller) || caller.role === 'system_admin';
}

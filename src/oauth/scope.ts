import type { ExchangeRequest } from '../tokens/base-tokens';
import {
  CATEGORIES,
  normalizeScopes,
  RECORD_OPERATIONS,
  scopesOfPermission,
  type Category,
  type Level,
  type RecordOperation,
  type Scopes,
  type TableList,
} from '../verify/scopes';
import { OAuthError } from './errors';

const MAX_SCOPE_VALUES = 40;
const TABLE = /^table:([A-Za-z0-9_-]{1,64})$/;
const ACTION = /^([a-z]+):([a-z]+)$/;

/**
 * An OAuth `scope` request parameter as an attenuation of the exchange: the same vocabulary as the
 * Base-Token's `scope` claim (`base:r|rw|admin`, `<category>:read|write`,
 * `records:create|read|update|delete`; src/verify/scopes.ts, scopeString), plus `table:<id>` to
 * narrow record operations to one table. What is asked is the union of the values; it may only be
 * less than the token grants (the exchange refuses more with `invalid_scope`). An unknown value is
 * `invalid_scope`, never ignored: a client must not get more than it asked for by a typo.
 *
 * @example
 * ```ts
 * scopeRequest('records:read comments:read table:tbl1');
 * // { scopes: { v: 1, c: { comments: 'r', records: 'r' }, t: { read: ['tbl1'], … } }, table: 'tbl1' } (table narrowing applied by the exchange)
 * ```
 */
export function scopeRequest(scope: string | undefined): Pick<ExchangeRequest, 'scopes' | 'table'> {
  if (scope === undefined) return {};
  // RFC 6749 §3.3: space-delimited; repeated spaces are tolerated, nothing else is.
  const values = [...new Set(scope.split(' ').filter((value) => value !== ''))];
  if (values.length === 0) return {};
  if (values.length > MAX_SCOPE_VALUES)
    throw new OAuthError('invalid_scope', `at most ${MAX_SCOPE_VALUES} scope values`);
  const c: Partial<Record<Category, Level>> = {};
  const t: Record<RecordOperation, TableList> = { create: [], read: [], update: [], delete: [] };
  let table: string | undefined;
  let asked = false;
  const grant = (category: Category, level: Level) => {
    if (category === 'records') {
      for (const op of RECORD_OPERATIONS) if (level === 'rw' || op === 'read') t[op] = ['*'];
    } else if (c[category] !== 'rw') c[category] = level;
  };
  for (const value of values) {
    const tableMatch = TABLE.exec(value);
    if (tableMatch) {
      if (table !== undefined && table !== tableMatch[1])
        throw new OAuthError('invalid_scope', 'at most one table:<id> per request');
      table = tableMatch[1];
      continue;
    }
    asked = true;
    const [, subject, verb] = ACTION.exec(value) ?? [];
    if (subject === 'base' && (verb === 'r' || verb === 'rw' || verb === 'admin')) {
      const coarse = scopesOfPermission(verb);
      for (const category of CATEGORIES) grant(category, coarse.c[category]!);
    } else if (
      (CATEGORIES as readonly string[]).includes(subject ?? '') &&
      (verb === 'read' || verb === 'write')
    ) {
      grant(subject as Category, verb === 'write' ? 'rw' : 'r');
    } else if (subject === 'records' && (RECORD_OPERATIONS as readonly string[]).includes(verb ?? '')) {
      t[verb as RecordOperation] = ['*'];
    } else {
      throw new OAuthError(
        'invalid_scope',
        `unknown scope value ${JSON.stringify(value.slice(0, 80))}: use base:r|rw|admin, <category>:read|write, records:create|read|update|delete or table:<id>`,
      );
    }
  }
  const scopes: Scopes | undefined = asked ? normalizeScopes({ v: 1, c, t }) : undefined;
  return { ...(scopes && { scopes }), ...(table !== undefined && { table }) };
}

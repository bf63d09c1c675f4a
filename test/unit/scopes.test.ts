import { describe, expect, it } from 'vitest';
import { claimsOf, ceilingOf, COARSE_SCOPES } from '../../src/tokens/grants';
import { can, type BaseTokenClaims } from '../../src/verify';
import {
  allows,
  CATEGORIES,
  intersectScopes,
  isSubsetOf,
  normalizeScopes,
  parseScopes,
  RECORD_OPERATIONS,
  scopesOfPermission,
  type Category,
  type Level,
  type RecordOperation,
  type ScopeAction,
  type Scopes,
} from '../../src/verify/scopes';

/** A small deterministic PRNG, so the property runs are reproducible. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

const TABLES = ['t1', 't2', 't3'];
const ACTIONS: ScopeAction[] = [
  ...CATEGORIES.flatMap((c) => [`${c}:read`, `${c}:write`] as ScopeAction[]),
  ...RECORD_OPERATIONS.map((op) => `records:${op}` as ScopeAction),
];

function randomScopes(next: () => number): Scopes {
  const c: Partial<Record<Category, Level>> = {};
  for (const category of CATEGORIES) {
    const roll = next();
    if (roll < 0.33) c[category] = 'r';
    else if (roll < 0.66) c[category] = 'rw';
  }
  if (next() < 0.5) return normalizeScopes({ v: 1, c });
  const list = () => (next() < 0.3 ? ['*'] : TABLES.filter(() => next() < 0.5));
  const t = Object.fromEntries(RECORD_OPERATIONS.map((op) => [op, list()])) as unknown as Record<
    RecordOperation,
    readonly string[]
  >;
  return normalizeScopes({ v: 1, c, t });
}

/** Every (action, table) pair a scopes object allows. */
function allowed(scopes: Scopes): Set<string> {
  const out = new Set<string>();
  for (const action of ACTIONS)
    for (const table of [undefined, ...TABLES])
      if (allows(scopes, action, table)) out.add(`${action}@${table}`);
  return out;
}

const claimsFor = (scopes: Scopes): BaseTokenClaims => ({
  iss: 'i',
  aud: 'a',
  sub: 's',
  iat: 0,
  exp: 1,
  jti: 'j',
  client_id: 'c',
  token_type: 'api_token',
  token_name: 'n',
  base_uuid: '00000000-0000-4000-8000-000000000000',
  ...claimsOf(scopes),
});

describe('scopes (the scp claim)', () => {
  it('never grants more than the owner holds or the token grants, whatever the combination (property, 2000 cases)', () => {
    const next = random(42);
    const violations: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const grant = randomScopes(next);
      const role = (['r', 'rw', 'admin'] as const)[Math.floor(next() * 3)]!;
      const effective = intersectScopes(grant, ceilingOf(role));
      const context = `case ${i}: ${JSON.stringify(grant)} ∩ ${role}`;
      if (!isSubsetOf(effective, grant) || !isSubsetOf(effective, ceilingOf(role)))
        violations.push(`${context}: not a subset`);
      const effectiveAllowed = allowed(effective);
      const grantAllowed = allowed(grant);
      const roleAllowed = allowed(ceilingOf(role));
      for (const entry of effectiveAllowed)
        if (!grantAllowed.has(entry) || !roleAllowed.has(entry))
          violations.push(`${context}: ${entry} exceeds`);
      // What the Base-Token says (coarse permission and scp) is exactly what was computed: a verifier's can() agrees.
      const claims = claimsFor(effective);
      for (const action of ACTIONS) {
        for (const table of [undefined, ...TABLES]) {
          if (can(claims, action, { table }) !== effectiveAllowed.has(`${action}@${table}`))
            violations.push(`${context}: can(${action}@${table}) disagrees`);
        }
      }
      // A service that reads only the coarse permission never sees more than the scopes allow.
      if (claims.permission !== 'custom') {
        for (const entry of allowed(scopesOfPermission(claims.permission)))
          if (!effectiveAllowed.has(entry))
            violations.push(`${context}: coarse ${claims.permission} exceeds at ${entry}`);
      }
    }
    expect(violations.slice(0, 5)).toEqual([]);
  });

  it('has a shortcut for shorthand tokens that equals the general intersection', () => {
    for (const token of ['r', 'rw'] as const) {
      for (const role of ['r', 'rw', 'admin'] as const) {
        const general = intersectScopes(scopesOfPermission(token), ceilingOf(role));
        const shortcut = COARSE_SCOPES[token === 'r' || role === 'r' ? 'r' : 'rw'];
        expect(shortcut, `${token} ∩ ${role}`).toEqual(general);
        expect(claimsOf(shortcut)).toEqual(claimsOf(general));
      }
    }
  });

  it('writes the coarse permission alone when the grant is exactly one', () => {
    expect(claimsOf(scopesOfPermission('rw'))).toEqual({ permission: 'rw' });
    expect(claimsOf(scopesOfPermission('admin'))).toEqual({ permission: 'admin' });
    const recordsOnly = normalizeScopes({ v: 1, c: { records: 'r' } });
    expect(claimsOf(recordsOnly)).toEqual({ permission: 'custom', scp: { v: 1, c: { records: 'r' } } });
  });

  it('checks per-table record operations', () => {
    const scopes = normalizeScopes({
      v: 1,
      c: { comments: 'r' },
      t: { create: ['t1'], read: ['*'], update: ['t1'], delete: [] },
    });
    expect(scopes.c.records).toBe('rw');
    expect(allows(scopes, 'records:read', 't2')).toBe(true);
    expect(allows(scopes, 'records:update', 't1')).toBe(true);
    expect(allows(scopes, 'records:update', 't2')).toBe(false);
    expect(allows(scopes, 'records:update')).toBe(false); // without a table: every table is needed
    expect(allows(scopes, 'records:write', 't1')).toBe(false); // delete is missing
    expect(allows(scopes, 'comments:read')).toBe(true);
    expect(allows(scopes, 'comments:write')).toBe(false);
    expect(allows(scopes, 'webhooks:read')).toBe(false);
  });

  it('reads untrusted scp values strictly', () => {
    expect(parseScopes({ v: 1, c: { records: 'rw' } })).toEqual({ v: 1, c: { records: 'rw' } });
    for (const bad of [
      null,
      'rw',
      { v: 2, c: {} },
      { v: 1, c: { records: 'admin' } },
      { v: 1, c: { root: 'r' } },
      { v: 1, c: {}, t: { read: ['x'] } },
      { v: 1, c: {}, t: { create: [], read: ['../x'], update: [], delete: [] } },
    ]) {
      expect(parseScopes(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });
});

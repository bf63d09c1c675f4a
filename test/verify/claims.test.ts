import { describe, it, expect } from 'vitest';
import { BaseTokenError, baseAudience, canRead, canWrite, type BaseTokenClaims } from '../../src/verify';
import { BASE_A, claims } from './helpers';

const withPermission = (permission: string) => claims({ permission }) as unknown as BaseTokenClaims;

describe('permission helpers', () => {
  it.each([
    ['r', true, false],
    ['rw', true, true],
    ['admin', true, true],
  ])('%s: canRead %s, canWrite %s', (permission, read, write) => {
    expect(canRead(withPermission(permission))).toBe(read);
    expect(canWrite(withPermission(permission))).toBe(write);
  });

  it('unknown permissions grant nothing', () => {
    expect(canRead(withPermission('root'))).toBe(false);
    expect(canWrite(withPermission('root'))).toBe(false);
  });
});

describe('baseAudience', () => {
  it('builds the urn and lower-cases the uuid', () => {
    expect(baseAudience(BASE_A)).toBe(`urn:tokenladder:base:${BASE_A}`);
    expect(baseAudience(BASE_A.toUpperCase())).toBe(`urn:tokenladder:base:${BASE_A}`);
  });

  it.each(['', 'base-a', `${BASE_A}x`, `../${BASE_A}`])('throws TypeError for %j', (uuid) => {
    expect(() => baseAudience(uuid)).toThrow(TypeError);
  });
});

describe('BaseTokenError', () => {
  it('is 401 for token faults and 503 for jwks_unavailable, with fixed messages', () => {
    const expired = new BaseTokenError('token_expired');
    expect(expired).toBeInstanceOf(Error);
    expect(expired).toMatchObject({ name: 'BaseTokenError', code: 'token_expired', status: 401 });
    expect(new BaseTokenError('jwks_unavailable').status).toBe(503);
  });
});

import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { sha256Hex } from '../../src/lib/bytes';
import { mintOpaqueToken, parseOpaqueToken } from '../../src/tokens/opaque';

describe('opaque token format', () => {
  it('carries a type prefix, an id, 200 random bits and a checksum', async () => {
    const account = await mintOpaqueToken('account');
    const api = await mintOpaqueToken('api');
    expect(account.token).toMatch(/^tl_acc_[a-z2-7]{63}$/);
    expect(api.token).toMatch(/^tl_api_[a-z2-7]{63}$/);
    expect(account.token.slice(7, 23)).toBe(account.id);
    expect(parseOpaqueToken(account.token)).toEqual({ kind: 'account', id: account.id });
    expect(parseOpaqueToken(api.token)).toEqual({ kind: 'api', id: api.id });
    // Minted with Web Crypto, looked up with Node's native hash: the two must agree.
    expect(account.hash).toBe(await sha256Hex(account.token));
    expect(account.hash).toBe(createHash('sha256').update(account.token).digest('hex'));
    expect(account.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('never repeats ids or secrets', async () => {
    const tokens = await Promise.all(Array.from({ length: 2000 }, () => mintOpaqueToken('api')));
    expect(new Set(tokens.map((token) => token.id)).size).toBe(2000);
    expect(new Set(tokens.map((token) => token.token.slice(23, 63))).size).toBe(2000);
  });

  it('rejects every single-character typo and truncation by checksum', async () => {
    const { token } = await mintOpaqueToken('account');
    for (let i = 7; i < token.length; i++) {
      const typo = token.slice(0, i) + (token[i] === 'a' ? 'b' : 'a') + token.slice(i + 1);
      expect(parseOpaqueToken(typo), `position ${i}`).toBeNull();
    }
    expect(parseOpaqueToken(token.slice(0, -1))).toBeNull();
    expect(parseOpaqueToken(token.toUpperCase())).toBeNull();
    expect(parseOpaqueToken(token.replace('tl_acc_', 'tl_api_'))).toBeNull();
    expect(parseOpaqueToken(`${token} `)).toBeNull();
  });
});

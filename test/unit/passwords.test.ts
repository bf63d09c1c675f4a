import { describe, expect, it, vi } from 'vitest';
import {
  createPasswordHasher,
  DEFAULT_SCRYPT,
  scryptParamsProblem,
  type ScryptFunction,
} from '../../src/accounts/passwords';
import { nodeScrypt } from '../../src/accounts/scrypt';

describe('password hashing (scrypt, PHC strings)', () => {
  it('uses N=2^15, r=8, p=3 by default and writes the parameters beside the hash', async () => {
    const hasher = createPasswordHasher({ scrypt: nodeScrypt, params: DEFAULT_SCRYPT });
    const phc = await hasher.hash('correct horse battery staple');
    expect(phc).toMatch(/^\$scrypt\$ln=15,r=8,p=3\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await hasher.verify('correct horse battery staple', phc)).toEqual({
      ok: true,
      needsRehash: false,
    });
    expect(await hasher.verify('correct horse battery stapl', phc)).toEqual({
      ok: false,
      needsRehash: false,
    });
  });

  it('computes RFC 7914 scrypt (test vector 2)', async () => {
    const key = await nodeScrypt(new TextEncoder().encode('password'), new TextEncoder().encode('NaCl'), {
      N: 1024,
      r: 8,
      p: 16,
      keylen: 64,
      maxmem: 64 * 1024 * 1024,
    });
    expect(Buffer.from(key).toString('hex')).toBe(
      'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640',
    );
  });

  it('refuses parameters out of bounds, at construction and in stored hashes, before any work', async () => {
    expect(scryptParamsProblem({ ln: 15, r: 8, p: 3 })).toBeNull();
    expect(scryptParamsProblem({ ln: 16, r: 8, p: 3 })).toMatch(/2\^20/); // Workers' cap
    expect(scryptParamsProblem({ ln: 9, r: 8, p: 1 })).not.toBeNull();
    expect(scryptParamsProblem({ ln: 15, r: 8, p: 5 })).not.toBeNull();
    expect(() => createPasswordHasher({ scrypt: nodeScrypt, params: { ln: 30, r: 8, p: 1 } })).toThrow(
      /invalid scrypt parameters/,
    );

    const scrypt = vi.fn<ScryptFunction>(nodeScrypt);
    const hasher = createPasswordHasher({ scrypt, params: { ln: 10, r: 8, p: 1 } });
    const tampered = `$scrypt$ln=30,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$${'A'.repeat(43)}`;
    expect(await hasher.verify('whatever', tampered)).toEqual({ ok: false, needsRehash: false });
    // One derivation only: the dummy hash (made once) and its check, never the 2^30 one.
    for (const call of scrypt.mock.calls) expect(call[2].N).toBe(1024);
  });

  it('flags a hash made with other parameters for a rehash', async () => {
    const old = createPasswordHasher({ scrypt: nodeScrypt, params: { ln: 10, r: 8, p: 1 } });
    const current = createPasswordHasher({ scrypt: nodeScrypt, params: { ln: 11, r: 8, p: 1 } });
    expect(await current.verify('pw', await old.hash('pw'))).toEqual({ ok: true, needsRehash: true });
  });

  it('bounds concurrent hashes and turns away the excess with 503', async () => {
    let running = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    const slowScrypt: ScryptFunction = async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => release.push(resolve));
      running--;
      return new Uint8Array(32);
    };
    const hasher = createPasswordHasher({
      scrypt: slowScrypt,
      params: { ln: 10, r: 8, p: 1 },
      maxConcurrent: 2,
      maxQueued: 3,
    });
    const pending = Array.from({ length: 5 }, () => hasher.hash('x'));
    await expect(hasher.hash('x')).rejects.toMatchObject({
      code: 'service_unavailable',
      retryAfterSeconds: 1,
    });
    while (release.length > 0 || running > 0) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      release.shift()?.();
    }
    await Promise.all(pending);
    expect(peak).toBe(2);
  });
});

// node:crypto's scrypt: native and off the event loop on Node; the same function exists on Workers
// under nodejs_compat, so both runtimes write and read identical PHC strings. Imported only by entries.
import { scrypt } from 'node:crypto';
import type { ScryptFunction } from './passwords';

export const nodeScrypt: ScryptFunction = (password, salt, { keylen, ...options }) =>
  new Promise((resolve, reject) => {
    scrypt(password, salt, keylen, options, (error, key) =>
      error ? reject(error) : resolve(new Uint8Array(key)),
    );
  });

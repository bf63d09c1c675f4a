import { base64url, fromBase64url, randomBytes } from '../lib/bytes';

/**
 * The key-encryption key (KEK) seals signing keys at rest: AES-256-GCM, the key id as associated data,
 * so a sealed private key cannot be moved to another row. The KEK itself never enters the database.
 */
export async function importKek(encoded: string): Promise<CryptoKey> {
  const raw = /^[A-Za-z0-9_-]{43}$/.test(encoded) ? fromBase64url(encoded) : null;
  if (raw?.length !== 32)
    throw new Error('the key-encryption key must be 32 bytes, base64url-encoded (43 characters)');
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

export const generateKekText = (): string => base64url(randomBytes(32));

export async function seal(kek: CryptoKey, plaintext: string, associatedData: string): Promise<string> {
  const iv = randomBytes(12);
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(associatedData) },
    kek,
    new TextEncoder().encode(plaintext),
  );
  return `v1.${base64url(iv)}.${base64url(new Uint8Array(sealed))}`;
}

export async function unseal(kek: CryptoKey, sealed: string, associatedData: string): Promise<string> {
  const [version, iv, data] = sealed.split('.');
  if (version !== 'v1' || !iv || !data) throw new Error('unknown sealed key format');
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: fromBase64url(iv), additionalData: new TextEncoder().encode(associatedData) },
    kek,
    fromBase64url(data),
  );
  return new TextDecoder().decode(plain);
}

// Fixtures for the DPoP tests: client key pairs and proofs made with jose, as a client would make them.
import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { NOW_S } from './helpers';

export const RESOURCE_URL = 'https://rows.example/bases/0f8fad5b-d9cb-469f-a165-70867728950e/rows';

export interface ClientKey {
  alg: 'EdDSA' | 'ES256' | 'PS256';
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** Public JWK as a proof embeds it. */
  jwk: JWK;
  /** RFC 7638 SHA-256 thumbprint: the token's cnf.jkt. */
  jkt: string;
}

export async function createClientKey(alg: ClientKey['alg'] = 'EdDSA'): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { alg, privateKey, publicKey, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
}

export const athOf = async (token: string) =>
  base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))));

let counter = 0;

export interface ProofOptions {
  token: string;
  htm?: string;
  htu?: string;
  iat?: number;
  jti?: string;
  /** Header overrides; `undefined` removes a member. */
  header?: Record<string, unknown>;
  /** Payload overrides; `undefined` removes a member. */
  claims?: Record<string, unknown>;
  /** Sign with another key than the one embedded. */
  signWith?: CryptoKey;
}

function merge(defaults: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
  const out = { ...defaults, ...overrides };
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete out[name];
  return out;
}

/** A DPoP proof as RFC 9449 §4.2 describes it, signed with jose's SignJWT. */
export async function makeProof(key: ClientKey, options: ProofOptions): Promise<string> {
  counter += 1;
  const payload = merge(
    {
      jti: options.jti ?? `proof-${counter}-${crypto.randomUUID()}`,
      htm: options.htm ?? 'GET',
      htu: options.htu ?? RESOURCE_URL,
      iat: options.iat ?? NOW_S,
      ath: await athOf(options.token),
    },
    options.claims,
  );
  const header = merge({ alg: key.alg, typ: 'dpop+jwt', jwk: key.jwk }, options.header);
  return new SignJWT(payload)
    .setProtectedHeader(header as { alg: string })
    .sign(options.signWith ?? key.privateKey);
}

/** A compact JWS with any header and an arbitrary (HMAC or empty) signature, for alg none / HS256. */
export async function forgeProof(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  hmacSecret?: Uint8Array,
): Promise<string> {
  const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}`;
  if (hmacSecret === undefined) return `${input}.`;
  const key = await crypto.subtle.importKey(
    'raw',
    new Uint8Array(hmacSecret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const signature = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

// Shared fixtures for the verifier tests: an Ed25519 issuer key, token builders and a JWKS server.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  base64url,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import { baseAudience } from '../../src/verify';

export const ISSUER = 'http://localhost:8787';
export const BASE_A = '0f8fad5b-d9cb-469f-a165-70867728950e';
export const BASE_B = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
/** Frozen verifier clock; pass `currentDate: () => NOW`. */
export const NOW = new Date('2026-11-23T12:00:00Z');
export const NOW_S = Math.floor(NOW.getTime() / 1000);
export const LIFETIME = 259_200;

export interface TestKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** Public JWK as tokenladder publishes it: kid (RFC 7638 thumbprint), alg, use. */
  jwk: JWK;
  kid: string;
}

export async function createTestKey(): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const raw = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(raw, 'sha256');
  return { privateKey, publicKey, kid, jwk: { ...raw, kid, alg: 'EdDSA', use: 'sig' } };
}

export const jwksOf = (...keys: TestKey[]): JSONWebKeySet => ({ keys: keys.map((k) => k.jwk) });

type Fields = Record<string, unknown>;

/** Merges overrides into defaults; an override of `undefined` removes the field. */
function merge(defaults: Fields, overrides: Fields): Fields {
  const out: Fields = { ...defaults, ...overrides };
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete out[name];
  return out;
}

/** A valid Base-Token claims set for BASE_A issued a minute before NOW, with overrides. */
export function claims(overrides: Fields = {}, baseUuid = BASE_A): Fields {
  const iat = NOW_S - 60;
  return merge(
    {
      iss: ISSUER,
      aud: baseAudience(baseUuid),
      sub: 'user-1',
      iat,
      exp: iat + LIFETIME,
      jti: 'jti-1',
      client_id: 'api-token-1',
      token_type: 'api_token',
      token_name: 'ci',
      base_uuid: baseUuid,
      permission: 'rw',
    },
    overrides,
  );
}

export interface SignOptions {
  header?: Fields;
  claims?: Fields;
}

export const defaultHeader = (key: TestKey): Fields => ({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt' });

/** Signs like the issuer does, with jose's SignJWT. */
export async function sign(key: TestKey, options: SignOptions = {}): Promise<string> {
  const header = merge(defaultHeader(key), options.header ?? {});
  return new SignJWT(options.claims ?? claims())
    .setProtectedHeader(header as { alg: string })
    .sign(key.privateKey);
}

const b64 = (value: string | Uint8Array | Fields): string =>
  base64url.encode(typeof value === 'string' || value instanceof Uint8Array ? value : JSON.stringify(value));

/**
 * Hand-built compact JWS with an Ed25519 signature over whatever header/payload segments are
 * given (SignJWT refuses most attack shapes). Strings are used verbatim as JSON text.
 */
export async function signRaw(
  key: TestKey,
  header: Fields | string,
  payload: Fields | string | Uint8Array,
): Promise<string> {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature = await crypto.subtle.sign('Ed25519', key.privateKey, new TextEncoder().encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

/** HS256 token whose HMAC secret is `secret` (used to forge with public key material). */
export async function signHs256(secret: Uint8Array, header: Fields, payload: Fields): Promise<string> {
  const input = `${b64(header)}.${b64(payload)}`;
  const hmac = await crypto.subtle.importKey(
    'raw',
    new Uint8Array(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const signature = await crypto.subtle.sign('HMAC', hmac, new TextEncoder().encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

export type ServerMode = 'ok' | 'error' | 'hang';

export interface JwksServer {
  url: string;
  /** Requests received so far. */
  hits: () => number;
  setJwks: (jwks: JSONWebKeySet) => void;
  setMode: (mode: ServerMode) => void;
  /** Idempotent. */
  close: () => Promise<void>;
}

/** JWKS over real HTTP on 127.0.0.1:<random port>, counting requests. */
export async function startJwksServer(initial: JSONWebKeySet): Promise<JwksServer> {
  let jwks = initial;
  let mode: ServerMode = 'ok';
  let hits = 0;
  const hanging = new Set<ServerResponse>();
  const server = createServer((_req: IncomingMessage, res: ServerResponse) => {
    hits += 1;
    if (mode === 'hang') return void hanging.add(res);
    if (mode === 'error') return void res.writeHead(500).end();
    res.writeHead(200, { 'Content-Type': 'application/jwk-set+json' }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    hits: () => hits,
    setJwks: (next) => {
      jwks = next;
    },
    setMode: (next) => {
      mode = next;
    },
    close: async () => {
      if (!server.listening) return;
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Awaits a verify() call that must fail and returns the error for code assertions. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the promise to reject');
    },
    (error: unknown) => error,
  );
}

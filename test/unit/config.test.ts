import { describe, expect, it } from 'vitest';
import { appConfigFromEnv, parseEnv } from '../../src/config';

describe('configuration', () => {
  it('has defaults that run without any setup', () => {
    const env = parseEnv({});
    expect(env).toMatchObject({
      PORT: 8787,
      TOKENLADDER_DB: './data/tokenladder.db',
      TOKENLADDER_BASE_TOKEN_TTL: 259200,
    });
    expect(appConfigFromEnv(env)).toMatchObject({
      issuer: 'http://localhost:8787',
      accountTokenMaxAgeSeconds: null,
      scrypt: { ln: 15, r: 8, p: 3 },
      passwordMinLength: 15,
    });
  });

  it('reads overrides and ignores unrelated variables', () => {
    const env = parseEnv({
      PORT: '9000',
      TOKENLADDER_ISSUER: 'https://auth.example.com/',
      TOKENLADDER_ACCOUNT_TOKEN_MAX_AGE: '2592000',
      HOME: '/root',
    });
    expect(appConfigFromEnv(env)).toMatchObject({
      issuer: 'https://auth.example.com',
      accountTokenMaxAgeSeconds: 2592000,
    });
  });

  it('refuses bad values, naming the variable', () => {
    expect(() => parseEnv({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => parseEnv({ TOKENLADDER_ISSUER: 'ftp://x' })).toThrow(/TOKENLADDER_ISSUER/);
    expect(() => parseEnv({ TOKENLADDER_SCRYPT: 'ln=20,r=8,p=3' })).toThrow(/TOKENLADDER_SCRYPT/);
    expect(() => parseEnv({ TOKENLADDER_KEK: 'short' })).toThrow(/TOKENLADDER_KEK/);
    expect(() => parseEnv({ TOKENLADDER_PASSWORD_MIN_LENGTH: '4' })).toThrow(
      /TOKENLADDER_PASSWORD_MIN_LENGTH/,
    );
    expect(() => parseEnv({ TOKENLADDER_ADMIN_EMAIL: 'not-an-email' })).toThrow(/TOKENLADDER_ADMIN_EMAIL/);
  });
});

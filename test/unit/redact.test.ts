import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/deps';
import { REDACTED, redactingLogger, redactText, redactValue } from '../../src/lib/redact';
import { mintOpaqueToken } from '../../src/tokens/opaque';

const JWT =
  'eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJ1MSIsImF1ZCI6InVybjp0b2tlbmxhZGRlcjpiYXNlOjEifQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmU_-x';

describe('the log redactor', () => {
  it('replaces our opaque tokens anywhere in a string, also mangled, cut short or upper-cased', async () => {
    const account = (await mintOpaqueToken('account')).token;
    const api = (await mintOpaqueToken('api')).token;
    expect(redactText(`Bearer ${account}`)).toBe(`Bearer ${REDACTED}`);
    expect(redactText(`a=${api},b=${account}.`)).toBe(`a=${REDACTED},b=${REDACTED}.`);
    expect(redactText(`/api/v1/api-tokens/${api}/explain`)).toBe(`/api/v1/api-tokens/${REDACTED}/explain`);
    expect(redactText(api.slice(0, 30))).toBe(REDACTED);
    expect(redactText(api.toUpperCase())).toBe(REDACTED);
    expect(redactText(`${api.slice(0, -1)}x`)).toBe(REDACTED);
  });

  it('replaces JWT-shaped strings (Base-Tokens, temporary API-Tokens, foreign JWTs), also without a signature', () => {
    expect(redactText(`token ${JWT} rejected`)).toBe(`token ${REDACTED} rejected`);
    expect(redactText(JWT.split('.').slice(0, 2).join('.'))).toBe(REDACTED);
    expect(redactText(`${JWT}.`)).not.toContain('eyJzdWIi');
  });

  it('leaves ordinary text alone', () => {
    for (const text of [
      'unhandled error',
      'no route for GET /api/v1/nope',
      'token_invalid',
      'api_tokens',
      'tl_',
      'eyJ',
      'user@example.com',
      'kid=abc.def',
    ]) {
      expect(redactText(text)).toBe(text);
    }
  });

  it('redacts the values of secret-named fields at any depth, whatever they look like', () => {
    const fields = {
      password: 'hunter2 is a fine passphrase',
      new_password: 'x',
      Authorization: 'Token abc',
      headers: { cookie: 'sid=1', 'x-api-key': 'k', 'set-cookie': ['a'] },
      clientSecret: 's',
      body: [{ api_token: 'whatever', accessToken: 'w', token: 't', tokens: ['t1'] }],
      kek: 'AAAA',
      // Names of things, not the things: kept.
      token_id: 'abcdefghijklmnop',
      token_name: 'nightly',
      token_type: 'api_token',
      kid: 'k1',
      count: 3,
    };
    expect(redactValue(fields)).toEqual({
      password: REDACTED,
      new_password: REDACTED,
      Authorization: REDACTED,
      headers: { cookie: REDACTED, 'x-api-key': REDACTED, 'set-cookie': REDACTED },
      clientSecret: REDACTED,
      body: [{ api_token: REDACTED, accessToken: REDACTED, token: REDACTED, tokens: REDACTED }],
      kek: REDACTED,
      token_id: 'abcdefghijklmnop',
      token_name: 'nightly',
      token_type: 'api_token',
      kid: 'k1',
      count: 3,
    });
  });

  it('scrubs error stacks and toJSON output, and survives deep or cyclic values', async () => {
    const token = (await mintOpaqueToken('api')).token;
    const error = new Error(`lookup failed for ${token}`);
    const scrubbed = redactValue({ error }) as { error: string };
    expect(scrubbed.error).toContain('lookup failed for [redacted]');
    expect(scrubbed.error).not.toContain(token);
    expect(redactValue({ at: { toJSON: () => `at ${JWT}` } })).toEqual({ at: `at ${REDACTED}` });
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(() => JSON.stringify(redactValue(cyclic))).not.toThrow();
  });

  it('wraps every level of a logger, message and fields, once', async () => {
    const token = (await mintOpaqueToken('account')).token;
    const lines: string[] = [];
    const capture: Logger = {
      info: (message, fields) => lines.push(JSON.stringify({ level: 'info', message, ...fields })),
      warn: (message, fields) => lines.push(JSON.stringify({ level: 'warn', message, ...fields })),
      error: (message, fields) => lines.push(JSON.stringify({ level: 'error', message, ...fields })),
    };
    const log = redactingLogger(capture);
    expect(redactingLogger(log)).toBe(log);
    log.info(`saw ${token}`);
    log.warn('w', { password: 'pw pw pw pw pw pw', detail: `Bearer ${token}` });
    log.error('e', { nested: { authorization: 'x' }, jwt: JWT });
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).not.toContain(token);
      expect(line).not.toContain('pw pw');
      expect(line).not.toContain(JWT.slice(0, 20));
    }
    expect(JSON.parse(lines[1]!)).toEqual({
      level: 'warn',
      message: 'w',
      password: REDACTED,
      detail: `Bearer ${REDACTED}`,
    });
  });
});

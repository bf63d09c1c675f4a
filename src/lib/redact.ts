import { OPAQUE_KIND_NAMES, OPAQUE_KINDS } from '../tokens/kinds';
import type { Logger } from './logger';

/** What a removed secret is replaced with. */
export const REDACTED = '[redacted]';

// Our opaque tokens (every prefix of src/tokens/kinds.ts), also mangled or cut short, and anything
// JWT-shaped (Base-Tokens, temporary API-Tokens, foreign JWTs a client sent us).
const OPAQUE_TOKEN = new RegExp(
  `(?:${OPAQUE_KIND_NAMES.map((kind) => OPAQUE_KINDS[kind].prefix).join('|')})[A-Za-z0-9]+`,
  'gi',
);
const JWT = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?/g;

/**
 * Field names whose values are secrets whatever they look like (passwords have no shape). Compared
 * without case and separators: `password`, `new_password`, `clientSecret`, `Authorization`,
 * `set-cookie`, `x-api-key`, `api_token`, `accessToken`, `tokens`; but not `token_id`,
 * `token_name` or `token_type`, which name things without being them.
 */
const SECRET_KEY =
  /pass(?:word|wd|phrase)|secret|authori[sz]ation|cookie|credential|privatekey|apikey|token$|tokens$|^kek$|^jwt$|^pwd$/;

function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.toLowerCase().replace(/[^a-z0-9]/g, ''));
}

/** A string with every token-shaped part replaced. */
export function redactText(text: string): string {
  return text.replace(OPAQUE_TOKEN, REDACTED).replace(JWT, REDACTED);
}

const MAX_DEPTH = 8;
const REDACTING = Symbol('redacting');

/** A JSON-ready copy of `value` with secrets removed: by key name at any depth, and by shape in every string. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (value instanceof Error) return redactText(value.stack ?? `${value.name}: ${value.message}`);
  const json = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof json === 'function') return redactValue(json.call(value), depth + 1);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value))
    out[key] = isSecretKey(key) ? REDACTED : redactValue(item, depth + 1);
  return out;
}

function redactFields(fields: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  return fields === undefined ? undefined : (redactValue(fields) as Record<string, unknown>);
}

/**
 * Wraps a logger so no line carries a secret, whoever wrote the call: token-shaped strings anywhere
 * (message, field values, error stacks) and the values of secret-named fields become `[redacted]`.
 * createDeps applies it, so Node, Workers, the CLI and tests all log through it.
 */
export function redactingLogger(log: Logger): Logger {
  if ((log as { [REDACTING]?: true })[REDACTING]) return log;
  return {
    [REDACTING]: true,
    info: (message, fields) => log.info(redactText(message), redactFields(fields)),
    warn: (message, fields) => log.warn(redactText(message), redactFields(fields)),
    error: (message, fields) => log.error(redactText(message), redactFields(fields)),
  } as Logger;
}

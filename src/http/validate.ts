import { zValidator } from '@hono/zod-validator';
import type { Context, ValidationTargets } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { resolver, uniqueSymbol } from 'hono-openapi';
import { z } from 'zod';
import { AppError } from '../errors';

const JSON_TYPE = /^application\/json\s*(;\s*charset=utf-8\s*)?$/i;

/**
 * Whether a request carries a body, from its headers alone: HTTP/1.1 frames a body with
 * Content-Length or Transfer-Encoding; a Content-Type alone means "maybe" (a test's Request, a
 * Workers request). Reading `c.req.raw.body` instead would make @hono/node-server build a full
 * web Request for every bodyless POST, a measurable cost on the exchange path.
 */
export function mayHaveBody(c: Context): boolean {
  const length = c.req.header('content-length');
  if (length !== undefined) return length !== '0';
  return c.req.header('transfer-encoding') !== undefined || c.req.header('content-type') !== undefined;
}

/**
 * A request with a body must say it is JSON and be well-formed JSON, before any schema runs.
 * (zValidator alone treats a wrong Content-Type as `{}`, which an all-optional schema would accept.)
 */
export const requireJsonBody = createMiddleware(async (c, next) => {
  // An empty body is no body (a bare POST); anything else must be declared and well-formed JSON.
  const text = mayHaveBody(c) ? await c.req.text() : '';
  if (text === '' && isJsonMediaType(c)) throw new AppError('invalid_json', EMPTY_BODY);
  if (text !== '') {
    if (!JSON_TYPE.test(c.req.header('content-type') ?? '')) {
      throw new AppError('unsupported_media_type', 'request bodies must be application/json (UTF-8)');
    }
    try {
      JSON.parse(text);
    } catch {
      throw new AppError('invalid_json', 'request body is not valid JSON');
    }
  }
  await next();
});

/**
 * The body size limit: Content-Length is checked from the header; only a body of unknown length is
 * counted as it streams (hono's bodyLimit), so bodyless requests cost nothing.
 */
export function limitBody(maxSize: number) {
  const tooLarge = () => new AppError('payload_too_large', `request bodies are limited to ${maxSize} bytes`);
  const counted = bodyLimit({
    maxSize,
    onError: () => {
      throw tooLarge();
    },
  });
  return createMiddleware(async (c, next) => {
    const length = c.req.header('content-length');
    if (length !== undefined) {
      if (!/^\d+$/.test(length) || Number(length) > maxSize) throw tooLarge();
      return next();
    }
    return mayHaveBody(c) ? counted(c, next) : next();
  });
}

/** An empty body, for a route whose schema needs fields: said plainly rather than as each missing field. */
export const EMPTY_BODY = 'the request body is empty; send a JSON object';
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;
const isJsonMediaType = (c: Context) =>
  JSON_MEDIA_TYPE.test((c.req.header('content-type') ?? '').split(';')[0]!.trim());

/**
 * zValidator with our error shape: the first problem, with its field path, as a 400 in words a person
 * would use ("name: required", "permission: must be \"r\" or \"rw\""), never zod's own phrasing. A
 * schema's own messages win; `humanMessage` fills in the rest. The schema is also attached the way
 * hono-openapi's own `validator()` attaches it, so every validated input lands in `GET /openapi.json`
 * (src/openapi) from this one definition; validation itself stays zValidator's.
 */
export function validate<Target extends keyof ValidationTargets, Schema extends z.ZodType>(
  target: Target,
  schema: Schema,
) {
  const middleware = zValidator(
    target,
    schema,
    (result, c) => {
      if (result.success) return;
      // requireJsonBody lets only JSON through as a body, so no JSON type here means no body at all.
      if (target === 'json' && !isJsonMediaType(c)) throw new AppError('invalid_request', EMPTY_BODY);
      throw new AppError('invalid_request', describeIssue(result.error.issues[0], target));
    },
    {
      // zValidator's types name its own copy of zod's result type; the object is the same.
      // biome-ignore lint/suspicious/noExplicitAny: bridging two declarations of one zod type
      validationFunction: (schema, value) => schema.safeParseAsync(value, { error: humanMessage }) as any,
    },
  );
  return Object.assign(middleware, { [uniqueSymbol]: { target, ...resolver(schema) } });
}

/** The issue as one line: its field path, then what is wrong. */
export function describeIssue(issue: z.core.$ZodIssue | undefined, target?: keyof ValidationTargets): string {
  if (!issue) return 'invalid request';
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const noun = target === 'query' ? 'query parameter' : 'field';
    const keys = issue.keys.map((key) => (path ? `${path}.${key}` : key));
    return `unknown ${noun}${keys.length > 1 ? 's' : ''}: ${keys.join(', ')}`;
  }
  if (issue.code === 'invalid_union') {
    // A value of the right kind for one form, wrong inside it: report the problem inside that form.
    const inside = issue.errors.find((issues) => issues.length > 0 && issues.every((i) => i.path.length > 0));
    if (inside?.[0]) return describeIssue({ ...inside[0], path: [...issue.path, ...inside[0].path] }, target);
  }
  if (!path && issue.code === 'invalid_type' && issue.expected === 'object' && target === 'json')
    return 'the request body must be a JSON object';
  return path ? `${path}: ${issue.message}` : issue.message;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'an array',
  object: 'an object',
  null: 'null',
};
const typeName = (expected: string) => TYPE_NAMES[expected] ?? `a ${expected}`;

const FORMAT_NAMES: Record<string, string> = {
  email: 'an email address',
  uuid: 'a UUID',
  guid: 'a UUID',
  datetime: 'an ISO-8601 time such as 2026-01-31T12:00:00Z',
  date: 'an ISO-8601 date such as 2026-01-31',
  url: 'a URL',
};

const quote = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : String(value));
/** "a", "a or b", "a, b or c" */
function oneOf(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

const SIZE_UNITS: Record<string, [string, string]> = {
  string: ['character', 'characters'],
  array: ['item', 'items'],
  set: ['item', 'items'],
  file: ['byte', 'bytes'],
};

function sizeMessage(
  origin: string,
  bound: number | bigint,
  side: 'least' | 'most',
  inclusive = true,
): string {
  const unit = SIZE_UNITS[origin];
  if (unit) {
    if (side === 'least' && bound === 1) return 'must not be empty';
    return `must have at ${side} ${bound} ${bound === 1 ? unit[0] : unit[1]}`;
  }
  if (inclusive) return `must be at ${side} ${bound}`;
  return `must be ${side === 'least' ? 'more' : 'less'} than ${bound}`;
}

/**
 * zod 4's per-parse error map: a short message for any issue the schema did not word itself. It
 * sees the field's value (`input`), so a missing field reads "required", not "expected string".
 */
export function humanMessage(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'required';
      if (typeof issue.input === 'number' && Number.isNaN(issue.input)) return 'must be a number';
      return `must be ${typeName(issue.expected)}`;
    case 'invalid_value':
      return issue.values.length <= 2
        ? `must be ${oneOf(issue.values.map(quote))}`
        : `must be one of ${oneOf(issue.values.map(quote))}`;
    case 'too_small':
      return issue.exact
        ? `must be exactly ${issue.minimum}`
        : sizeMessage(issue.origin, issue.minimum, 'least', issue.inclusive);
    case 'too_big':
      return issue.exact
        ? `must be exactly ${issue.maximum}`
        : sizeMessage(issue.origin, issue.maximum, 'most', issue.inclusive);
    case 'invalid_format': {
      const name = FORMAT_NAMES[issue.format];
      return name ? `must be ${name}` : 'is not in the right format';
    }
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`;
    case 'invalid_union': {
      if (issue.input === undefined) return 'required';
      if (issue.inclusive === false) return 'matches more than one form; make it unambiguous';
      const options = (issue as { options?: unknown[] }).options;
      if (options?.length)
        return `must be ${options.length > 2 ? 'one of ' : ''}${oneOf(options.map(quote))}`;
      // Nothing matched the value's kind: list what each form would take.
      const forms = issue.errors.flatMap((issues) =>
        issues
          .filter((i) => i.path.length === 0)
          .flatMap((i) =>
            i.code === 'invalid_value'
              ? i.values.map(quote)
              : i.code === 'invalid_type'
                ? [typeName(i.expected)]
                : [],
          ),
      );
      return forms.length > 0 ? `must be ${oneOf([...new Set(forms)])}` : 'is not a valid value';
    }
    case 'invalid_key':
      return 'has a key that is not allowed';
    case 'invalid_element':
      return 'has a value that is not allowed';
    default:
      return 'is not a valid value';
  }
}

/** A display name: trimmed, 1–100 characters, no control or invisible formatting characters. */
export const displayName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(/^[^\p{Cc}\p{Cf}]+$/u, 'must not contain control or invisible characters');

/** A base name: a display name that also works as one URL path segment (SeaTable addresses bases by name). */
export const baseName = displayName.refine((name) => !name.includes('/'), 'must not contain "/"');

// The format is restated for the OpenAPI document, which shows a pipe's input side (the trimmed string).
export const emailAddress = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email('must be an email address'))
  .meta({ format: 'email' });

/** Path ids: base UUIDs and our base32/hex ids. Anything else is a 400, never a lookup. */
export const uuidParam = z
  .string()
  .uuid('must be a UUID')
  .transform((id) => id.toLowerCase());
export const idParam = z.string().regex(/^[a-z2-7]{16}$|^[0-9a-f-]{36}$/, 'is not a valid id');

/** An ISO-8601 time (with Z or an offset) in a request, as epoch seconds. */
export const epochFromIso = z.iso
  .datetime({ offset: true, message: 'must be an ISO-8601 time' })
  .transform((iso) => Math.floor(Date.parse(iso) / 1000));

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

/**
 * zValidator with our error shape: the first problem, with its field path, as a 400. The schema is
 * also attached the way hono-openapi's own `validator()` attaches it, so every validated input lands
 * in `GET /openapi.json` (src/openapi) from this one definition; validation itself stays zValidator's.
 */
export function validate<Target extends keyof ValidationTargets, Schema extends z.ZodType>(
  target: Target,
  schema: Schema,
) {
  const middleware = zValidator(target, schema, (result) => {
    if (!result.success) throw new AppError('invalid_request', describeIssue(result.error.issues[0]));
  });
  return Object.assign(middleware, { [uniqueSymbol]: { target, ...resolver(schema) } });
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'invalid request';
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys')
    return `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`;
  return path ? `${path}: ${issue.message}` : issue.message;
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

import { z } from 'zod';
import { displayName, uuidParam } from '../http/validate';
import type { TokenResources } from '../tokens/api-tokens';
import { scopesFromInput, scopesInput } from '../tokens/grants';
import { CATEGORIES, RECORD_OPERATIONS } from '../verify/scopes';

/**
 * Request bodies and queries shared by several entry points: the API-Token routes, the service-account
 * routes, the exchange, and the UI's create form (which validates what it builds with the API's own
 * schema). Routes keep their other request schemas beside them. Names say what they validate
 * (`…Body`, `…Query`); response bodies are in src/openapi/responses.ts.
 */

/**
 * Expiry as the API takes it: `expires_at` (ISO 8601, or null for never; read as epoch seconds) or
 * `expires_in_days` (NocoDB's presets, or any). src/tokens/expiry.ts turns either into a time.
 */
const expiry = {
  expires_at: z.iso
    .datetime({ offset: true })
    .transform((iso) => Math.floor(Date.parse(iso) / 1000))
    .nullable()
    .optional(),
  expires_in_days: z.number().int().min(1).max(3650).optional(),
};

const oneExpiry = (input: { expires_at?: unknown; expires_in_days?: unknown }) =>
  input.expires_at === undefined || input.expires_in_days === undefined;
const oneGrant = (input: { permission?: unknown; scopes?: unknown }) =>
  input.permission === undefined || input.scopes === undefined;

/**
 * The client networks a token may be exchanged from: IPv4/IPv6 CIDR or bare addresses (a bare address
 * is /32 or /128). Canonicalised by the domain (src/tokens/api-tokens.ts canonicalNetworkList), which
 * refuses an entry with host bits set; null or [] = any address.
 */
const allowedNetworks = {
  allowed_networks: z
    .array(z.string().min(1).max(64))
    .max(20)
    .nullable()
    .optional()
    .meta({
      description:
        'client networks (IPv4/IPv6 CIDR or addresses, at most 20) the token may be exchanged from; null or [] = any. Host bits must be zero',
      examples: [['203.0.113.0/24', '2001:db8::/48', '198.51.100.7']],
    }),
};

const grant = {
  permission: z.enum(['r', 'rw']).optional(),
  scopes: scopesInput.transform(scopesFromInput).optional(),
};

/** Which bases a new token reaches, as the API takes it; read as the domain's TokenResources. */
const resources = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('base'), base_uuid: uuidParam }),
    z.strictObject({ type: z.literal('bases'), base_uuids: z.array(uuidParam).min(1).max(100) }),
    z.strictObject({ type: z.literal('workspace'), workspace_id: z.uuid('is not a workspace id') }),
    z.strictObject({ type: z.literal('all') }),
  ])
  .transform((wire): TokenResources => {
    switch (wire.type) {
      case 'base':
        return { type: 'base', baseUuid: wire.base_uuid };
      case 'bases':
        return { type: 'bases', baseUuids: wire.base_uuids };
      case 'workspace':
        return { type: 'workspace', workspaceId: wire.workspace_id };
      case 'all':
        return wire;
    }
  });

export const createBaseApiTokenBody = z
  .strictObject({ name: displayName, ...grant, ...expiry, ...allowedNetworks })
  .refine(oneGrant, 'send permission or scopes, not both')
  .refine(
    (input) => input.permission !== undefined || input.scopes !== undefined,
    'permission: required (or scopes)',
  )
  .refine(oneExpiry, 'send expires_at or expires_in_days, not both')
  .meta({
    examples: [
      { name: 'nightly-report', permission: 'r', expires_in_days: 90 },
      { name: 'importer', scopes: { records: { read: '*', create: ['tbl1'] }, comments: 'r' } },
    ],
  });

export const createApiTokenBody = z
  .strictObject({ name: displayName, resources, ...grant, ...expiry, ...allowedNetworks })
  .refine(oneGrant, 'send permission or scopes, not both')
  .refine(
    (input) => input.permission !== undefined || input.scopes !== undefined,
    'permission: required (or scopes)',
  )
  .refine(oneExpiry, 'send expires_at or expires_in_days, not both');

export const updateApiTokenBody = z
  .strictObject({ name: displayName, enabled: z.boolean(), ...grant, ...expiry, ...allowedNetworks })
  .partial()
  .refine((input) => Object.keys(input).length > 0, 'send at least one field to change')
  .refine(oneGrant, 'send permission or scopes, not both')
  .refine(oneExpiry, 'send expires_at or expires_in_days, not both');

export const apiTokenFiltersQuery = z.strictObject({
  base_uuid: uuidParam.optional(),
  created_by: z.uuid('is not a user id').optional(),
  status: z.enum(['active', 'expired', 'disabled']).optional(),
});

const ACTIONS = [
  ...CATEGORIES.flatMap((category) => [`${category}:read`, `${category}:write`]),
  ...RECORD_OPERATIONS.map((op) => `records:${op}`),
] as [string, ...string[]];
const table = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'is not a table id');

/** Attenuation: ask for less than the token grants. */
export const exchangeBody = z
  .strictObject({
    base_uuid: uuidParam.optional(),
    ...grant,
    table: table.optional(),
    ttl: z.number().int().min(60).optional(),
  })
  .refine(oneGrant, 'send permission or scopes, not both')
  .meta({
    examples: [{}, { base_uuid: '0b5c9a3e-6a0e-4d7c-9f3e-2a1b4c5d6e7f', permission: 'r', ttl: 3600 }],
  });

export const explainBody = z.strictObject({
  base_uuid: uuidParam.optional(),
  permission: z.enum(['r', 'rw']).optional(),
  action: z.enum(ACTIONS).optional(),
  table: table.optional(),
});

export const regenerateBody = z.strictObject({
  grace_seconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 86400)
    .optional(),
});
export const bulkDeleteBody = z.strictObject({
  ids: z
    .array(z.string().regex(/^[a-z2-7]{16}$/, 'is not a token id'))
    .min(1)
    .max(100),
});
export const createServiceAccountBody = z.strictObject({ name: displayName });

import { z } from 'zod';
import { SIGNING_ALGS } from '../keys/signing-keys';
import { jsonResponse } from './route-doc';

/**
 * Response bodies of the native API, for the OpenAPI document (and so for the typed client), and the
 * types the routes' serializers return (`z.infer<typeof apiTokenSchema>`), so the compiler checks the
 * wire form against what is documented. Request bodies are in src/openapi/requests.ts or beside
 * their routes.
 * Strict objects on purpose: test/http/openapi.test.ts parses real responses with them, so a field
 * added to a serializer without being documented here fails a test instead of drifting silently.
 * `.meta({ id })` makes each a named component (`#/components/schemas/<id>`).
 */

const time = z.iso.datetime();
const nullableTime = time.nullable();
const level = z.enum(['r', 'rw']);
const tableList = z.array(z.string());

export const errorSchema = z
  .strictObject({
    error: z.strictObject({
      code: z.string().meta({ description: 'stable machine-readable code, e.g. token_invalid (see README)' }),
      message: z.string().meta({ description: 'safe to show; never contains a secret' }),
      request_id: z.string().meta({
        description:
          'the X-Request-Id of this response; quote it to the operator, it is in every log line of the request',
      }),
    }),
  })
  .meta({ id: 'Error' });

/** Canonical fine-grained grants (the `scp` claim's shape, versioned by `v`). */
export const scopesSchema = z
  .strictObject({
    v: z.literal(1),
    c: z
      .strictObject({
        records: level,
        comments: level,
        tables: level,
        fields: level,
        views: level,
        webhooks: level,
        base: level,
        users: level,
      })
      .partial(),
    t: z
      .strictObject({ create: tableList, read: tableList, update: tableList, delete: tableList })
      .optional(),
  })
  .meta({ id: 'Scopes' });

export const resourcesSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('base'), base_uuid: z.string() }),
    z.strictObject({ type: z.literal('bases'), base_uuids: z.array(z.string()) }),
    z.strictObject({ type: z.literal('workspace'), workspace_id: z.string() }),
    z.strictObject({ type: z.literal('all') }),
  ])
  .meta({ id: 'TokenResources' });

export const serverInfoSchema = z
  .strictObject({
    name: z.literal('tokenladder'),
    version: z.string(),
    issuer: z.string(),
    jwks_uri: z.string(),
    base_token: z.strictObject({
      algorithm: z.enum(SIGNING_ALGS).meta({
        description:
          "the current signing key's JWS alg; during a rotation the JWKS names each key's own `alg`, and verifiers pin each key to it",
      }),
      type: z.literal('at+jwt'),
      lifetime_seconds: z.number().int(),
      audience_prefix: z.string(),
    }),
    account_token: z.strictObject({ max_age_seconds: z.number().int().nullable() }),
  })
  .meta({ id: 'ServerInfo' });

export const jwksSchema = z
  .strictObject({
    keys: z.array(
      z.looseObject({
        kty: z.string().meta({ description: 'OKP (Ed25519: crv, x), EC (P-256: crv, x, y) or RSA (n, e)' }),
        kid: z.string().meta({ description: "the key's RFC 7638 SHA-256 thumbprint" }),
        alg: z.string().meta({
          description:
            'the only JWS alg this key verifies (EdDSA, ES256 or RS256): refuse a token whose header says another',
        }),
        use: z.literal('sig'),
      }),
    ),
  })
  .meta({ id: 'Jwks' });

const accountTokenFields = {
  id: z.string(),
  name: z.string(),
  created_at: time,
  expires_at: nullableTime,
  last_used_at: nullableTime,
};
export const accountTokenSchema = z
  .strictObject({ ...accountTokenFields, current: z.boolean() })
  .meta({ id: 'AccountToken' });
export const accountTokenCreatedSchema = z
  .strictObject({
    ...accountTokenFields,
    token: z.string().meta({ description: 'the secret, shown only in this response' }),
  })
  .meta({ id: 'AccountTokenCreated' });

const role = z.enum(['user', 'team_admin', 'system_admin']);
export const meSchema = z
  .strictObject({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role,
    team_id: z.string().nullable(),
    account_token_id: z.string(),
  })
  .meta({ id: 'Me' });

const userFields = {
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role,
  team_id: z.string().nullable(),
  is_active: z.boolean(),
  created_at: time,
  updated_at: time,
};
export const userSchema = z.strictObject(userFields).meta({ id: 'User' });
export const serviceAccountSchema = z
  .strictObject({ ...userFields, kind: z.literal('service') })
  .meta({ id: 'ServiceAccount' });
export const teamSchema = z
  .strictObject({ id: z.string(), name: z.string(), created_at: time })
  .meta({ id: 'Team' });

const basePermission = z.enum(['r', 'rw', 'admin']);
export const baseSchema = z
  .strictObject({
    uuid: z.string(),
    name: z.string(),
    workspace_id: z.string(),
    created_by: z.string(),
    created_at: time,
    updated_at: time,
    permission: basePermission,
  })
  .meta({ id: 'Base' });
export const baseSummarySchema = z
  .strictObject({ uuid: z.string(), name: z.string(), workspace_id: z.string(), permission: basePermission })
  .meta({ id: 'BaseSummary' });
export const workspaceSchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    kind: z.literal('personal'),
    created_at: time,
    bases: z.array(baseSchema),
  })
  .meta({ id: 'Workspace' });
export const memberSchema = z
  .strictObject({
    user_id: z.string(),
    email: z.string(),
    name: z.string(),
    permission: basePermission,
    created_at: time,
  })
  .meta({ id: 'BaseMember' });

const apiTokenFields = {
  id: z.string(),
  name: z.string(),
  permission: level.meta({ description: 'the coarse grant (a summary when scopes are set)' }),
  scopes: scopesSchema.nullable(),
  resources: resourcesSchema,
  base_uuid: z.string().nullable(),
  enabled: z.boolean(),
  expires_at: nullableTime,
  expired: z.boolean(),
  created_by: z.string(),
  created_by_email: z.string(),
  created_at: time,
  updated_at: time,
  last_used_at: nullableTime,
  previous_secret: z
    .strictObject({ expires_at: time, last_used_at: nullableTime })
    .nullable()
    .meta({ description: 'the old secret during a regeneration grace period' }),
  allowed_networks: z.array(z.string()).nullable().meta({
    description:
      'the client networks (canonical CIDR) it may be exchanged from; null = any address. Base-Tokens from it carry them as `cidr`',
  }),
};
export const apiTokenSchema = z.strictObject(apiTokenFields).meta({ id: 'ApiToken' });
export const apiTokenCreatedSchema = z
  .strictObject({
    ...apiTokenFields,
    token: z.string().meta({ description: 'the secret, shown only in this response' }),
  })
  .meta({ id: 'ApiTokenCreated' });

/** The answer to every creation: the token with its secret, shown only once. */
export const apiTokenCreatedResponse = jsonResponse(
  'The new API-Token with its secret `token` (shown only here)',
  apiTokenCreatedSchema,
  {
    id: 'm4zq2k7d3x5v6w2p',
    token: 'tl_api_m4zq2k7d3x5v6w2p_…',
    name: 'nightly-report',
    permission: 'r',
    scopes: null,
    resources: { type: 'base', base_uuid: '0b5c9a3e-6a0e-4d7c-9f3e-2a1b4c5d6e7f' },
    base_uuid: '0b5c9a3e-6a0e-4d7c-9f3e-2a1b4c5d6e7f',
    enabled: true,
    expires_at: '2027-01-30T12:00:00Z',
    expired: false,
    created_by: '5d2f0c1a-3b4e-4f6a-8c9d-0e1f2a3b4c5d',
    created_by_email: 'ada@example.com',
    created_at: '2026-11-01T12:00:00Z',
    updated_at: '2026-11-01T12:00:00Z',
    last_used_at: null,
    previous_secret: null,
    allowed_networks: null,
  },
);

export const baseTokenSchema = z
  .strictObject({
    base_token: z
      .string()
      .meta({ description: 'signed JWT (typ at+jwt; EdDSA, ES256 or RS256); verify it against the JWKS' }),
    expires_at: time,
    base_uuid: z.string(),
    permission: z.enum(['r', 'rw', 'admin', 'custom']),
    scopes: scopesSchema.optional(),
  })
  .meta({ id: 'BaseToken' });

export const explanationSchema = z
  .strictObject({
    allowed: z.boolean(),
    base_uuid: z.string().nullable(),
    code: z.string().nullable(),
    reason: z.string().nullable(),
    effective: z
      .strictObject({ permission: z.enum(['r', 'rw', 'admin', 'custom']), scp: scopesSchema.optional() })
      .nullable()
      .meta({ description: 'what a Base-Token would carry' }),
  })
  .meta({ id: 'Explanation' });

export const signingKeySchema = z
  .strictObject({
    kid: z.string(),
    alg: z.string(),
    state: z.enum(['next', 'current', 'retired']),
    created_at: nullableTime,
    activated_at: nullableTime,
    retired_at: nullableTime,
  })
  .meta({ id: 'SigningKey' });

export const tokenPolicyResponseSchema = z
  .strictObject({
    max_lifetime_days: z.number().int().nullable(),
    require_expiry: z.boolean(),
    forbid_all_bases_scope: z.boolean(),
    service_account_max_permission: level,
    network_bound_base_token_ttl_seconds: z.number().int().nullable().meta({
      description:
        'the longest lifetime of a Base-Token from an API-Token with allowed_networks (null: the configured lifetime)',
    }),
  })
  .meta({ id: 'TokenPolicy' });

// Audit, revocation and incident responses.

export const auditEventSchema = z
  .strictObject({
    seq: z.number().int(),
    at: z.iso.datetime(),
    action: z.string(),
    outcome: z.enum(['success', 'failure']),
    actor: z.strictObject({
      user_id: z.string().nullable(),
      token_id: z.string().nullable(),
      client_ip: z.string().nullable(),
    }),
    subject_user_id: z.string().nullable(),
    base_uuid: z.string().nullable(),
    target_id: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).nullable(),
    hash: z.string(),
  })
  .meta({ id: 'AuditEvent' });

export const auditPageSchema = z
  .strictObject({ events: z.array(auditEventSchema), next_cursor: z.string().nullable() })
  .meta({ id: 'AuditPage' });

export const chainReportSchema = z
  .strictObject({
    ok: z.boolean(),
    checked: z.number().int(),
    first: z.number().int().nullable(),
    last: z.number().int().nullable(),
    anchored_at: z.string().nullable(),
    broken: z
      .strictObject({
        seq: z.number().int(),
        reason: z.enum(['hash_mismatch', 'prev_hash_mismatch', 'seq_gap']),
      })
      .optional(),
  })
  .meta({ id: 'AuditChainReport' });

export const revocationFeedSchema = z
  .strictObject({
    revocations: z.array(
      z.strictObject({
        kind: z.enum(['client', 'jti', 'client_base', 'subject_base']),
        value: z.string(),
        aud: z.string().optional(),
        revoked_at: z.number().int(),
        expires_at: z.number().int(),
        gen: z
          .number()
          .int()
          .optional()
          .meta({
            description:
              'Entries other than `jti`: refuses the Base-Tokens the entry matches whose `gen` claim is below this ' +
              '(exchanged before the entry was written); tokens without `gen` compare `iat` with `revoked_at`.',
          }),
      }),
    ),
    cursor: z.string(),
    complete: z.boolean(),
    reset: z.boolean(),
    poll_interval_seconds: z.number().int(),
  })
  .meta({ id: 'RevocationFeed' });

export const receivedSchema = z.strictObject({ received: z.number().int() }).meta({ id: 'Received' });

export const killSwitchResultSchema = z
  .strictObject({
    disabled: z.number().int(),
    base_access_ended: z.number().int(),
    more: z.boolean(),
    dry_run: z.boolean(),
  })
  .meta({ id: 'KillSwitchResult' });

/** `{ <key>: [item, …] }`, the list envelope every native list uses. */
export const listOf = <Key extends string>(key: Key, item: z.ZodType) =>
  z.strictObject({ [key]: z.array(item) } as Record<Key, z.ZodArray<z.ZodType>>);

/** GitHub's secret-scanning feedback: one verdict per reported match, in order. */
export const scannerFeedbackSchema = z
  .array(
    z.strictObject({
      token_raw: z.string(),
      token_type: z.string(),
      label: z.enum(['true_positive', 'false_positive']),
    }),
  )
  .meta({ id: 'SecretScanningFeedback' });

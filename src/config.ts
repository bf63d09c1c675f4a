import { z } from 'zod';
import { DEFAULT_SCRYPT, scryptParamsProblem, type ScryptParams } from './accounts/passwords';
import { DEFAULT_SIGNING_ALG, SIGNING_ALGS, type SigningAlg } from './keys/signing-keys';
import { VERSION } from './version';

/** Limits on password attempts (NIST SP 800-63B-4 §3.2.2: at most 100 consecutive failures per account). */
export interface LoginThrottleConfig {
  /** Failed attempts per account (by email, known or not) per window. */
  accountLimit: number;
  /** Failed attempts per client address per window. */
  addressLimit: number;
  windowSeconds: number;
}

/** What createApp needs; runtime-neutral. */
export interface AppConfig {
  version: string;
  /** `iss` of every Base-Token and the base of the JWKS URL. */
  issuer: string;
  baseTokenTtlSeconds: number;
  /** null: Account-Tokens never expire (SeaTable's behaviour, a documented deviation from ASVS 7.3.2). */
  accountTokenMaxAgeSeconds: number | null;
  passwordMinLength: number;
  passwordMaxLength: number;
  /** Failed sign-in limits per account and per client address (src/accounts/login-throttle.ts). */
  loginThrottle: LoginThrottleConfig;
  /**
   * API-Tokens one user may create per day (src/tokens/api-tokens.ts): each deleted token is a
   * revocation feed entry, so create → delete loops are what would grow the feed without bound.
   */
  apiTokenCreateLimit: number;
  scrypt: ScryptParams;
  bodyLimitBytes: number;
  jwksMaxAgeSeconds: number;
  /** How long a rotated-in key is published before it signs: longer than verifiers cache the JWKS. */
  keyActivationDelaySeconds: number;
  /** The algorithm of new signing keys (a fresh database's first, every rotation naming none); default EdDSA. */
  signingAlg?: SigningAlg;
  /**
   * The request header carrying the client address when behind a proxy (null: the socket address).
   * Only trusted because the operator names it; used for throttling and the audit log.
   */
  clientIpHeader: string | null;
  /** Audit records older than this are deleted; null keeps them forever. */
  auditRetentionSeconds: number | null;
  /**
   * The revocation feed is public unless this is set: then verifiers send it as a Bearer credential.
   * Public by default because it holds only token ids and jtis, which grant nothing (README: Revocation).
   */
  revocationFeedToken: string | null;
  /** The poll interval the feed advises verifiers to use: the revocation bound's main term. */
  revocationPollSeconds: number;
  /** GET /api/v1/revocations/stream (Server-Sent Events); null: not offered (Workers, or turned off). */
  revocationStream: RevocationStreamConfig | null;
  /**
   * Browser origins allowed to call `/api/*` and `/.well-known/*` (exact `scheme://host[:port]`), or
   * `['*']` for any; empty: no CORS at all, no `Access-Control-*` header is ever sent.
   */
  corsOrigins: string[];
  /**
   * Per-address limits key an IPv6 address on its first this-many bits (64: one /64, what a single
   * customer line or host is given); IPv4 addresses count one by one (src/throttle/address-key.ts).
   */
  ipv6PrefixLength: number;
  /** One JSON line per request (method, path, status, duration, request id, client address); off by default. */
  accessLog: boolean;
  /** GET /metrics: null when off (the default); `token` set: scrapes must send it as a Bearer credential. */
  metrics?: { token: string | null } | null;
  /** The OAuth endpoints (src/oauth): resource indicators and the resource servers that may introspect. */
  oauth: OAuthConfig;
  /**
   * GitHub's secret-scanning public keys (`POST /api/v1/secret-scanning/github`): each key's identifier
   * and its PEM (SPKI, ECDSA P-256); null: the endpoint is not offered (404).
   */
  githubScanningKeys?: GithubScanningKey[] | null;
  /** What the SeaTable-compatible routes tell clients about where bases are served (trailing slash kept). */
  seatable: { dtableServer: string; dtableSocket: string; dtableDb: string; useApiGateway: boolean };
}

/** One of GitHub's secret-scanning public keys, as its `public_keys` document lists it. */
export interface GithubScanningKey {
  /** `key_identifier`: the `Github-Public-Key-Identifier` header names it. */
  id: string;
  /** `key`: a PEM `PUBLIC KEY` (SPKI) of an uncompressed P-256 point. */
  pem: string;
}

/** What the OAuth endpoints are configured with. */
export interface OAuthConfig {
  /**
   * A base service's URL with `{base_uuid}` where the base goes (`https://bases.example.com/bases/{base_uuid}`),
   * accepted as an RFC 8707 `resource` beside `urn:tokenladder:base:<uuid>`; null: only the URN.
   */
  resourceUrlTemplate: string | null;
  /**
   * Resource servers (gateways, base services) that may call the introspection endpoint: a client id
   * and the SHA-256 (hex) of its secret; the secret itself is never configured or stored.
   */
  introspectionClients: { id: string; secretHash: string }[];
}

/** Bounds of the revocation stream: what one anonymous caller can hold open. */
export interface RevocationStreamConfig {
  /** Streams open at once per process; beyond it 503 with Retry-After. */
  maxStreams: number;
  /** A stream ends after this long; its client reconnects with Last-Event-ID. */
  maxLifetimeSeconds: number;
  /** A comment line this often keeps proxies from closing an idle stream and tells the client it lives. */
  heartbeatMs: number;
}

/** The stream's heartbeat: the verifier treats 35 s without a byte as a dead stream. */
export const REVOCATION_STREAM_HEARTBEAT_MS = 15_000;

/** A comma-separated list, entries trimmed, empty ones dropped. */
const commaList = z.string().transform((text) =>
  text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== ''),
);

const seconds = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Every environment variable tokenladder reads, on Node and on Workers. */
export const envSchema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(8787),
  // Loopback by default: reachable from this machine only (a TLS proxy in front); containers set 0.0.0.0.
  HOST: z
    .string()
    .regex(
      /^(?:[A-Za-z0-9.-]{1,253}|[0-9A-Fa-f:.]{2,45})$/,
      'must be an IP address or host name, like 127.0.0.1 or 0.0.0.0',
    )
    .default('127.0.0.1'),
  TOKENLADDER_DB: z.string().min(1).default('./data/tokenladder.db'),
  TOKENLADDER_DATABASE_URL: z
    .string()
    .refine((text) => /^postgres(ql)?:\/\//.test(text) && URL.canParse(text), {
      message: 'must be a PostgreSQL URL like postgres://user:password@host:5432/tokenladder',
    })
    .optional(),
  TOKENLADDER_DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  TOKENLADDER_ISSUER: z.url({ protocol: /^https?$/ }).optional(),
  TOKENLADDER_KEK: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 bytes, base64url (43 characters)')
    .optional(),
  TOKENLADDER_KEK_FILE: z.string().min(1).optional(),
  TOKENLADDER_ADMIN_EMAIL: z.email().optional(),
  TOKENLADDER_ADMIN_PASSWORD: z.string().min(1).optional(),
  TOKENLADDER_BASE_TOKEN_TTL: seconds(60, 30 * 86400).default(3 * 86400),
  TOKENLADDER_ACCOUNT_TOKEN_MAX_AGE: seconds(60, 10 * 365 * 86400).optional(),
  TOKENLADDER_PASSWORD_MIN_LENGTH: z.coerce.number().int().min(8).max(128).default(15),
  // NIST SP 800-63B-4 §3.2.2: no more than 100 consecutive failed attempts on one account.
  TOKENLADDER_LOGIN_LIMIT_ACCOUNT: z.coerce.number().int().min(1).max(100).default(10),
  TOKENLADDER_LOGIN_LIMIT_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(100),
  TOKENLADDER_LOGIN_WINDOW: seconds(60, 86400).default(900),
  TOKENLADDER_API_TOKEN_CREATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  TOKENLADDER_SCRYPT: z
    .string()
    .regex(/^ln=\d+,r=\d+,p=\d+$/, 'must look like ln=15,r=8,p=3')
    .transform(
      (text) =>
        Object.fromEntries(
          text
            .split(',')
            .map((part) => part.split('='))
            .map(([k, v]) => [k, Number(v)]),
        ) as unknown as ScryptParams,
    )
    .refine((params) => scryptParamsProblem(params) === null, {
      message: 'scrypt parameters out of bounds (10≤ln≤17, 1≤r≤16, 1≤p≤4, N·r·p≤2^20)',
    })
    .optional(),
  TOKENLADDER_BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024)
    .default(16 * 1024),
  TOKENLADDER_JWKS_MAX_AGE: seconds(0, 3600).default(300),
  TOKENLADDER_KEY_ACTIVATION_DELAY: seconds(0, 7 * 86400).default(3600),
  TOKENLADDER_SIGNING_ALG: z
    .enum(SIGNING_ALGS, { error: `must be one of ${SIGNING_ALGS.join(', ')} (case matters)` })
    .default(DEFAULT_SIGNING_ALG),
  // Defaults point at examples/base-service.ts on its default port, so SeaTable clients work out of the box.
  TOKENLADDER_BASE_SERVER_URL: z.url({ protocol: /^https?$/ }).default('http://localhost:8788/'),
  TOKENLADDER_BASE_SOCKET_URL: z.url({ protocol: /^https?$/ }).optional(),
  TOKENLADDER_BASE_DB_URL: z.url({ protocol: /^https?$/ }).optional(),
  TOKENLADDER_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(0).max(36500).default(365),
  TOKENLADDER_REVOCATIONS_TOKEN: z
    .string()
    .regex(/^[\x21-\x7e]{32,256}$/, 'must be 32-256 printable characters')
    .optional(),
  TOKENLADDER_REVOCATION_POLL: seconds(1, 3600).default(30),
  TOKENLADDER_REVOCATION_STREAMS_MAX: z.coerce.number().int().min(0).max(100_000).default(1000),
  TOKENLADDER_REVOCATION_STREAM_LIFETIME: seconds(60, 86400).default(3600),
  TOKENLADDER_CLIENT_IP_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a header name')
    .transform((name) => name.toLowerCase())
    .optional(),
  TOKENLADDER_IPV6_PREFIX_LENGTH: z.coerce.number().int().min(32).max(128).default(64),
  TOKENLADDER_USE_API_GATEWAY: z.enum(['true', 'false', '1', '0']).default('false'),
  TOKENLADDER_CORS_ORIGINS: commaList
    .superRefine((origins, ctx) => {
      if (origins.includes('*') && origins.length > 1)
        ctx.addIssue({ code: 'custom', message: '`*` must be the only entry' });
      for (const origin of origins)
        if (origin !== '*' && !isOrigin(origin))
          ctx.addIssue({
            code: 'custom',
            message: `${origin}: not an origin like https://app.example.com (scheme, host, optional port; no path, no trailing slash)`,
          });
    })
    .optional(),
  TOKENLADDER_OAUTH_RESOURCE_URL: z
    .url({ protocol: /^https?$/ })
    .refine((url) => url.split('{base_uuid}').length === 2 && !/[?#]/.test(url), {
      message:
        'must be an http(s) URL with {base_uuid} once and no query or fragment, like https://bases.example.com/bases/{base_uuid}',
    })
    .optional(),
  TOKENLADDER_INTROSPECTION_CLIENTS: commaList
    .superRefine((entries, ctx) => {
      const ids = new Set<string>();
      for (const entry of entries) {
        const match = /^([A-Za-z0-9._-]{1,64}):([0-9a-f]{64})$/.exec(entry);
        if (!match)
          ctx.addIssue({
            code: 'custom',
            message: `an entry is not <client id>:<SHA-256 of its secret, 64 lowercase hex> (make one with \`tokenladder introspection-client <id>\`)`,
          });
        else if (ids.has(match[1]!)) ctx.addIssue({ code: 'custom', message: `${match[1]}: listed twice` });
        else ids.add(match[1]!);
      }
    })
    .transform((entries) =>
      entries.map((entry) => {
        const [id, secretHash] = entry.split(':') as [string, string];
        return { id, secretHash };
      }),
    )
    .optional(),
  TOKENLADDER_GITHUB_SCANNING_KEYS: z
    .string()
    .transform((text, ctx) => {
      const keys = githubScanningKeys(text);
      if (typeof keys === 'string') {
        ctx.addIssue({ code: 'custom', message: keys });
        return z.NEVER;
      }
      return keys;
    })
    .optional(),
  TOKENLADDER_ACCESS_LOG: z.enum(['true', 'false', '1', '0']).default('false'),
  TOKENLADDER_METRICS: z.enum(['true', 'false', '1', '0']).default('false'),
  TOKENLADDER_METRICS_TOKEN: z
    .string()
    .regex(/^[\x21-\x7e]{32,256}$/, 'must be 32-256 printable characters')
    .optional(),
});

/** What docs/configuration.md says about a setting; `npm run docs:config` writes the page from {@link SETTINGS}. */
export interface SettingDoc {
  /** What leaving the variable unset means, for settings whose schema has no default value. */
  unset?: string;
  /** Markdown, one paragraph. */
  description: string;
}

/**
 * The one place settings are described: every variable of {@link envSchema}, no more (the type says so).
 * Defaults come from the schema itself; `test/tooling/config-docs.test.ts` fails when the page drifts.
 */
export const SETTINGS = {
  PORT: {
    description: 'HTTP port (Node only); a port already in use stops the start with one line, exit code 1',
  },
  HOST: {
    description:
      'the address the server binds (Node only): the loopback default is reachable from this machine only, for a TLS proxy in front; `0.0.0.0` (or `::`) binds every interface, as a container needs',
  },
  TOKENLADDER_DB: {
    description:
      'SQLite file (a missing folder is created `0700`, an existing one left as it is; the database and its `-wal`/`-shm` files are created `0600`, like the KEK; at start, what an older version left open is tightened with one warning in the log: those files, when ours, lose their group/other bits, and the folder becomes `0700` when it is ours, open to others and holds nothing but them and `kek.key`; WAL mode, `synchronous=FULL`, foreign keys on, 5 s busy timeout); Node only, Workers use the D1 binding `DB`',
  },
  TOKENLADDER_DATABASE_URL: {
    unset: 'the SQLite file `TOKENLADDER_DB`',
    description:
      '`postgres://user:password@host:5432/database`: use PostgreSQL (14 or newer) instead of SQLite, so several instances can share one database (Node only). Migrations run at start (serialised across instances starting together); every connection gets `statement_timeout` 5 s, `lock_timeout` 2 s and `idle_in_transaction_session_timeout` 5 s (a frozen instance cannot hold the audit log longer); an unreachable or busy database answers 503 with `Retry-After`. Each instance also keeps one direct connection for `LISTEN` (revocations and key changes reach every instance at once), so point it past a transaction pooler. Never logged with its password. `tokenladder backup`/`restore` are for SQLite: use `pg_dump`/`pg_restore` here',
  },
  TOKENLADDER_DATABASE_POOL_SIZE: {
    description:
      "PostgreSQL connections one instance keeps at most (1–100), besides its `LISTEN` connection; instances × (this + 1) must stay below the server's `max_connections`. A request waits at most 5 s for a free one, then answers 503",
  },
  TOKENLADDER_ISSUER: {
    unset: '`http://localhost:$PORT`',
    description:
      '`iss` of Base-Tokens and base of the JWKS URL: set it to the public URL (required on Workers)',
  },
  TOKENLADDER_KEK: {
    unset: 'the KEK file (`TOKENLADDER_KEK_FILE`)',
    description:
      "key-encryption key for the signing keys: 32 bytes base64url (`node -e \"console.log(require('crypto').randomBytes(32).toString('base64url'))\"`)",
  },
  TOKENLADDER_KEK_FILE: {
    unset: '`kek.key` beside the database',
    description:
      'where the KEK is kept when `TOKENLADDER_KEK` is unset (created `0600` on first start); Node only: on Workers `TOKENLADDER_KEK` is a required secret. With `TOKENLADDER_DATABASE_URL` one of the two is required and the file is never created: every instance needs the same KEK',
  },
  TOKENLADDER_ADMIN_EMAIL: {
    unset: '`admin@tokenladder.local`',
    description:
      'the first system admin, created only when the database has no users; once any user exists it is ignored, with a warning in the log',
  },
  TOKENLADDER_ADMIN_PASSWORD: {
    unset: 'generated, printed once',
    description:
      "the first system admin's password (must meet the password policy; checked only when that admin is created, so a value left in the environment never blocks a restart); on Workers a secret, required while there is no user",
  },
  TOKENLADDER_BASE_TOKEN_TTL: {
    description: 'Base-Token lifetime in seconds (60 s – 30 days; the default is 3 days)',
  },
  TOKENLADDER_ACCOUNT_TOKEN_MAX_AGE: {
    unset: 'never expire',
    description: 'maximum Account-Token age in seconds; applies to existing tokens too',
  },
  TOKENLADDER_PASSWORD_MIN_LENGTH: {
    description:
      'minimum password length in characters after NFKC (8–128; below 15 a warning is logged at start, since NIST SP 800-63B-4 requires 15 for single-factor passwords); maximum is 128',
  },
  TOKENLADDER_LOGIN_LIMIT_ACCOUNT: {
    description: 'failed sign-ins per account (by email, known or not) per window before 429 (1–100)',
  },
  TOKENLADDER_LOGIN_LIMIT_ADDRESS: {
    description:
      'failed sign-ins per client address per window before 429 (address from `TOKENLADDER_CLIENT_IP_HEADER` or the socket)',
  },
  TOKENLADDER_LOGIN_WINDOW: {
    description: 'length of the throttling window in seconds (60–86400), counted from the first failure',
  },
  TOKENLADDER_API_TOKEN_CREATE_LIMIT: {
    description:
      'API-Tokens one user may create per day (every route that creates one; a system admin minting for service accounts spends their own), counted from the first creation of the window; past it 429 `rate_limited` with `Retry-After`, the first refusal of a window recorded in the audit log. It bounds how fast create → delete loops can grow the revocation feed',
  },
  TOKENLADDER_SCRYPT: {
    unset: `\`ln=${DEFAULT_SCRYPT.ln},r=${DEFAULT_SCRYPT.r},p=${DEFAULT_SCRYPT.p}\``,
    description: 'password hashing cost; bounded to 10≤ln≤17, r≤16, p≤4, N·r·p≤2^20 (the Workers cap)',
  },
  TOKENLADDER_BODY_LIMIT: {
    description: 'request body limit in bytes',
  },
  TOKENLADDER_JWKS_MAX_AGE: {
    description: '`Cache-Control` max-age of the JWKS',
  },
  TOKENLADDER_KEY_ACTIVATION_DELAY: {
    description:
      'seconds a rotated-in key is published before it signs (longer than verifiers cache the JWKS: 300 s by default plus the max-age)',
  },
  TOKENLADDER_SIGNING_ALG: {
    description:
      'the algorithm of new signing keys: `EdDSA` (Ed25519), `ES256` (ECDSA P-256) or `RS256` (RSA 2048). It applies to the first key of a fresh database and to every rotation that names no `alg`; existing keys keep theirs, so changing it takes effect at the next rotation (`tokenladder keys rotate`, [operations.md](operations.md#key-rotation)). Choose `ES256` when a verifier cannot check EdDSA (Spring Security, auth0 java-jwt, python-jose, lua-resty-jwt, Oathkeeper: [verify-other-languages.md](verify-other-languages.md)); `RS256` for those that know nothing else. EdDSA and ES256 cost about the same; RS256 tokens are about 256 characters longer and take 3–4× the CPU to sign ([bench/RESULTS.md](../bench/RESULTS.md)), and making an RSA key takes about 0.2 s of CPU, beyond the 10 ms CPU limit of the Workers Free plan',
  },
  TOKENLADDER_BASE_SERVER_URL: {
    description: '`dtable_server` told to SeaTable clients: where base services run',
  },
  TOKENLADDER_BASE_SOCKET_URL: {
    unset: '`TOKENLADDER_BASE_SERVER_URL`',
    description: '`dtable_socket` told to SeaTable clients',
  },
  TOKENLADDER_BASE_DB_URL: {
    unset: '`TOKENLADDER_BASE_SERVER_URL`',
    description: '`dtable_db` told to SeaTable clients',
  },
  TOKENLADDER_USE_API_GATEWAY: {
    description: '`use_api_gateway` told to SeaTable clients',
  },
  TOKENLADDER_CLIENT_IP_HEADER: {
    unset: 'the socket address (Workers: `cf-connecting-ip`)',
    description:
      'behind a proxy, the header with the client address (for throttling and the audit log); the last entry of a list is used. Unset: the socket address',
  },
  TOKENLADDER_IPV6_PREFIX_LENGTH: {
    description:
      'per-address limits (sign-in throttle, leak reports) count an IPv6 address on its network of this many bits (32–128; one /64 is one budget, however many addresses it uses); IPv4-mapped IPv6 addresses count as their IPv4 address',
  },
  TOKENLADDER_AUDIT_RETENTION_DAYS: {
    description: 'audit records older than this are deleted (`0`: keep forever); the newest is always kept',
  },
  TOKENLADDER_REVOCATION_POLL: {
    description:
      'the poll interval the revocation feed advises verifiers: the revocation bound for verifiers that poll (streaming verifiers: about a second)',
  },
  TOKENLADDER_REVOCATION_STREAMS_MAX: {
    description:
      'revocation streams (`GET /api/v1/revocations/stream`, Server-Sent Events) one process holds open at once; beyond it 503 with `Retry-After` (verifiers keep polling meanwhile). `0`: no stream, verifiers poll. Node only: Workers never offer the stream',
  },
  TOKENLADDER_REVOCATION_STREAM_LIFETIME: {
    description:
      'seconds after which the server ends a revocation stream (60–86400); the verifier reconnects at once with `Last-Event-ID`, missing nothing',
  },
  TOKENLADDER_CORS_ORIGINS: {
    unset: 'CORS off',
    description:
      'comma-separated browser origins allowed to call `/api/*` and `/.well-known/*`, each exactly as browsers send it (`https://app.example.com`, `http://localhost:5173`; no path, no trailing slash, lowercase host, no default port), or `*` alone for any origin. Never sent with credentials (the API uses no cookies) and never on `/ui`',
  },
  TOKENLADDER_OAUTH_RESOURCE_URL: {
    unset: 'only `urn:tokenladder:base:<uuid>`',
    description:
      "a base service's URL with `{base_uuid}` where the base goes (`https://bases.example.com/bases/{base_uuid}`): `POST /oauth/token` also accepts it as the RFC 8707 `resource` naming the base (MCP and other OAuth clients send the URL of the resource they call); the Base-Token's `aud` stays `urn:tokenladder:base:<uuid>`",
  },
  TOKENLADDER_INTROSPECTION_CLIENTS: {
    unset: 'no introspection (`POST /oauth/introspect` answers 401 `invalid_client`)',
    description:
      'the resource servers (gateways such as Kong or nginx, base services) that may call `POST /oauth/introspect` and `/oauth/introspect/check`: comma-separated `<client id>:<SHA-256 hex of its secret>`, made by `tokenladder introspection-client <id>` (which prints the secret once). Only the hash is configured, so the environment never holds a usable secret; remove an entry to end a client ([oauth.md](oauth.md))',
  },
  TOKENLADDER_GITHUB_SCANNING_KEYS: {
    unset: '`POST /api/v1/secret-scanning/github` answers 404',
    description:
      'GitHub\'s secret-scanning public keys, the JSON document exactly as GitHub serves it at `https://api.github.com/meta/public_keys/secret_scanning` (`{"public_keys":[{"key_identifier":…,"key":"-----BEGIN PUBLIC KEY-----…","is_current":true}]}`; at most 20 keys, each an ECDSA P-256 `PUBLIC KEY`). Every listed key is accepted, current or not, so a rotation at GitHub needs no restart until the old key leaves the list. Checked at start (a bad document refuses the start); nothing is fetched at request time: refresh it when GitHub rotates its keys. Set, it turns on GitHub\'s secret-scanning partner endpoint ([secret-scanning.md](secret-scanning.md))',
  },
  TOKENLADDER_ACCESS_LOG: {
    description:
      '`true`: one JSON line per request (method, path without the query string, status, `duration_ms`, `request_id`, `client_ip`). Off by default because it costs on the hot path; turn it on where no proxy logs requests',
  },
  TOKENLADDER_REVOCATIONS_TOKEN: {
    unset: 'public feed',
    description:
      'a credential (32–256 printable characters) verifiers must send as `Bearer` to read the feed',
  },
  TOKENLADDER_METRICS: {
    description:
      '`true`: serve `GET /metrics` in Prometheus text format (exchanges, refusals by code, sign-ins, the revocation feed, latency per route group, database errors; [operations.md](operations.md#metrics)). Node only: on Workers `/metrics` answers 404',
  },
  TOKENLADDER_METRICS_TOKEN: {
    unset: 'no credential',
    description:
      'a credential (32–256 printable characters) scrapes of `/metrics` must send as `Bearer` (compared in constant time); without it `/metrics` is open to whoever reaches the port',
  },
} satisfies Record<keyof typeof envSchema.shape, SettingDoc>;

/** `https://app.example.com[:port]` exactly as a browser sends it in `Origin`. */
function isOrigin(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === text;
}

/** The DER prefix of every SPKI of an uncompressed P-256 point (id-ecPublicKey, prime256v1, 65-byte BIT STRING). */
const P256_SPKI_PREFIX = '3059301306072a8648ce3d020106082a8648ce3d030107034200';
const MAX_SCANNING_KEYS = 20;

/** GitHub's `public_keys` document, checked (every key a P-256 SPKI, ids unique); a string says what is wrong. */
function githubScanningKeys(text: string): GithubScanningKey[] | string {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return 'must be JSON: the document GitHub serves at https://api.github.com/meta/public_keys/secret_scanning';
  }
  const list = (document as { public_keys?: unknown } | null)?.public_keys;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_SCANNING_KEYS)
    return `must have "public_keys": a list of 1-${MAX_SCANNING_KEYS} keys`;
  const keys: GithubScanningKey[] = [];
  for (const entry of list as { key_identifier?: unknown; key?: unknown }[]) {
    const id = entry?.key_identifier;
    const pem = entry?.key;
    if (typeof id !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(id))
      return 'every key needs a "key_identifier" (1-256 printable characters)';
    if (keys.some((key) => key.id === id)) return `${id}: listed twice`;
    if (typeof pem !== 'string' || !isP256Spki(pem))
      return `${id}: "key" must be a PEM PUBLIC KEY of an ECDSA P-256 key (uncompressed)`;
    keys.push({ id, pem });
  }
  return keys;
}

function isP256Spki(pem: string): boolean {
  const match = /^\s*-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----\s*$/.exec(pem);
  if (!match) return false;
  let der: string;
  try {
    der = [...atob(match[1]!.replace(/\s+/g, ''))]
      .map((char) => char.charCodeAt(0).toString(16).padStart(2, '0'))
      .join('');
  } catch {
    return false;
  }
  return der.length === 91 * 2 && der.startsWith(P256_SPKI_PREFIX) && der.slice(52, 54) === '04';
}

const withSlash = (url: string) => (url.endsWith('/') ? url : `${url}/`);

export type Env = z.infer<typeof envSchema>;

/** Parses the environment once at the entry; a bad value names its variable. */
export function parseEnv(env: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([key, value]) => key in envSchema.shape && value !== '')),
  );
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

// In its own module so the CLI prints it without loading the configuration schema (zod).
export { VERSION };

export function appConfigFromEnv(env: Env): AppConfig {
  return {
    version: VERSION,
    issuer: (env.TOKENLADDER_ISSUER ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
    baseTokenTtlSeconds: env.TOKENLADDER_BASE_TOKEN_TTL,
    accountTokenMaxAgeSeconds: env.TOKENLADDER_ACCOUNT_TOKEN_MAX_AGE ?? null,
    passwordMinLength: env.TOKENLADDER_PASSWORD_MIN_LENGTH,
    passwordMaxLength: 128,
    loginThrottle: {
      accountLimit: env.TOKENLADDER_LOGIN_LIMIT_ACCOUNT,
      addressLimit: env.TOKENLADDER_LOGIN_LIMIT_ADDRESS,
      windowSeconds: env.TOKENLADDER_LOGIN_WINDOW,
    },
    apiTokenCreateLimit: env.TOKENLADDER_API_TOKEN_CREATE_LIMIT,
    scrypt: env.TOKENLADDER_SCRYPT ?? DEFAULT_SCRYPT,
    bodyLimitBytes: env.TOKENLADDER_BODY_LIMIT,
    jwksMaxAgeSeconds: env.TOKENLADDER_JWKS_MAX_AGE,
    keyActivationDelaySeconds: env.TOKENLADDER_KEY_ACTIVATION_DELAY,
    signingAlg: env.TOKENLADDER_SIGNING_ALG,
    clientIpHeader: env.TOKENLADDER_CLIENT_IP_HEADER ?? null,
    ipv6PrefixLength: env.TOKENLADDER_IPV6_PREFIX_LENGTH,
    revocationFeedToken: env.TOKENLADDER_REVOCATIONS_TOKEN ?? null,
    revocationPollSeconds: env.TOKENLADDER_REVOCATION_POLL,
    revocationStream:
      env.TOKENLADDER_REVOCATION_STREAMS_MAX === 0
        ? null
        : {
            maxStreams: env.TOKENLADDER_REVOCATION_STREAMS_MAX,
            maxLifetimeSeconds: env.TOKENLADDER_REVOCATION_STREAM_LIFETIME,
            heartbeatMs: REVOCATION_STREAM_HEARTBEAT_MS,
          },
    // 0 days: keep forever.
    auditRetentionSeconds:
      env.TOKENLADDER_AUDIT_RETENTION_DAYS === 0 ? null : env.TOKENLADDER_AUDIT_RETENTION_DAYS * 86400,
    corsOrigins: env.TOKENLADDER_CORS_ORIGINS ?? [],
    accessLog: env.TOKENLADDER_ACCESS_LOG === 'true' || env.TOKENLADDER_ACCESS_LOG === '1',
    metrics:
      env.TOKENLADDER_METRICS === 'true' || env.TOKENLADDER_METRICS === '1'
        ? { token: env.TOKENLADDER_METRICS_TOKEN ?? null }
        : null,
    githubScanningKeys: env.TOKENLADDER_GITHUB_SCANNING_KEYS ?? null,
    oauth: {
      resourceUrlTemplate: env.TOKENLADDER_OAUTH_RESOURCE_URL ?? null,
      introspectionClients: env.TOKENLADDER_INTROSPECTION_CLIENTS ?? [],
    },
    seatable: {
      dtableServer: withSlash(env.TOKENLADDER_BASE_SERVER_URL),
      dtableSocket: withSlash(env.TOKENLADDER_BASE_SOCKET_URL ?? env.TOKENLADDER_BASE_SERVER_URL),
      dtableDb: withSlash(env.TOKENLADDER_BASE_DB_URL ?? env.TOKENLADDER_BASE_SERVER_URL),
      useApiGateway: env.TOKENLADDER_USE_API_GATEWAY === 'true' || env.TOKENLADDER_USE_API_GATEWAY === '1',
    },
  };
}

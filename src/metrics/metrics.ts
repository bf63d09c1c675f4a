// Runtime-neutral: what the app reports about itself, and how a request is classified for it. The
// Prometheus implementation (prom-client, Node only) is src/metrics/prometheus.ts; Workers have none.
import { isPostgresError } from '../store/unavailable';

/** Route groups that label request-latency histograms: few and fixed, never a raw path. */
export type RouteGroup =
  | 'exchange'
  | 'sign_in'
  | 'revocation_feed'
  | 'jwks'
  | 'api'
  | 'seatable'
  | 'ui'
  | 'docs'
  | 'probe'
  | 'other';

/** One answered request as the metrics see it. */
export interface ObservedRequest {
  group: RouteGroup;
  method: string;
  status: number;
  seconds: number;
  /** The error code of a 4xx/5xx answer (`error.code`, else `http_<status>`); null for a success. */
  errorCode: string | null;
  /** The request failed on a database error (SQLite, D1 or PostgreSQL). */
  databaseError: boolean;
}

/** What the app records; one instance per app (no module-level registry). */
export interface AppMetrics {
  observe(request: ObservedRequest): void;
  /** The Prometheus text exposition of everything recorded, plus gauges read at scrape time. */
  render(): Promise<{ contentType: string; body: string }>;
}

const SEATABLE = /^\/(api2|api\/v2\.1|server-info)\//;

/** The group of a request by method and path. */
export function routeGroup(method: string, path: string): RouteGroup {
  if (
    (method === 'POST' && (path === '/api/v1/base-tokens' || path === '/oauth/token')) ||
    path === '/api/v2.1/dtable/app-access-token/' ||
    /^\/api\/v2\.1\/workspace\/[^/]+\/dtable\/[^/]+\/access-token\/$/.test(path)
  )
    return 'exchange';
  if (
    method === 'POST' &&
    (path === '/api/v1/account-tokens' || path === '/api2/auth-token/' || path === '/ui/login')
  )
    return 'sign_in';
  if (path === '/api/v1/revocations') return 'revocation_feed';
  if (path === '/.well-known/jwks.json') return 'jwks';
  if (path === '/healthz' || path === '/readyz' || path === '/metrics') return 'probe';
  if (path === '/docs' || path.startsWith('/docs/') || path === '/openapi.json') return 'docs';
  if (path === '/ui' || path.startsWith('/ui/')) return 'ui';
  if (SEATABLE.test(path)) return 'seatable';
  if (path.startsWith('/api/')) return 'api';
  return 'other';
}

/** SQLite (better-sqlite3's SqliteError, SQLITE_* codes), D1 (`D1_*`) or PostgreSQL errors. */
export function isDatabaseError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (isPostgresError(error)) return true;
  const code = String((error as { code?: unknown }).code ?? '');
  return (
    error.name === 'SqliteError' ||
    /^SQLITE_/.test(code) ||
    /^D1_/.test(error.message) ||
    /SQLITE_[A-Z]+|database is locked|no such table/i.test(error.message)
  );
}

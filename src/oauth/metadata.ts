import type { AppConfig } from '../config';
import { REVOCATION_STREAM_PATH } from '../routes/revocations';
import { BASE_AUDIENCE_PREFIX } from '../verify/claims';
import { CATEGORIES, RECORD_OPERATIONS } from '../verify/scopes';
import { GRANT_TYPES } from './token';

export const TOKEN_PATH = '/oauth/token';
export const REVOKE_PATH = '/oauth/revoke';
export const INTROSPECT_PATH = '/oauth/introspect';
export const INTROSPECT_CHECK_PATH = '/oauth/introspect/check';
export const METADATA_PATH = '/.well-known/oauth-authorization-server';

/** Every value the `scope` parameter and claim use (besides `table:<id>`, which only narrows a request). */
export const SCOPES_SUPPORTED = [
  'base:r',
  'base:rw',
  'base:admin',
  ...CATEGORIES.flatMap((category) => [`${category}:read`, `${category}:write`]),
  ...RECORD_OPERATIONS.filter((op) => op !== 'read').map((op) => `records:${op}`),
];

/**
 * The RFC 8414 authorization server metadata, a pure function of the configuration (same answer on
 * every instance). Extension members (RFC 8414 §2 allows them) point verifiers at the revocation feed
 * and stream, and say how a base is named as a resource.
 */
export function authorizationServerMetadata(config: AppConfig, algorithms: readonly string[]) {
  const at = (path: string) => `${config.issuer}${path}`;
  return {
    issuer: config.issuer,
    jwks_uri: at('/.well-known/jwks.json'),
    token_endpoint: at(TOKEN_PATH),
    grant_types_supported: [...GRANT_TYPES],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    response_types_supported: [],
    scopes_supported: SCOPES_SUPPORTED,
    revocation_endpoint: at(REVOKE_PATH),
    // Holding the token is the credential; a client that authenticates anyway is checked.
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    introspection_endpoint: at(INTROSPECT_PATH),
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    // RFC 8707 resource indicators: one base per request.
    resource_indicators_supported: true,
    // RFC 9068 JWT access tokens (the Base-Tokens), signed with these algorithms.
    access_token_signing_alg_values_supported: [...algorithms],
    service_documentation: at('/docs'),
    tokenladder_resource_prefix: BASE_AUDIENCE_PREFIX,
    ...(config.oauth.resourceUrlTemplate && {
      tokenladder_resource_url_template: config.oauth.resourceUrlTemplate,
    }),
    tokenladder_revocations_endpoint: at('/api/v1/revocations'),
    ...(config.revocationStream && { tokenladder_revocations_stream_endpoint: at(REVOCATION_STREAM_PATH) }),
    tokenladder_introspection_check_endpoint: at(INTROSPECT_CHECK_PATH),
  };
}

/**
 * Where the metadata is served: `/.well-known/oauth-authorization-server`, and when the issuer has a
 * path (`https://example.com/auth`) also the RFC 8414 §3.1 form with the path inserted after it
 * (`/.well-known/oauth-authorization-server/auth`), for a proxy that passes that path through.
 */
export function metadataPaths(issuer: string): string[] {
  const path = new URL(issuer).pathname.replace(/\/+$/, '');
  return path === '' ? [METADATA_PATH] : [METADATA_PATH, `${METADATA_PATH}${path}`];
}

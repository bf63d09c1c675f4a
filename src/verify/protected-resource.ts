/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) for a base service: the options, the metadata
 * document, and where it lives. Framework-free; `@tokenladder/verify/hono` serves it.
 */

/**
 * Describes a base service as an OAuth protected resource (RFC 9728). Pass the same object to
 * `protectedResourceMetadata()` (which serves the document) and to `baseTokenAuth()` (whose challenges
 * then point to it).
 *
 * @example
 * ```ts
 * const protectedResource: ProtectedResourceOptions = {
 *   resource: 'https://rows.example/bases/:base_uuid',
 *   authorizationServers: ['https://auth.example'],
 *   resourceName: 'Rows',
 * };
 * ```
 */
export interface ProtectedResourceOptions {
  /**
   * The resource identifier: an absolute `https` URL (`http` only for localhost) with no query, no
   * fragment and no credentials, written canonically (as `new URL(x).href` prints it, a bare origin
   * may omit the final `/`). Whole path segments `:name` are filled from the route parameter of that
   * name, URL-encoded: `https://rows.example/bases/:base_uuid` makes every base its own resource.
   */
  readonly resource: string;
  /** Issuer identifiers of the authorization servers (tokenladder's issuer), e.g. `https://auth.example`. */
  readonly authorizationServers: readonly string[];
  /** `scopes_supported`: the scope values clients may ask the authorization server for. */
  readonly scopesSupported?: readonly string[];
  /** `resource_name`: human-readable name shown to end users. */
  readonly resourceName?: string;
  /** `resource_documentation`: URL of developer documentation for the resource. */
  readonly resourceDocumentation?: string;
}

/**
 * The RFC 9728 §2 metadata document a base service publishes. `bearer_methods_supported` is always
 * `["header"]`: `baseTokenAuth` reads the `Authorization` header only.
 *
 * @example
 * ```ts
 * const doc: ProtectedResourceMetadata = await (await fetch(metadataUrl)).json();
 * doc.authorization_servers; // ['https://auth.example']
 * ```
 */
export interface ProtectedResourceMetadata {
  readonly resource: string;
  readonly authorization_servers: readonly string[];
  readonly scopes_supported?: readonly string[];
  readonly bearer_methods_supported: readonly ['header'];
  readonly resource_name?: string;
  readonly resource_documentation?: string;
}

/**
 * The well-known URI suffix of RFC 9728 §3.
 *
 * @example
 * ```ts
 * new URL(PROTECTED_RESOURCE_WELL_KNOWN, 'https://rows.example').href;
 * // 'https://rows.example/.well-known/oauth-protected-resource'
 * ```
 */
export const PROTECTED_RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource';

/**
 * A checked {@link ProtectedResourceOptions}: the document, the identifier and the metadata URL for a
 * request's route parameters, and the route pattern where the metadata is served.
 *
 * @example
 * ```ts
 * const pr: ProtectedResource = parseProtectedResource({
 *   resource: 'https://rows.example/bases/:base_uuid', authorizationServers: ['https://auth.example'] });
 * pr.metadataPath; // '/.well-known/oauth-protected-resource/bases/:base_uuid'
 * pr.resourceFor((name) => c.req.param(name)); // 'https://rows.example/bases/<uuid>'
 * ```
 */
export interface ProtectedResource {
  /** Route pattern of the metadata (RFC 9728 §3.1: the well-known suffix inserted before the resource's path). */
  readonly metadataPath: string;
  /** The resource identifier for these route parameters, or `undefined` if one of them is missing. */
  resourceFor(param: (name: string) => string | undefined): string | undefined;
  /** The absolute metadata URL for these route parameters, or `undefined` if one of them is missing. */
  metadataUrlFor(param: (name: string) => string | undefined): string | undefined;
  /** The metadata document of one resource identifier (from {@link resourceFor}). */
  document(resource: string): ProtectedResourceMetadata;
}

const PARAMETER = /^:([A-Za-z_][A-Za-z0-9_]*)$/;
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Parses an absolute https URL (http on loopback) without credentials, query or fragment. */
function checkedUrl(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`protectedResource: ${name} must be an absolute URL`);
  }
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
  if (!secure) throw new TypeError(`protectedResource: ${name} must use https (http only on localhost)`);
  if (url.username !== '' || url.password !== '' || value.includes('?') || value.includes('#')) {
    throw new TypeError(`protectedResource: ${name} must have no credentials, query or fragment`);
  }
  return url;
}

/**
 * Checks the options once (a bad configuration fails at start-up, not on a request).
 *
 * @throws TypeError naming the faulty option.
 * @example
 * ```ts
 * const pr = parseProtectedResource({ resource: 'https://rows.example', authorizationServers: [issuer] });
 * pr.metadataUrlFor(() => undefined); // 'https://rows.example/.well-known/oauth-protected-resource'
 * ```
 */
export function parseProtectedResource(options: ProtectedResourceOptions): ProtectedResource {
  const url = checkedUrl('resource', options.resource);
  if (url.href !== options.resource && url.href !== `${options.resource}/`) {
    throw new TypeError(`protectedResource: write resource canonically, as ${url.href}`);
  }
  // Everything after the origin, as written ('' for a bare origin): segments are literals or `:name`.
  const path = options.resource.slice(url.origin.length);
  const segments = path.split('/').slice(1);
  for (const segment of segments) {
    if (!PARAMETER.test(segment) && /[:*]/.test(segment)) {
      throw new TypeError('protectedResource: a resource path segment is a literal or a whole :name');
    }
  }
  if (options.authorizationServers.length === 0) {
    throw new TypeError('protectedResource: authorizationServers must name at least one issuer');
  }
  for (const issuer of options.authorizationServers) checkedUrl('authorizationServers', issuer);
  if (options.resourceDocumentation !== undefined) {
    checkedUrl('resourceDocumentation', options.resourceDocumentation);
  }
  if (options.scopesSupported?.some((scope) => !SCOPE_TOKEN.test(scope))) {
    throw new TypeError('protectedResource: scopesSupported entries must be RFC 6750 scope tokens');
  }

  const fill = (param: (name: string) => string | undefined): string | undefined => {
    const filled: string[] = [];
    for (const segment of segments) {
      const name = PARAMETER.exec(segment)?.[1];
      const value = name === undefined ? segment : param(name);
      if (value === undefined || (name !== undefined && value === '')) return undefined;
      filled.push(name === undefined ? value : encodeURIComponent(value));
    }
    return segments.length === 0 ? '' : `/${filled.join('/')}`;
  };
  const insertAt = (resourcePath: string) => (resourcePath === '/' ? '' : resourcePath);
  const base: Omit<ProtectedResourceMetadata, 'resource'> = {
    authorization_servers: [...options.authorizationServers],
    ...(options.scopesSupported && { scopes_supported: [...options.scopesSupported] }),
    bearer_methods_supported: ['header'],
    ...(options.resourceName !== undefined && { resource_name: options.resourceName }),
    ...(options.resourceDocumentation !== undefined && {
      resource_documentation: options.resourceDocumentation,
    }),
  };

  return {
    metadataPath: PROTECTED_RESOURCE_WELL_KNOWN + insertAt(path),
    resourceFor(param) {
      const filled = fill(param);
      return filled === undefined ? undefined : url.origin + filled;
    },
    metadataUrlFor(param) {
      const filled = fill(param);
      return filled === undefined ? undefined : url.origin + PROTECTED_RESOURCE_WELL_KNOWN + insertAt(filled);
    },
    document: (resource) => ({ resource, ...base }),
  };
}

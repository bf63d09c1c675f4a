import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { AppError } from '../errors';
import { constantTimeEqual } from '../lib/bytes';
import { checkApiTokenLive, loadApiTokenForExchange } from '../tokens/base-tokens';
import { matchesSecret } from '../tokens/kinds';
import { parseOpaqueToken } from '../tokens/opaque';
import { OAuthError } from './errors';
import type { ClientCredentials } from './form';

/**
 * Checks a client's credentials where authentication is optional (revocation: holding the token is
 * the credential). None sent: fine. Sent: they must be valid, as RFC 7009 §2.1 asks: a configured
 * resource server, or an API-Token client (client_id = its id, client_secret = the live token).
 */
export async function authenticateClientIfPresent(
  deps: Pick<Deps, 'db' | 'clock' | 'config' | 'hashToken'>,
  client: ClientCredentials,
): Promise<void> {
  const { clientId, clientSecret } = client;
  if (clientSecret === undefined) return;
  const hash = await deps.hashToken(clientSecret);
  const server = deps.config.oauth.introspectionClients.find((entry) => entry.id === clientId);
  if (server && constantTimeEqual(hash, server.secretHash)) return;
  const parsed = parseOpaqueToken(clientSecret);
  if (parsed?.kind === 'api' && (clientId === undefined || clientId === parsed.id)) {
    const token = await loadApiTokenForExchange(deps, parsed.id);
    if (token && matchesSecret(token, hash, epochSeconds(deps.clock)) !== null) {
      try {
        checkApiTokenLive(deps, token);
        return;
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
      }
    }
  }
  throw new OAuthError('invalid_client', 'the client credentials are not valid');
}

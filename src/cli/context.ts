import { InvalidArgumentError, type Command } from 'commander';
import type { TokenladderClient } from '../client';
import { accountToken } from './credentials';
import { CliError, EXIT } from './exit-codes';
import { clientFor } from './http';

export const DEFAULT_SERVER = 'http://localhost:8787';

export interface ClientOptions {
  server?: string;
  json?: boolean;
}

/** `--server` as one canonical key: scheme, host, port and path, without the trailing slash. */
export function parseServer(value: string): string {
  if (!URL.canParse(value)) throw new InvalidArgumentError('not a URL, e.g. https://auth.example.com');
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError('use an http:// or https:// URL');
  if (url.username || url.password || url.search || url.hash)
    throw new InvalidArgumentError('no credentials, query or fragment in the server URL');
  return url.href.replace(/\/+$/, '');
}

/** Every client command takes `--server` (or TOKENLADDER_URL) and `--json`. */
export function clientOptions(command: Command): Command {
  return command
    .option(
      '--server <url>',
      `tokenladder server (default: env TOKENLADDER_URL or ${DEFAULT_SERVER})`,
      parseServer,
    )
    .option('--json', 'machine-readable JSON output');
}

/** The server of a command: `--server`, else TOKENLADDER_URL, else the local default. */
export function serverOf(options: ClientOptions): string {
  try {
    return options.server ?? parseServer(process.env.TOKENLADDER_URL || DEFAULT_SERVER);
  } catch (error) {
    throw new CliError(`TOKENLADDER_URL: ${(error as Error).message}`, EXIT.usage, {
      hint: 'e.g. TOKENLADDER_URL=https://auth.example.com',
    });
  }
}

/** A typed client signed in with the stored (or TOKENLADDER_TOKEN) Account-Token. */
export function signedInClient(options: ClientOptions): TokenladderClient {
  const server = serverOf(options);
  return clientFor(server, accountToken(server));
}

export const anonymousClient = (options: ClientOptions): TokenladderClient => clientFor(serverOf(options));

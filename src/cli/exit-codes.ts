import { CommanderError } from 'commander';
import { TokenladderError } from '../client';

/** The `tokenladder` command's exit codes (also listed in `tokenladder --help`). */
export const EXIT = {
  ok: 0,
  /** The server refused or failed, the server is unreachable, or `verify` found the token invalid. */
  failure: 1,
  /** Bad command line: unknown command or option, missing or invalid argument. */
  usage: 2,
  /** Not signed in, or the server refused the credential (401): run `tokenladder login` again. */
  auth: 3,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  failure: the server refused or failed, could not be reached, or verify found the token invalid
  2  usage error
  3  authentication: not logged in, or the server refused the credential (401)`;

/** An expected failure of a client command, with the exit code it ends with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and version are not failures; commander has already printed usage errors.
    return error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      error.code === 'commander.help'
      ? EXIT.ok
      : EXIT.usage;
  }
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof TokenladderError) return error.status === 401 ? EXIT.auth : EXIT.failure;
  return EXIT.failure;
}

/** One line for stderr; the server's code is kept so scripts and people can look it up. */
export function describeError(error: unknown): string {
  if (error instanceof TokenladderError) return `${error.message} (${error.code}, HTTP ${error.status})`;
  if (error instanceof Error && error.message === 'fetch failed') {
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    return `cannot reach the server: ${cause?.code ?? cause?.message ?? 'network error'}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The `tokenladder` command's exit codes (also listed in `tokenladder --help` and docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** The server refused or failed; `verify`: the token is not a valid Base-Token. */
  failure: 1,
  /** Bad command line: unknown command or option, missing or invalid argument, no command. */
  usage: 2,
  /** Not logged in, or the server refused the Account-Token or password (401): run `tokenladder login`. */
  auth: 3,
  /** `verify`: the Base-Token is valid but revoked (the revocation feed lists it). */
  revoked: 4,
  /**
   * Could not reach or check: the server is unreachable or timed out, answered 429/502/503/504, or
   * `verify` could not read the signing keys or the revocation feed. Retrying later may succeed.
   */
  unavailable: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `
Exit codes:
  0  success (verify: the Base-Token is valid and not revoked)
  1  failure: the server refused or failed; verify: the token is not a valid Base-Token
  2  usage error: unknown command or option, missing or invalid argument
  3  authentication: not logged in, or the server refused the credential (401): run tokenladder login
  4  verify: the Base-Token is revoked
  5  unavailable: could not reach the server, rate-limited (429) or overloaded (502-504), or verify
     could not read the signing keys or the revocation feed; retrying later may succeed`;

/** What an error says, besides its message: all of it goes into `--json` errors. */
export interface ErrorDetails {
  /** Stable: a server error code (`token_revoked`), a verifier code, or the CLI's own (`unreachable`). */
  code?: string;
  /** The next step, e.g. "run tokenladder login". */
  hint?: string;
  /** The URL the command tried. */
  url?: string;
  /** The HTTP status the server answered. */
  status?: number;
  /** Seconds, from the server's `Retry-After`. */
  retry_after?: number;
  /** The server's request id, for its operator's logs. */
  request_id?: string;
}

/** An expected failure of a command, with the exit code it ends with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failure,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = 'CliError';
  }
}

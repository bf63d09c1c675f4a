// The program around the commands: version, help, exit codes, and one way to print errors
// (a line on stderr, or with --json a JSON object on stderr).
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version';
import { CliError, EXIT, EXIT_CODES_HELP, type ErrorDetails, type ExitCode } from './exit-codes';

export function createProgram(): Command {
  return (
    new Command('tokenladder')
      .description(
        'Token-hierarchy authentication service: serve it, manage it, and use it from scripts (docs/cli.md).',
      )
      .version(VERSION)
      // Inherited by every subcommand defined after this: errors come back to run() as exceptions,
      // which prints them in one format.
      .exitOverride()
      .configureOutput({ outputError: () => {} })
      .showSuggestionAfterError(true)
      .addHelpText(
        'after',
        `
Server commands (serve, migrate, user, keys, audit) open TOKENLADDER_DB directly and read the
TOKENLADDER_* configuration (docs/configuration.md).

Client commands (login, logout, bases, api-tokens, exchange, verify) talk to a server: --server or
TOKENLADDER_URL (default http://localhost:8787). They use the Account-Token from TOKENLADDER_TOKEN, else
the one \`tokenladder login\` stored in $XDG_CONFIG_HOME/tokenladder/credentials.json (~/.config/…, mode 0600).
Every client command takes --json (errors too: {"error":{"code","message",…}} on stderr). Secrets are
printed only by api-tokens create/regenerate, exchange and introspection-client.
${EXIT_CODES_HELP}`,
      )
  );
}

const DEFAULT_CODES: Record<ExitCode, string> = {
  0: 'ok',
  1: 'failed',
  2: 'usage',
  3: 'unauthenticated',
  4: 'token_revoked',
  5: 'unavailable',
};

/** The code, message, next step and exit code of any error a command ends with. */
export function reportOf(error: unknown): ErrorDetails & { message: string; exit_code: number } {
  if (error instanceof CliError)
    return {
      code: DEFAULT_CODES[error.exitCode],
      ...error.details,
      message: error.message,
      exit_code: error.exitCode,
    };
  if (error instanceof CommanderError) {
    // "error: unknown command 'lgoin'\n(Did you mean login?)": the suggestion becomes the hint.
    const [, message = error.message, suggestion] =
      /^(?:error: )?(.*?)(?:\s*\(Did you mean (.+)\?\))?\s*$/s.exec(error.message) ?? [];
    return {
      code: 'usage',
      message,
      hint: suggestion ? `did you mean ${suggestion}? see tokenladder --help` : 'see tokenladder --help',
      exit_code: EXIT.usage,
    };
  }
  // Configuration, database and other server-side failures: their message is written for people.
  return {
    code: 'failed',
    message: error instanceof Error ? error.message : String(error),
    exit_code: EXIT.failure,
  };
}

/** Parses and runs; ends the process with the command's exit code. */
export async function run(program: Command, argv: string[]): Promise<void> {
  const json = argv.slice(2).includes('--json');
  try {
    await program.parseAsync(argv);
    return;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version: done. Help shown for a missing (sub)command: a usage error.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version')
        process.exit(EXIT.ok);
      if (error.code === 'commander.help' || error.code === 'commander.executeSubCommandAsync') {
        if (argv.length <= 2)
          process.stderr.write('\ntokenladder: no command given (the server is `tokenladder serve`)\n');
        process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
      }
    }
    const report = reportOf(error);
    if (json) {
      const { code, message, ...fields } = report;
      process.stderr.write(`${JSON.stringify({ error: { code, message, ...fields } })}\n`);
    } else process.stderr.write(`tokenladder: ${report.message}${report.hint ? `; ${report.hint}` : ''}\n`);
    process.exit(report.exit_code);
  }
}

import { hostname } from 'node:os';
import type { Command } from 'commander';
import { clientOptions, serverOf, type ClientOptions } from './context';
import { forgetLogin, storedLogin, storeLogin } from './credentials';
import { CliError, EXIT } from './exit-codes';
import { clientFor, ok } from './http';
import { printJson } from './output';
import { ask, askHidden, isInteractive, readStdin } from './prompt';

interface LoginOptions extends ClientOptions {
  email?: string;
  passwordStdin?: boolean;
  name?: string;
  expiresInDays?: number;
}

/** `login` and `logout`: an Account-Token kept in the credentials file, never printed. */
export function registerSessionCommands(program: Command, parseDays: (value: string) => number) {
  clientOptions(
    program
      .command('login')
      .description(
        'sign in and store an Account-Token in $XDG_CONFIG_HOME/tokenladder/credentials.json (0600); asks for the password without echo',
      )
      .option('--email <email>', 'your email (asked when omitted)')
      .option('--password-stdin', 'read the password from standard input (scripts)')
      .option('--name <name>', 'a name for this Account-Token (default: tokenladder-cli@<host>)')
      .option(
        '--expires-in-days <days>',
        'expiry of the Account-Token (at most the server maximum)',
        parseDays,
      ),
  ).action(async (options: LoginOptions) => {
    const server = serverOf(options);
    if (!options.email && !isInteractive())
      throw new CliError('no terminal to ask for the email: use --email', EXIT.usage);
    const email = options.email ?? (await ask('Email: '));
    const password = options.passwordStdin ? await readStdin() : await askHidden('Password: ');
    const name = options.name ?? `tokenladder-cli@${hostname()}`.slice(0, 100);
    const signedIn = ok(
      await clientFor(server).POST('/api/v1/account-tokens', {
        body: { email, password, name, expires_in_days: options.expiresInDays },
      }),
      'password',
    );
    const file = storeLogin(server, {
      token: signedIn.token,
      token_id: signedIn.id,
      email,
      created_at: signedIn.created_at,
    });
    if (options.json)
      return printJson({
        server,
        email,
        token_id: signedIn.id,
        expires_at: signedIn.expires_at,
        credentials_file: file,
      });
    console.log(`logged in to ${server} as ${email}; Account-Token ${signedIn.id} stored in ${file}`);
  });

  clientOptions(
    program.command('logout').description('revoke the stored Account-Token on the server and forget it'),
  ).action(async (options: ClientOptions) => {
    const server = serverOf(options);
    const stored = storedLogin(server);
    if (!stored) throw new CliError(`not logged in to ${server}`, EXIT.auth, { code: 'not_logged_in' });
    const result = await clientFor(server, stored.token).DELETE('/api/v1/account-tokens/{id}', {
      params: { path: { id: stored.token_id } },
    });
    // Already revoked or expired (401) is fine: forgetting it is all that is left to do.
    if (result.error !== undefined && result.response.status !== 401) ok(result);
    forgetLogin(server);
    if (options.json) return printJson({ server, logged_out: true, revoked: result.response.ok });
    console.log(`logged out of ${server}${result.response.ok ? '; the Account-Token is revoked' : ''}`);
  });
}

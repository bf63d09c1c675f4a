// Where `tokenladder login` keeps Account-Tokens: one 0600 JSON file in a 0700 directory, a token per server.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError, EXIT } from './exit-codes';

export interface StoredLogin {
  token: string;
  token_id: string;
  email: string;
  created_at: string;
}

interface CredentialsFile {
  servers: Record<string, StoredLogin>;
}

/** `$XDG_CONFIG_HOME/tokenladder`, else `~/.config/tokenladder`. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME?.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'tokenladder');
}

export const credentialsFile = (env: NodeJS.ProcessEnv = process.env) =>
  join(configDir(env), 'credentials.json');

function read(file: string): CredentialsFile {
  if (!existsSync(file)) return { servers: {} };
  // Like ssh with a private key: say so when others could read the tokens.
  if ((statSync(file).mode & 0o077) !== 0)
    process.stderr.write(`tokenladder: warning: ${file} is readable by others; run chmod 600 ${file}\n`);
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<CredentialsFile>;
    return { servers: parsed.servers ?? {} };
  } catch {
    throw new CliError(`${file} is not valid JSON`, EXIT.failure, {
      code: 'credentials_unreadable',
      hint: 'delete it and run tokenladder login',
    });
  }
}

function write(file: string, content: CredentialsFile): void {
  const dir = configDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  // Written whole to a private temporary file, then renamed: never a half-written or world-readable token.
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600, flag: 'w' });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

export function storedLogin(server: string): StoredLogin | undefined {
  return read(credentialsFile()).servers[server];
}

export function storeLogin(server: string, login: StoredLogin): string {
  const file = credentialsFile();
  const content = read(file);
  content.servers[server] = login;
  write(file, content);
  return file;
}

/** Forgets the server's login; true when there was one. */
export function forgetLogin(server: string): boolean {
  const file = credentialsFile();
  const content = read(file);
  if (!(server in content.servers)) return false;
  delete content.servers[server];
  write(file, content);
  return true;
}

/** The Account-Token to use: `TOKENLADDER_TOKEN`, else the stored login for this server. */
export function accountToken(server: string): string {
  const fromEnv = process.env.TOKENLADDER_TOKEN;
  if (fromEnv) return fromEnv;
  const stored = storedLogin(server);
  if (!stored)
    throw new CliError(`not logged in to ${server}`, EXIT.auth, {
      code: 'not_logged_in',
      hint: `run tokenladder login --server ${server}, or set TOKENLADDER_TOKEN`,
    });
  return stored.token;
}

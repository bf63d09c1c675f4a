// A private PostgreSQL 15 cluster for tests that crash the database itself (`pg_ctl stop -m immediate`):
// initdb in a temp folder, served on a free loopback port with its socket in that folder, stopped and
// removed by the test. Never the machine's shared server; only the postmaster of that folder is signalled
// (through pg_ctl and the folder's postmaster.pid), never a process found by name.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './processes';

/** Where PostgreSQL 15's server programs are (TOKENLADDER_TEST_PG_BIN overrides). */
export const PG_BIN = process.env.TOKENLADDER_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** initdb refuses to run as root: as root, the server programs run as the `postgres` user. */
function osUser(): { uid: number; gid: number } | null {
  if (!isRoot()) return null;
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return null;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Why a private cluster cannot be started here, or null when it can. */
export function privatePostgresProblem(): string | null {
  for (const program of ['initdb', 'pg_ctl'])
    if (!existsSync(join(PG_BIN, program))) return `${join(PG_BIN, program)} not found`;
  if (isRoot()) {
    if (osUser() === null) return 'running as root, and there is no `postgres` user to run initdb as';
    if (spawnSync('runuser', ['--help']).error) return 'running as root, and runuser is missing';
  }
  return null;
}

export interface PrivatePostgres {
  port: number;
  /** The temp folder: data in `data/`, the socket and `server.log` beside it. */
  dir: string;
  /** Connection URL of the `postgres` database (superuser, trust auth on loopback). */
  adminUrl: string;
  /** A URL for database `name` on this cluster. */
  urlFor(name: string): string;
  /** Creates database `name` (plain identifier) and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** The postmaster's PID (from the folder's postmaster.pid), or null when not running. */
  pid(): number | null;
  /** Starts the server (waits until it accepts connections). */
  start(): Promise<void>;
  /** `pg_ctl stop -m <mode>`: `immediate` is a crash (no checkpoint; recovery replays the WAL at the next start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops (if running) and removes the folder. Safe to call twice. */
  cleanup(): Promise<void>;
  /** The server log so far (for failure messages). */
  log(): string;
}

export interface PrivatePostgresOptions {
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string | number>;
  /** Upper bound for `pg_ctl start` to report ready. */
  startTimeoutSeconds?: number;
}

/** Runs a server program (as `postgres` when we are root); resolves with its output, rejects on a non-zero exit. */
function run(program: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const path = join(PG_BIN, program);
  const [command, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
  return new Promise((resolve, reject) => {
    // detached: pg_ctl's postmaster must not share our process group (a test killing its own group must
    // not take the database down by accident, and vice versa).
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${program} ${args.join(' ')} → ${code ?? signal}:\n${output}`));
    });
  });
}

/** Clusters this process started and has not cleaned up: stopped at exit so none outlives a crashed test run. */
const live = new Set<{ dataDir: string; dir: string }>();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const { dataDir, dir } of live) {
      const path = join(PG_BIN, 'pg_ctl');
      const args = ['-D', dataDir, '-m', 'immediate', '-w', 'stop'];
      spawnSync(
        ...((isRoot() ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args]) as [
          string,
          string[],
        ]),
      );
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/**
 * initdb a new cluster in a temp folder and start it on a free loopback port (fsync on: the crash
 * scenarios are about durability). Call `cleanup()` in afterAll.
 *
 * @example
 * const server = await startPrivatePostgres();
 * const url = await server.createDatabase('crash');
 * await server.stop('immediate'); await server.start();
 * await server.cleanup();
 */
export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const problem = privatePostgresProblem();
  if (problem) throw new Error(`cannot start a private PostgreSQL: ${problem}`);
  const dir = mkdtempSync(join(tmpdir(), 'tl-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const owner = osUser();
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const entry = { dataDir, dir };
  live.add(entry);
  installExitHook();
  const port = await freePort();
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    max_connections: 80,
    shared_buffers: '64MB',
    fsync: 'on',
    ...options.settings,
  };
  const serverOptions = [
    `-p ${port}`,
    `-k ${dir}`,
    ...Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`),
  ].join(' ');
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const urlFor = (name: string) => `postgres://postgres@127.0.0.1:${port}/${name}`;
  let cleaned = false;

  const pid = () => {
    try {
      const first = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0];
      const value = Number(first);
      return Number.isInteger(value) && value > 0 ? value : null;
    } catch {
      return null;
    }
  };
  const server: PrivatePostgres = {
    port,
    dir,
    adminUrl,
    urlFor,
    pid,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return urlFor(name);
    },
    async start() {
      const seconds = String(options.startTimeoutSeconds ?? 60);
      await run('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', serverOptions, '-t', seconds, '-w', 'start']);
    },
    async stop(mode = 'fast') {
      await run('pg_ctl', ['-D', dataDir, '-m', mode, '-t', '60', '-w', 'stop']);
    },
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      if (pid() !== null) await server.stop('immediate').catch(() => {});
      live.delete(entry);
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
  };
  try {
    await run('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await server.start();
  } catch (error) {
    await server.cleanup();
    throw error;
  }
  return server;
}

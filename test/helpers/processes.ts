import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  stop: () => Promise<void>;
}

/** Starts a process and resolves once `ready` matches its output; rejects if it exits or times out first. */
export function start(
  command: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 15_000,
): Promise<Running> {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const running: Running = {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`not ready after ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    const check = () => {
      if (ready.test(stdout) || ready.test(stderr)) {
        clearTimeout(timer);
        resolve(running);
      }
    };
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      check();
    });
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      check();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ready:\n${stdout}\n${stderr}`));
    });
  });
}

/**
 * `tokenladder serve` (what `npm start` runs) on a free loopback port, its issuer that URL unless
 * `env` says otherwise; resolves once it listens.
 */
export async function serveTokenladder(
  env: Record<string, string>,
  timeoutMs?: number,
): Promise<Running & { url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await start(
    'node',
    ['bin/tokenladder.mjs', 'serve'],
    { PORT: String(port), TOKENLADDER_ISSUER: url, ...env },
    /"listening"/,
    timeoutMs,
  );
  return Object.assign(server, { url });
}

/** JSON over real HTTP: `call(method, path, token?, body?, at?)` → `{status, body}`. */
export function jsonCaller(baseUrl: () => string, scheme: 'Bearer' | 'Token' = 'Bearer') {
  return async (method: string, path: string, token?: string, body?: unknown, at = baseUrl()) => {
    const response = await fetch(at + path, {
      method,
      headers: {
        ...(token && { authorization: `${scheme} ${token}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
}

/**
 * Runs a command to its end without blocking this process's event loop (a server started by the
 * test keeps serving meanwhile): its exit status and whole output.
 */
export function runToEnd(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

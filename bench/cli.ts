// Start-up time of the `tokenladder` command as a user runs it: `node bin/tokenladder.mjs …`, a fresh
// process per call, wall time from spawn to exit. Not a test: it prints medians and asserts nothing.
//
//   node --import tsx bench/cli.ts                 # 10 runs per command
//   node --import tsx bench/cli.ts --runs 20 --bin path/to/other/tokenladder.mjs
//
// `bases list` runs against a local server started here (its own temporary database), signed in
// through TOKENLADDER_TOKEN. The first run of each command is a warm-up and is not counted.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    bin: { type: 'string', default: join(ROOT, 'bin', 'tokenladder.mjs') },
  },
});
const runs = Number(values.runs);
const bin = resolve(values.bin!);
const ADMIN = { email: 'bench@example.com', password: 'a bench password, long enough' };

const dir = mkdtempSync(join(tmpdir(), 'tokenladder-bench-cli-'));
const serverEnv = {
  PATH: process.env.PATH ?? '',
  HOME: dir,
  TOKENLADDER_DB: join(dir, 'bench.db'),
  TOKENLADDER_SCRYPT: 'ln=10,r=8,p=1',
  TOKENLADDER_ADMIN_EMAIL: ADMIN.email,
  TOKENLADDER_ADMIN_PASSWORD: ADMIN.password,
};

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolvePort(port));
    });
  });
}

/** `tokenladder serve` from the same bin, on a free port; resolves with its URL once it listens. */
async function startServer(): Promise<{ url: string; stop: () => void; startMs: number }> {
  const port = String(await freePort());
  const begin = performance.now();
  const child = spawn(process.execPath, [bin, 'serve'], {
    cwd: ROOT,
    env: { ...serverEnv, PORT: port, TOKENLADDER_ISSUER: `http://127.0.0.1:${port}` },
  });
  let output = '';
  return new Promise((resolveStart, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (output.includes('"listening"'))
        resolveStart({
          url: `http://127.0.0.1:${port}`,
          stop: () => child.kill('SIGTERM'),
          startMs: performance.now() - begin,
        });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
}

function time(args: string[], env: Record<string, string>): number {
  const begin = performance.now();
  // `-e 0`: an empty Node process, the floor any command pays on this machine now.
  const argv = args[0] === '-e' ? args : [bin, ...args];
  const result = spawnSync(process.execPath, argv, { cwd: ROOT, env, encoding: 'utf8' });
  const ms = performance.now() - begin;
  if (result.status !== 0)
    throw new Error(`tokenladder ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return ms;
}

const median = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const server = await startServer();
try {
  const login = await fetch(`${server.url}/api/v1/account-tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...ADMIN, name: 'bench' }),
  });
  const { token } = (await login.json()) as { token: string };
  await fetch(`${server.url}/api/v1/bases`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ name: 'Bench' }),
  });
  const env = { PATH: process.env.PATH ?? '', HOME: dir, XDG_CONFIG_HOME: join(dir, 'config') };
  const clientEnv = { ...env, TOKENLADDER_URL: server.url, TOKENLADDER_TOKEN: token };
  const commands: [string, string[], Record<string, string>, number][] = [
    ['node -e 0 (an empty Node process)', ['-e', '0'], env, 0],
    ['tokenladder --version', ['--version'], env, 500],
    ['tokenladder --help', ['--help'], env, 500],
    ['tokenladder bases list', ['bases', 'list'], clientEnv, 1000],
  ];
  console.log(
    `${availableParallelism()} cores, load ${loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}, Node ${process.version}, ${runs} runs each (+1 warm-up), bin ${bin}`,
  );
  console.log(`server start to "listening": ${server.startMs.toFixed(0)} ms (one run)\n`);
  console.log('| command | median ms | min ms | max ms | goal ms |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const [name, args, commandEnv, goal] of commands) {
    time(args, commandEnv);
    const samples = Array.from({ length: runs }, () => time(args, commandEnv));
    console.log(
      `| \`${name}\` | ${median(samples).toFixed(0)} | ${Math.min(...samples).toFixed(0)} | ${Math.max(...samples).toFixed(0)} | ${goal ? `< ${goal}` : ''} |`,
    );
  }
} finally {
  server.stop();
  rmSync(dir, { recursive: true, force: true });
}

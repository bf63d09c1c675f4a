import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, ROOT, serveTokenladder, start, type Running } from '../helpers/processes';

// Issue 15: "the walkthrough is itself a test". The README's walkthrough is read from README.md at
// test time (never a copy): the start commands' variables, the bash blocks between the markers and
// the output the text promises. The blocks run, as written, in one bash against a fresh tokenladder
// and the example base service on free ports in a temporary folder.

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The fenced blocks of `lang` between `<!-- name:start -->` and `<!-- name:end -->`. */
function blocks(name: string, lang: string): string[] {
  const start = README.indexOf(`<!-- ${name}:start -->`);
  const end = README.indexOf(`<!-- ${name}:end -->`);
  if (start < 0 || end < start) throw new Error(`README.md: no ${name} markers`);
  const fence = new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'gm');
  return [...README.slice(start, end).matchAll(fence)].map((match) => match[1]!);
}

/** The walkthrough section's shell block running `command`, as `VAR=value` pairs and the rest. */
function startCommand(command: string): { env: Record<string, string>; rest: string } {
  const section = README.slice(
    README.indexOf('## Walk the whole chain'),
    README.indexOf('<!-- walkthrough:start -->'),
  );
  const block = [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)]
    .map((match) => match[1]!.replace(/\\\n\s*/g, ' ').trim())
    .find((text) => text.includes(command));
  if (!block) throw new Error(`README.md: no sh block running ${command}`);
  const env: Record<string, string> = {};
  let rest = block;
  for (;;) {
    const pair = /^([A-Z_][A-Z0-9_]*)=('[^']*'|\S*)\s+/.exec(rest);
    if (!pair) break;
    env[pair[1]!] = pair[2]!.replace(/^'(.*)'$/, '$1');
    rest = rest.slice(pair[0].length);
  }
  return { env, rest };
}

/** Runs `script` with bash; resolves with its exit code and output. */
function bash(script: string, env: Record<string, string>, cwd: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('bash', [script], { cwd, env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe("README's walkthrough, run as written", () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-walkthrough-'));
  const running: Running[] = [];
  let tl: string;
  let bases: string;

  beforeAll(async () => {
    for (const tool of ['curl', 'jq'])
      expect(
        existsSync(`/usr/bin/${tool}`),
        `${tool} is missing: run scripts/ensure-walkthrough-tools.sh (.ci/run does)`,
      ).toBe(true);
    const server = startCommand('npm start');
    expect(server.rest).toBe('npm start');
    expect(server.env.TOKENLADDER_DB, 'the walkthrough has its own database').toBeDefined();
    const tokenladder = await serveTokenladder({
      ...server.env,
      TOKENLADDER_DB: join(dir, 'walkthrough.db'),
      // The feed advises verifiers to poll every second, so step 8 takes about a second, not 30.
      TOKENLADDER_REVOCATION_POLL: '1',
      TOKENLADDER_SCRYPT: 'ln=12,r=8,p=1',
    });
    running.push(tokenladder);
    tl = tokenladder.url;

    const service = startCommand('examples/base-service.ts');
    expect(service.rest).toBe('npx tsx examples/base-service.ts');
    expect(service.env.TOKENLADDER_URL).toBe('http://localhost:8787');
    const port = await freePort();
    bases = `http://127.0.0.1:${port}`;
    running.push(
      await start(
        'node',
        ['--import', 'tsx', 'examples/base-service.ts'],
        { TOKENLADDER_URL: tl, PORT: String(port) },
        /base service on/,
      ),
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.all(running.map((process) => process.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('succeeds and prints what the README says it prints', async () => {
    const steps = blocks('walkthrough', 'bash');
    expect(steps.length).toBeGreaterThanOrEqual(3);
    expect(steps[0]).toMatch(/^set -euo pipefail\n/);
    for (const step of steps) expect(step, 'curl -fsS or an explicit status check').not.toMatch(/curl -s /);
    const script = join(dir, 'walkthrough.sh');
    writeFileSync(script, steps.join('\n'));
    const run = await bash(script, { TL: tl, BASES: bases }, dir);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);

    const [promised] = blocks('walkthrough-output', 'text');
    const expected = promised!.replaceAll('http://localhost:8787', tl).trimEnd().split('\n');
    const printed = run.stdout.trimEnd().split('\n');
    expect(printed).toHaveLength(expected.length);
    expected.forEach((line, index) => {
      const pattern = new RegExp(`^${line.split('…').map(escapeRegExp).join('.+')}$`);
      expect(printed[index], `line ${index + 1}`).toMatch(pattern);
    });
  }, 60_000);

  it('a failing step stops the walkthrough with the error, not a later misleading one', async () => {
    // The old walkthrough's failure: the admin variables ignored, so sign-in got 401 and every later
    // step ran with the string "null". Now the first step fails and nothing after it runs.
    const steps = blocks('walkthrough', 'bash');
    const script = join(dir, 'wrong-password.sh');
    writeFileSync(script, steps.join('\n').replace('change me to a long passphrase', 'not the password'));
    const run = await bash(script, { TL: tl, BASES: bases }, dir);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('401');
    expect(run.stdout).toBe('');
  }, 30_000);
});

// The CLI and the signing algorithm: TOKENLADDER_SIGNING_ALG chooses the first key's algorithm and the
// default of `keys rotate`; `keys rotate --alg` overrides it, and refuses anything but the three.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ROOT } from '../helpers/processes';

describe('tokenladder keys and TOKENLADDER_SIGNING_ALG', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenladder-cli-alg-'));
  const env = {
    PATH: process.env.PATH ?? '',
    TOKENLADDER_DB: join(dir, 'cli.db'),
    TOKENLADDER_SCRYPT: 'ln=10,r=8,p=1',
    TOKENLADDER_SIGNING_ALG: 'ES256',
  };
  const cli = (args: string[], extraEnv: Record<string, string> = {}) =>
    spawnSync('node', [inject('cliBundle'), ...args], {
      cwd: ROOT,
      env: { ...env, ...extraEnv },
      encoding: 'utf8',
    });
  const keys = () => {
    const listed = cli(['keys', 'list', '--json']);
    expect(listed.status, listed.stderr).toBe(0);
    return JSON.parse(listed.stdout) as { kid: string; alg: string; state: string }[];
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('makes the first key with the configured algorithm, rotates to it by default and to --alg when given', () => {
    expect(cli(['migrate']).status).toBe(0);
    expect(keys()).toEqual([expect.objectContaining({ alg: 'ES256', state: 'current' })]);

    const planned = cli(['keys', 'rotate', '--delay', '600']);
    expect(planned.status, planned.stderr).toBe(0);
    expect(planned.stdout).toMatch(/new key \S{43} \(next\), ES256, signs from /);

    const emergency = cli(['keys', 'rotate', '--revoke-old', '--alg', 'RS256']);
    expect(emergency.status, emergency.stderr).toBe(0);
    expect(emergency.stdout).toMatch(/new key \S{43} \(current\), RS256, /);
    expect(keys().map((key) => [key.alg, key.state])).toEqual([['RS256', 'current']]);

    const back = cli(['keys', 'rotate', '--revoke-old', '--alg', 'EdDSA']);
    expect(back.status, back.stderr).toBe(0);
    const table = cli(['keys', 'list']).stdout.trimEnd().split('\n');
    expect(table[1]).toMatch(/^\S{43} {2}EdDSA {2}current {2}/);
  });

  it('refuses an --alg other than EdDSA, ES256 and RS256 (usage, exit 2), changing nothing', () => {
    const before = keys();
    for (const alg of ['HS256', 'none', 'es256', 'PS256']) {
      const refused = cli(['keys', 'rotate', '--alg', alg]);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toMatch(/--alg.*(EdDSA|choices)/s);
    }
    expect(keys()).toEqual(before);
  });

  it('refuses an unknown TOKENLADDER_SIGNING_ALG, naming the variable, changing nothing', () => {
    const before = keys();
    const refused = cli(['keys', 'rotate'], { TOKENLADDER_SIGNING_ALG: 'HS256' });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('TOKENLADDER_SIGNING_ALG: must be one of EdDSA, ES256, RS256');
    expect(keys()).toEqual(before);
  });
});

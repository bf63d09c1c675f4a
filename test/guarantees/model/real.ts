import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PASSWORD, testApp, type CallOptions, type CallResult, type TestApp } from '../../helpers/app';
import { feedVerifier } from '../../helpers/feed-verifier';
import { start } from '../../helpers/processes';
import type { Model, Role } from './rules';

// The system under test: the real app in this process (SQLite, frozen clock) and, for the two-process
// run, a child process (test/helpers/child-app.ts) serving the same app over the same database file,
// its clock set by every request to the parent's. A verifier reads the feed through the in-process app.

export type Reply = Pick<CallResult, 'status' | 'body'> & {
  /** What the request sent that the model needs to judge it (a secret), or the model object it targeted. */
  sent?: string;
  target?: number;
};

export interface Proc {
  name: string;
  call(method: string, path: string, options?: CallOptions): Promise<Reply>;
}

export interface Stats {
  sequences: number;
  steps: number;
  races: number;
  exchanges: number;
  /** Base-Tokens issued. */
  issued: number;
  checks: number;
  /** Verdicts: accepted, and refused because something ended the token (not only expired). */
  accepted: number;
  ended: number;
  /** How many Base-Tokens each kind of change ended (debugging aid: TOKENLADDER_MODEL_VERBOSE=1). */
  why: Record<string, number>;
}

export const newStats = (): Stats => ({
  sequences: 0,
  steps: 0,
  races: 0,
  exchanges: 0,
  issued: 0,
  checks: 0,
  accepted: 0,
  ended: 0,
  why: {},
});

export interface Real {
  procs: Proc[];
  clock: { now(): number; advance(seconds: number): void };
  /** A system admin's Account-Token. */
  admin: string;
  verifier: ReturnType<typeof feedVerifier>;
  /** For unique names and client addresses. */
  counter: number;
  /** The steps run in this sequence with their answers, for the failure message. */
  trace: string[];
  stats: Stats;
  close(): void;
}

const inProcess = (t: TestApp): Proc => ({ name: 'A', call: t.call });

/**
 * An admin, three people with one Account-Token each, three bases: Zero and Two in user 0's workspace,
 * One in user 1's. Zero: user 0 admin, user 1 rw, user 2 r; One: user 1 admin, user 2 rw; Two: user 0
 * admin, user 1 r.
 */
async function setup(t: TestApp, procs: Proc[], offsets: number[], stats: Stats, close: () => void) {
  const admin = await t.login();
  const ok = (response: CallResult, what: string) => {
    if (response.status >= 300)
      throw new Error(`${what}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const model: Model = {
    now: 0,
    offsets,
    users: [],
    bases: [],
    accountTokens: [],
    temps: [],
    apiTokens: [],
    baseTokens: [],
    policy: { maxLifetimeDays: null, forbidAllBases: false, serviceMax: 'rw' },
  };
  for (let i = 0; i < 3; i++) {
    const email = `user${i}@example.com`;
    const user = ok(
      await t.call('POST', '/api/v1/users', {
        token: admin,
        body: { email, password: PASSWORD, role: 'user' },
      }),
      'create user',
    );
    const session = ok(
      await t.call('POST', '/api/v1/account-tokens', { body: { email, password: PASSWORD } }),
      'sign in',
    );
    const workspaces = ok(await t.call('GET', '/api/v1/workspaces', { token: session.token }), 'workspaces');
    model.users.push({
      id: user.id,
      email,
      password: PASSWORD,
      kind: 'person',
      active: true,
      workspaceId: workspaces.workspaces[0].id,
    });
    model.accountTokens.push({
      id: session.id,
      secret: session.token,
      user: i,
      endsAt: null,
      revoked: false,
    });
  }
  const layout: [string, number, [number, Role][]][] = [
    [
      'Zero',
      0,
      [
        [1, 'rw'],
        [2, 'r'],
      ],
    ],
    ['One', 1, [[2, 'rw']]],
    ['Two', 0, [[1, 'r']]],
  ];
  for (const [name, owner, members] of layout) {
    const ownerToken = model.accountTokens[owner]!.secret;
    const base = ok(
      await t.call('POST', '/api/v1/bases', { token: ownerToken, body: { name } }),
      'create base',
    );
    for (const [user, permission] of members)
      ok(
        await t.call('PUT', `/api/v1/bases/${base.uuid}/members/${model.users[user]!.id}`, {
          token: ownerToken,
          body: { permission },
        }),
        'add member',
      );
    model.bases.push({ uuid: base.uuid, name, owner, members: new Map([[owner, 'admin'], ...members]) });
  }
  t.clock.advance(1);
  model.now = Math.floor(t.clock.now() / 1000);
  const real: Real = {
    procs,
    clock: t.clock,
    admin,
    verifier: feedVerifier(t),
    counter: 0,
    trace: [],
    stats,
    close,
  };
  return { model, real };
}

/** The in-process world: one app over in-memory SQLite. */
export async function inProcessWorld(stats: Stats) {
  const t = await testApp();
  return setup(t, [inProcess(t)], [0], stats, () => t.raw.close());
}

/** A child process serving the app (test/helpers/child-app.ts); it opens each sequence's database file. */
export interface Child {
  open(file: string, kek: string, now: number): Promise<void>;
  /** The child's process, its clock `offset` seconds ahead of `clock` (behind, if negative). */
  proc(clock: { now(): number }, offset: number): Proc;
  stop(): Promise<void>;
}

export async function startChild(): Promise<Child> {
  const running = await start(
    'node',
    ['--import', 'tsx', 'test/helpers/child-app.ts'],
    {},
    /listening \d+/,
    30_000,
  );
  const url = `http://127.0.0.1:${/listening (\d+)/.exec(running.stdout())![1]}`;
  return {
    async open(file, kek, now) {
      const response = await fetch(`${url}/__child/open`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ file, kek, now }),
      });
      if (response.status !== 204) throw new Error(`child: open answered ${response.status}`);
    },
    proc: (clock, offset) => ({
      name: 'B',
      async call(method, path, options = {}) {
        const headers: Record<string, string> = {
          ...options.headers,
          'x-child-now': String(clock.now() + offset * 1000),
        };
        if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
        let body: string | undefined;
        if (options.body !== undefined) {
          body = JSON.stringify(options.body);
          headers['content-type'] = 'application/json';
        }
        const response = await fetch(url + path, { method, headers, body });
        const text = await response.text();
        return { status: response.status, body: text ? JSON.parse(text) : null };
      },
    }),
    stop: () => running.stop(),
  };
}

/**
 * The two-process world: the in-process app and the child over one new database file, the child's
 * clock `offset` seconds ahead of this process's (behind, if negative).
 */
export async function twoProcessWorld(child: Child, stats: Stats, offset: number) {
  const dir = mkdtempSync(join(tmpdir(), 'tl-model-'));
  const file = join(dir, 'tokenladder.db');
  const t = await testApp({ file });
  await child.open(file, t.kekText, t.clock.now() + offset * 1000);
  return setup(t, [inProcess(t), child.proc(t.clock, offset)], [0, offset], stats, () => {
    t.raw.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

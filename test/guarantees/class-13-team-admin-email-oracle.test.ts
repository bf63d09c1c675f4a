import { describe, expect, it } from 'vitest';
import { PASSWORD, testApp } from '../helpers/app';
import { dbDigest } from '../helpers/db-digest';

/** README (Security model): a team admin learns "this email is taken" at most this often. */
const CONFLICTS_PER_DAY = 10;

async function setup() {
  const t = await testApp();
  const admin = await t.login();
  const team = async (name: string) =>
    (await t.call('POST', '/api/v1/teams', { token: admin, body: { name } })).body.id as string;
  const red = await team('Red');
  const blue = await team('Blue');
  const lead = await t.userWithToken(admin, 'lead@example.com', { role: 'team_admin', team_id: red });
  await t.call('GET', '/api/v1/me', { token: lead.token }); // its first use records last_used_at
  await t.userWithToken(admin, 'red1@example.com', { team_id: red });
  await t.userWithToken(admin, 'blue1@example.com', { team_id: blue });
  await t.userWithToken(admin, 'loner@example.com');
  const create = (email: string, token = lead.token) =>
    t.call('POST', '/api/v1/users', { token, body: { email, password: PASSWORD, role: 'user' } });
  return { t, admin, lead, red, blue, create };
}

describe('class 13: Team admins learn whether an email exists anywhere on the instance', () => {
  it('answers a taken email the same way wherever the account is, and tells nothing more', async () => {
    const { t, create } = await setup();
    const before = dbDigest(t.raw);
    const own = await create('red1@example.com');
    const otherTeam = await create('BLUE1@example.com');
    const noTeam = await create('loner@example.com');
    for (const answer of [own, otherTeam, noTeam]) {
      expect(answer.status).toBe(409);
      expect(answer.body.error.code).toBe('conflict');
    }
    expect(otherTeam.body.error.message).toBe(own.body.error.message);
    expect(noTeam.body.error.message).toBe(own.body.error.message);
    expect(Object.keys(otherTeam.body)).toEqual(['error']);
    expect(Object.keys(otherTeam.body.error).sort()).toEqual(['code', 'message', 'request_id']);
    expect(dbDigest(t.raw)).toBe(before);
  });

  it("bounds a team admin's probing: past the daily budget every create is refused, taken or free", async () => {
    const { t, admin, lead, create } = await setup();
    for (let i = 0; i < CONFLICTS_PER_DAY; i++)
      expect((await create(i % 2 ? 'blue1@example.com' : 'loner@example.com')).status).toBe(409);
    const before = dbDigest(t.raw);
    // Now a taken and a free email get the same answer: no more oracle today.
    const taken = await create('blue1@example.com');
    const free = await create('never-seen@example.com');
    expect(taken.status).toBe(429);
    expect(free.status).toBe(429);
    expect({ ...free.body.error, request_id: null }).toEqual({ ...taken.body.error, request_id: null });
    expect(free.headers.get('retry-after')).toBe(taken.headers.get('retry-after'));
    expect(dbDigest(t.raw)).toBe(before);
    // Successful creates do not use the budget up; the next day it is back.
    t.clock.advance(86400);
    for (let i = 0; i < CONFLICTS_PER_DAY + 2; i++)
      expect((await create(`new${i}@example.com`)).status).toBe(201);
    expect((await create('blue1@example.com')).status).toBe(409);

    // Every probe is on record for system admins (who see every team); the record names no other user.
    const probes = await t.call('GET', '/api/v1/audit?action=user.create&outcome=failure&limit=200', {
      token: admin,
    });
    const records = probes.body.events as {
      actor: { user_id: string };
      subject_user_id: string | null;
      details: Record<string, unknown>;
    }[];
    expect(records.length).toBeGreaterThanOrEqual(CONFLICTS_PER_DAY + 1);
    for (const record of records) {
      expect(record.actor.user_id).toBe(lead.id);
      expect(record.subject_user_id).toBeNull();
      expect(record.details).toMatchObject({ code: 'conflict' });
    }
  });

  it('leaves system admins unlimited', async () => {
    const { admin, create } = await setup();
    for (let i = 0; i < CONFLICTS_PER_DAY + 5; i++)
      expect((await create('blue1@example.com', admin)).status).toBe(409);
    expect((await create('fresh@example.com', admin)).status).toBe(201);
  });
});

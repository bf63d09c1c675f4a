import { describe, it } from 'vitest';
import { inProcessWorld, newStats } from './model/real';
import { envNumber, runModel } from './model/run';

// Issue 13, "Prove it with a model": random sequences of operations by several users on several bases,
// run against the real app and against a small reference model of who may do what
// (test/guarantees/model/rules.ts states the rules at its top; model/commands.ts the operations). After
// every step every Base-Token ever issued is checked by the real verifier with a synced feed: accepted
// exactly when the model says its holder still has that access through its source, and never with more
// than the model allows. Every exchange's answer (refused, or the exact grant and `exp`) is checked too.
//
// Covered: API-Tokens for one base, a list of bases, a workspace or all bases, with r, rw or custom
// scopes and an expiry; exchange (current and old secrets), disable/enable/delete, regenerate with and
// without a grace period, PATCH of the grant and of the expiry, by the owner or a system admin (who may
// not regenerate a person's token); Account-Tokens (more than one per user, expiring ones, sign-out, a
// password change keeping or ending the others, a password reset by an admin, revoke-all, their
// exchanges); SeaTable's temporary API-Tokens and their exchanges; members added, promoted, demoted,
// removed; new bases; users deactivated and reactivated; service accounts (made by a system admin,
// members of bases, their tokens and the policy's cap); the token policy (maximum lifetime, forbidding
// all-bases tokens, the service-account cap, tightened and loosened); the kill switch (for a base, by
// its admin or a system admin, with or without created_before; for a user); leak reports of every kind
// of token and revoking one Base-Token or temporary token; clock moves; and races (an exchange sent at
// the same moment as a change, see model/commands.ts).
//
// Not covered: attenuated exchanges (asking for less), per-table scopes, bulk delete, teams and team
// admins, SeaTable's own API-Token routes, key rotation, TOKENLADDER_ACCOUNT_TOKEN_MAX_AGE (class 5).
//
// This file: one process (in-memory SQLite, frozen clock). model-processes.test.ts: the same with a
// second process on one database file, its clock up to 2 s off (the slow project).
// model-regressions.test.ts: every counterexample found, as a named test.
//
// Bounded for `npm run test:fast`: DEFAULT_RUNS sequences of at most MAX_STEPS steps (fast-check skips
// generated steps the model says do not apply). Longer: TOKENLADDER_MODEL_RUNS=<n> (and
// TOKENLADDER_MODEL_STEPS=<max steps>) npx vitest run test/guarantees/model.test.ts. The seed is printed
// first; replay a failure with TOKENLADDER_MODEL_SEED=<seed> and TOKENLADDER_MODEL_PATH=<the path
// fast-check prints> for the shrunk counterexample alone.

const DEFAULT_RUNS = 40;
const MAX_STEPS = 60;

describe('model: every Base-Token is accepted exactly while its source grants it (one process)', () => {
  const runs = envNumber('TOKENLADDER_MODEL_RUNS', DEFAULT_RUNS);
  const maxSteps = envNumber('TOKENLADDER_MODEL_STEPS', MAX_STEPS);
  it(`random sequences (${runs} × ≤ ${maxSteps} steps)`, { timeout: 3_600_000 }, async () => {
    const stats = newStats();
    await runModel({ name: 'one process', runs, maxSteps, processes: 1, world: inProcessWorld, stats });
  });
});

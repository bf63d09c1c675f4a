import type { RevocationKind } from '../store/schema';

/**
 * What dies when something changes: one rule per kind of change that takes access away (and one for
 * the changes that take none), saying which credentials and Base-Tokens it ends and how that reaches
 * verifiers. This is the statement of tokenladder's promise to downstream services:
 *
 * - a Base-Token never grants more than its holder may do now, give or take the revocation bound;
 * - once anything that grants access is taken away, every Base-Token that relied on it is refused
 *   everywhere within that bound.
 *
 * The table is load-bearing: every write that publishes to the revocation feed names its change here
 * (`revocationStatements` in ./revoke.ts refuses a feed kind its rule does not list, and stores the
 * rule's `reason`), docs/revocation.md's "What ends what" table is rendered from it (a test keeps the
 * two equal), and every rule names the tests that show it (a test checks they exist).
 *
 * How a feed entry reaches a Base-Token: the exchange signs the feed's position, read in the same
 * statement as its source, into the token as `gen`; an entry refuses the tokens it matches whose `gen`
 * is below its own. So a Base-Token is refused exactly when it was exchanged before the change
 * committed, whatever process, isolate or clock did either (src/revocations/feed.ts, feedPosition).
 */
export interface Rule {
  /** The change, as a user or operator sees it. */
  change: string;
  /** What it ends: credentials refused at once by the service, and Base-Tokens refused at verifiers. */
  ends: string;
  /**
   * Feed entries it writes, in the same atomic write as the change. Empty when Base-Tokens need none
   * (`how` says why).
   */
  feed: readonly RevocationKind[];
  /** How verifiers learn it when the feed is not the way, or what else to know. */
  how?: string;
  /** The `reason` its feed entries are stored with. */
  reason?: string;
  /** Tests that show the rule: `file › words of the test's name`. */
  proof: readonly string[];
}

const CLASS_01 = 'test/guarantees/class-01-membership-changes.test.ts';
const CLASS_02 = 'test/guarantees/class-02-revocation-time.test.ts';
const CLASS_03 = 'test/guarantees/class-03-kill-switch-scope.test.ts';
const CLASS_04 = 'test/guarantees/class-04-temp-token-revocation.test.ts';
const CLASS_05 = 'test/guarantees/class-05-base-token-outlives-source.test.ts';
const CLASS_11 = 'test/guarantees/class-11-revoked-key-other-processes.test.ts';
const MODEL = 'test/guarantees/model.test.ts';
const OAUTH = 'test/http/oauth.test.ts';
const IP_ALLOWLIST = 'test/http/ip-allowlist.test.ts';
const MODEL_PROCESSES = 'test/guarantees/model-processes.test.ts';

export const RULES = {
  api_token_deleted: {
    change:
      'An API-Token is deleted (by its owner, a base admin of its base, or in bulk), or revoked by whoever holds it (`POST /oauth/revoke`)',
    ends: 'The API-Token at once; every Base-Token exchanged from it.',
    feed: ['client'],
    reason: 'deleted',
    proof: [
      `${CLASS_02} › API-Token deleted`,
      `${CLASS_02} › API-Token bulk-deleted`,
      `${OAUTH} › revoke: an API-Token by whoever holds it ends it and its Base-Tokens`,
      `${MODEL} › random sequences`,
      `${MODEL_PROCESSES} › random sequences with races`,
    ],
  },
  api_token_disabled: {
    change: 'An API-Token is disabled',
    ends: 'Its exchanges until it is enabled again; every Base-Token exchanged from it before.',
    feed: ['client'],
    reason: 'disabled',
    how: 'Enabling it again brings back nothing: Base-Tokens exchanged afterwards work, from the same second on.',
    proof: [
      `${CLASS_02} › API-Token disabled`,
      `${CLASS_02} › same second`,
      `${MODEL} › random sequences`,
      `${MODEL_PROCESSES} › random sequences with races`,
    ],
  },
  api_token_narrowed: {
    change:
      'An API-Token is narrowed: `permission` or `scopes` take something away, `expires_at` comes earlier, ' +
      'or `allowed_networks` no longer covers every address it did (a list set where there was none included)',
    ends: 'Every Base-Token exchanged from it before; exchanging again yields what is left.',
    feed: ['client'],
    reason: 'revoked',
    how: 'Widening it ends nothing.',
    proof: [
      `${CLASS_01} › narrowed`,
      `${CLASS_02} › API-Token narrowed`,
      `${MODEL} › random sequences`,
      `${IP_ALLOWLIST} › a Base-Token exchanged before a narrowing is refused`,
    ],
  },
  api_token_regenerated: {
    change: 'An API-Token is regenerated (a new secret)',
    ends:
      'The old secret (at once, or when the grace period ends); every Base-Token exchanged before. ' +
      'Base-Tokens the old secret obtains during a grace period expire when it ends.',
    feed: ['client'],
    reason: 'regenerated',
    proof: [
      `${CLASS_02} › API-Token regenerated`,
      `${CLASS_05} › previous secret's grace period`,
      `${MODEL} › random sequences`,
    ],
  },
  api_token_expired: {
    change: "An API-Token reaches its `expires_at` or the token policy's maximum lifetime",
    ends: 'Its exchanges. Its Base-Tokens expire with it.',
    feed: [],
    how: "A Base-Token's `exp` is never later than the end of its source (expiry, policy lifetime, grace period).",
    proof: [`${CLASS_05} › ends with the API-Token's expiry`, `${CLASS_05} › policy's maximum lifetime`],
  },
  account_token_revoked: {
    change:
      'An Account-Token is revoked: signed out, revoked from the token list, revoked by whoever holds it ' +
      '(`POST /oauth/revoke`), or the oldest one evicted by a sign-in past the per-user limit',
    ends:
      'The Account-Token at once; every Base-Token exchanged with it; the temporary API-Tokens ' +
      "(SeaTable's) it made and their Base-Tokens.",
    feed: ['client'],
    reason: 'revoked',
    proof: [
      `${CLASS_02} › Account-Token revoked`,
      `${CLASS_04} › signed out`,
      `${OAUTH} › revoke: an Account-Token by whoever holds it ends it and its Base-Tokens`,
      `${MODEL} › random sequences`,
      `${MODEL_PROCESSES} › random sequences with races`,
    ],
  },
  account_token_expired: {
    change: 'An Account-Token reaches its expiry or `TOKENLADDER_ACCOUNT_TOKEN_MAX_AGE`',
    ends: 'The Account-Token and the temporary API-Tokens it made. Their Base-Tokens expire with it.',
    feed: [],
    how: "A Base-Token's `exp` is never later than the end of the Account-Token it came from.",
    proof: [
      `${CLASS_05} › ends with the Account-Token's expiry`,
      `${CLASS_05} › maximum age`,
      `${CLASS_04} › past the maximum age`,
    ],
  },
  password_changed: {
    change: 'A user changes their password, or an admin sets it',
    ends:
      "The user's other Account-Tokens (all of them when an admin sets it), with their Base-Tokens and " +
      'temporary API-Tokens. API-Tokens stay.',
    feed: ['client'],
    reason: 'revoked',
    proof: [
      `${CLASS_02} › password changed`,
      `${CLASS_04} › password changed`,
      `${MODEL} › random sequences`,
      `${MODEL_PROCESSES} › random sequences with races`,
    ],
  },
  user_tokens_revoked: {
    change: "A system admin revokes all of a user's tokens",
    ends: 'Every Account-Token and API-Token of the user, and every Base-Token exchanged from them.',
    feed: ['client'],
    reason: 'revoked',
    proof: [
      `${CLASS_02} › revokes the user's tokens`,
      `${MODEL} › random sequences`,
      `${MODEL_PROCESSES} › random sequences with races`,
    ],
  },
  user_deactivated: {
    change: 'A user is deactivated',
    ends:
      'Every credential of theirs at once (their API-Tokens stay, refused until the user is active ' +
      'again); every Base-Token exchanged from any of them.',
    feed: ['client'],
    reason: 'disabled',
    proof: [
      `${CLASS_01} › deactivat`,
      `${CLASS_02} › user deactivated`,
      `${MODEL} › random sequences`,
      `${MODEL_PROCESSES} › random sequences with races`,
    ],
  },
  member_removed: {
    change: 'A member is removed from a base',
    ends:
      'Their Base-Tokens for that base, whatever they were exchanged from (API-Tokens, Account-Tokens, ' +
      'temporary API-Tokens); their exchanges for it until they are added again.',
    feed: ['subject_base'],
    reason: 'member_removed',
    proof: [
      `${CLASS_01} › removed`,
      `${CLASS_02} › member removed`,
      `${MODEL} › random sequences`,
      `${MODEL_PROCESSES} › random sequences with races`,
    ],
  },
  member_demoted: {
    change: 'A member is demoted on a base (admin → rw → r)',
    ends: 'Their Base-Tokens for that base, whatever they were exchanged from; exchanging again yields the new role.',
    feed: ['subject_base'],
    reason: 'member_demoted',
    proof: [
      `${CLASS_01} › demot`,
      `${CLASS_02} › member demoted`,
      `${MODEL} › random sequences`,
      `${MODEL_PROCESSES} › random sequences with races`,
    ],
  },
  leak_reported: {
    change: 'A token is reported leaked (`POST /api/v1/leaked-tokens`, no authentication)',
    ends:
      'Each valid token in the report: an API-Token or Account-Token is revoked with its Base-Tokens; ' +
      'a Base-Token or temporary API-Token is revoked by its `jti` (a temporary one with its Base-Tokens).',
    feed: ['client', 'jti'],
    reason: 'leaked',
    proof: [
      `${CLASS_02} › reported leaked`,
      `${CLASS_04} › reported leaked`,
      `${MODEL} › random sequences`,
      `${MODEL_PROCESSES} › random sequences with races`,
    ],
  },
  base_token_revoked: {
    change:
      'A Base-Token or temporary API-Token is revoked by whoever holds it (`POST /api/v1/base-tokens/revoke`, `POST /oauth/revoke`)',
    ends:
      'That token (a temporary API-Token with its Base-Tokens). Past 100 live ones per source, every ' +
      'Base-Token of the source exchanged up to it.',
    feed: ['jti', 'client'],
    reason: 'revoked',
    proof: [
      `${CLASS_02} › revoked by its jti`,
      `${CLASS_04} › revoked by its jti`,
      `${OAUTH} › revoke: a Base-Token by its jti, into the feed`,
      `${MODEL} › random sequences`,
      `${MODEL_PROCESSES} › random sequences with races`,
    ],
  },
  kill_switch: {
    change: 'The kill switch (`POST /api/v1/kill-switch`)',
    ends:
      "With a base: every API-Token's access to it (single-base tokens disabled, multi-base ones blocked " +
      'from it) and their Base-Tokens for it, nothing beyond it. Without: every matching API-Token ' +
      'disabled with its Base-Tokens.',
    feed: ['client', 'client_base'],
    reason: 'kill_switch',
    proof: [
      `${CLASS_03} › ends every token's access to the base`,
      `${CLASS_03} › spares the tokens' other bases`,
      `${CLASS_02} › kill switch`,
      `${MODEL} › random sequences`,
      `${MODEL_PROCESSES} › random sequences with races`,
    ],
  },
  policy_tightened: {
    change:
      'The token policy gets stricter (all-bases tokens forbidden, `service_account_max_permission` lowered, ' +
      'a shorter `max_lifetime_days`)',
    ends:
      'The API-Tokens it refuses, and the Base-Tokens of those it refuses or ends within a Base-Token ' +
      'lifetime.',
    feed: ['client'],
    reason: 'policy_tightened',
    proof: [
      `${CLASS_01} › policy`,
      `${MODEL} › random sequences`,
      `${MODEL_PROCESSES} › random sequences with races`,
    ],
  },
  key_revoked: {
    change: 'A signing key is revoked (`POST /api/v1/keys/rotate` with `revoke_old`)',
    ends:
      'Every Base-Token it signed, at each verifier once its JWKS copy is older than the cache time (the ' +
      "bundled verifier's default: 5 minutes); every process stops signing with it within 1 s.",
    feed: [],
    how: 'The key leaves `/.well-known/jwks.json`; verifiers then refuse its `kid` (`token_key_unknown`).',
    proof: [`${CLASS_11} › stops signing with, and publishing, a key revoked`],
  },
  access_granted: {
    change:
      "Anything that takes nothing away: a member added or promoted, a token enabled or widened, a user's " +
      'role or team changed (they grant no base access), a looser policy',
    ends: 'Nothing. Base-Tokens exchanged afterwards carry the new access.',
    feed: [],
    proof: [
      `${CLASS_01} › nothing to end`,
      `${CLASS_01} › adding a member revokes nothing`,
      `${MODEL} › random sequences`,
    ],
  },
} as const satisfies Record<string, Rule>;

export type Change = keyof typeof RULES;

/** The changes that publish to the feed, and so may be named by a write that does. */
export type PublishingChange = {
  [K in Change]: (typeof RULES)[K]['feed'] extends readonly [] ? never : K;
}[Change];

/** The rules as docs/revocation.md's "What ends what" table (Markdown). */
export function renderRules(): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const feed = (rule: Rule) =>
    rule.feed.length === 0 ? 'none' : rule.feed.map((kind) => `\`${kind}\``).join(', ');
  const rows = Object.values(RULES as Record<string, Rule>).map(
    (rule) =>
      `| ${cell(rule.change)} | ${cell(rule.ends)}${rule.how ? ` ${cell(rule.how)}` : ''} | ${feed(rule)} |`,
  );
  return ['| When | It ends | Feed entries |', '| --- | --- | --- |', ...rows].join('\n');
}

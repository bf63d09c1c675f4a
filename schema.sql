-- tokenladder: the current schema, as all of migrations/ produce it (a test keeps the two equal).
-- Portable SQL: TEXT ids made in app code, INTEGER epoch seconds.

CREATE TABLE teams (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('user', 'team_admin', 'system_admin')),
  team_id TEXT REFERENCES teams (id),
  password_hash TEXT,
  is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  kind TEXT NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'service'))
);
CREATE INDEX users_team ON users (team_id);

CREATE TABLE workspaces (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  owner_user_id TEXT NOT NULL REFERENCES users (id),
  created_at INTEGER NOT NULL
);
CREATE INDEX workspaces_owner ON workspaces (owner_user_id);

CREATE TABLE bases (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces (id),
  name TEXT NOT NULL,
  created_by TEXT NOT NULL REFERENCES users (id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (workspace_id, name)
);

CREATE TABLE base_members (
  base_id TEXT NOT NULL REFERENCES bases (id),
  user_id TEXT NOT NULL REFERENCES users (id),
  permission TEXT NOT NULL CHECK (permission IN ('r', 'rw', 'admin')),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (base_id, user_id)
);
CREATE INDEX base_members_user ON base_members (user_id);

CREATE TABLE account_tokens (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id),
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX account_tokens_user ON account_tokens (user_id);

-- SeaTable's temporary API-Tokens (one-hour JWTs): one row per token minted, so that revoking the
-- Account-Token that made one can publish every live one to the revocation feed (their Base-Tokens
-- carry the temporary token's `jti` as `client_id`). Rows are dropped once the token has expired.
CREATE TABLE temp_api_tokens (
  jti TEXT PRIMARY KEY,
  account_token_id TEXT NOT NULL REFERENCES account_tokens (id),
  expires_at INTEGER NOT NULL
);
CREATE INDEX temp_api_tokens_account_token ON temp_api_tokens (account_token_id);

CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_by TEXT NOT NULL REFERENCES users (id),
  scope_type TEXT NOT NULL CHECK (scope_type IN ('base', 'bases', 'workspace', 'all')),
  base_id TEXT REFERENCES bases (id),
  workspace_id TEXT REFERENCES workspaces (id),
  permission TEXT NOT NULL CHECK (permission IN ('r', 'rw')),
  grants TEXT,
  secret_hash TEXT NOT NULL,
  previous_secret_hash TEXT,
  previous_secret_expires_at INTEGER,
  previous_last_used_at INTEGER,
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  expires_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER,
  allowed_networks TEXT,
  CHECK ((scope_type = 'base') = (base_id IS NOT NULL)),
  CHECK ((scope_type = 'workspace') = (workspace_id IS NOT NULL))
);
-- Names are unique among live tokens: per base for single-base tokens, per owner for the others.
CREATE UNIQUE INDEX api_tokens_base_name ON api_tokens (base_id, name) WHERE revoked_at IS NULL AND base_id IS NOT NULL;
CREATE UNIQUE INDEX api_tokens_owner_name ON api_tokens (created_by, name) WHERE revoked_at IS NULL AND base_id IS NULL;
CREATE INDEX api_tokens_creator ON api_tokens (created_by);

-- The bases of a 'bases'-scoped token.
CREATE TABLE api_token_bases (
  token_id TEXT NOT NULL REFERENCES api_tokens (id),
  base_id TEXT NOT NULL REFERENCES bases (id),
  PRIMARY KEY (token_id, base_id)
);
CREATE INDEX api_token_bases_base ON api_token_bases (base_id);

-- Bases a kill switch took from a workspace- or all-bases API-Token (it has no list to edit): the
-- exchange refuses the token for them; its other bases are untouched.
CREATE TABLE api_token_base_blocks (
  token_id TEXT NOT NULL REFERENCES api_tokens (id),
  base_id TEXT NOT NULL REFERENCES bases (id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (token_id, base_id)
);

CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  private_jwk_encrypted TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('next', 'current', 'retired')),
  created_at INTEGER NOT NULL,
  activated_at INTEGER,
  retired_at INTEGER
);
-- At most one key signs at a time.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (state) WHERE state = 'current';
-- At most one key waits to sign next (two rotations at once cannot both add one).
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (state) WHERE state = 'next';

-- Instance-wide settings a system admin changes at run time (token policy), as JSON values.
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

-- One row per recorded action. `seq` is the chain position (made in app code, never reused);
-- `hash` = SHA-256 over `prev_hash` and the record's canonical fields (src/audit/chain.ts), so an
-- edited, inserted or deleted row breaks the chain from there on. Ids and codes only, never secrets.
-- No secondary index on purpose: every exchange appends a row, and each index on a user or base cost
-- the exchange about 10 µs of CPU (mostly WAL pages); reads walk `seq` in bounded windows instead.
CREATE TABLE audit_events (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  action TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
  actor_user_id TEXT,
  actor_token_id TEXT,
  subject_user_id TEXT,
  base_id TEXT,
  target_id TEXT,
  client_ip TEXT,
  details TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);

-- What verifiers poll: Base-Tokens whose source (`client_id`) was revoked, disabled or regenerated
-- are rejected when issued at or before `revoked_at`; a `client_base` row does so only for the
-- source's Base-Tokens for one base (`base_id`, a kill switch); a `subject_base` row rejects the
-- Base-Tokens of one user (`value`) for one base (`base_id`), whatever their source (the member was
-- removed or demoted); a `jti` row rejects one Base-Token
-- (`client_id`: its source, whose live jti rows are bounded). A source has one row per kind and base:
-- publishing it again replaces the row with a new `seq`. Kept until every Base-Token it can match has
-- expired (`expires_at`). `seq` is the feed cursor. An entry refuses the Base-Tokens it matches whose
-- `gen` claim (the feed position their exchange read) is below its `gen`; NULL means its own `seq`.
CREATE TABLE revocations (
  seq INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('client', 'jti', 'client_base', 'subject_base')),
  value TEXT NOT NULL,
  base_id TEXT,
  client_id TEXT,
  revoked_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  reason TEXT NOT NULL,
  gen INTEGER,
  CHECK ((kind IN ('client_base', 'subject_base')) = (base_id IS NOT NULL))
);
CREATE INDEX revocations_expires ON revocations (expires_at);
-- One entry per revoked Base-Token, however many times it is reported.
CREATE UNIQUE INDEX revocations_jti ON revocations (value) WHERE kind = 'jti';
-- A source's live entry, found when it is published again (and replaced).
CREATE INDEX revocations_source ON revocations (value, base_id) WHERE kind != 'jti';
-- The live jti entries of one source token (bounded per source).
CREATE INDEX revocations_jti_source ON revocations (client_id) WHERE kind = 'jti';

-- Fixed-window counters for login throttling and rate limits, shared by every process and isolate.
CREATE TABLE throttle_counters (
  key TEXT PRIMARY KEY,
  hits INTEGER NOT NULL,
  window_start INTEGER NOT NULL
);

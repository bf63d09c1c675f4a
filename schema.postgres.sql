-- tokenladder: the current PostgreSQL schema, as all of migrations/postgres/ produce it (a test keeps
-- the two equal, and another keeps it equivalent to schema.sql, SQLite's). Text compares bytewise
-- (COLLATE "C") as in SQLite; epoch seconds and sequence numbers are bigint. PostgreSQL only:
-- audit_lock, and the triggers that NOTIFY instances of key and revocation changes.

CREATE TABLE teams (
  id text COLLATE "C" PRIMARY KEY,
  name text COLLATE "C" NOT NULL UNIQUE,
  created_at bigint NOT NULL
);

CREATE TABLE users (
  id text COLLATE "C" PRIMARY KEY,
  email text COLLATE "C" NOT NULL UNIQUE,
  name text COLLATE "C" NOT NULL,
  role text COLLATE "C" NOT NULL CONSTRAINT users_role CHECK (role IN ('user', 'team_admin', 'system_admin')),
  team_id text COLLATE "C" REFERENCES teams (id),
  password_hash text COLLATE "C",
  is_active integer NOT NULL DEFAULT 1 CONSTRAINT users_is_active CHECK (is_active IN (0, 1)),
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  -- `service`: a non-login account that owns tokens for an integration.
  kind text COLLATE "C" NOT NULL DEFAULT 'person' CONSTRAINT users_kind CHECK (kind IN ('person', 'service'))
);
CREATE INDEX users_team ON users (team_id);

CREATE TABLE workspaces (
  id text COLLATE "C" PRIMARY KEY,
  name text COLLATE "C" NOT NULL,
  owner_user_id text COLLATE "C" NOT NULL REFERENCES users (id),
  created_at bigint NOT NULL
);
CREATE INDEX workspaces_owner ON workspaces (owner_user_id);

CREATE TABLE bases (
  id text COLLATE "C" PRIMARY KEY,
  workspace_id text COLLATE "C" NOT NULL REFERENCES workspaces (id),
  name text COLLATE "C" NOT NULL,
  created_by text COLLATE "C" NOT NULL REFERENCES users (id),
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  UNIQUE (workspace_id, name)
);

CREATE TABLE base_members (
  base_id text COLLATE "C" NOT NULL REFERENCES bases (id),
  user_id text COLLATE "C" NOT NULL REFERENCES users (id),
  permission text COLLATE "C" NOT NULL CONSTRAINT base_members_permission CHECK (permission IN ('r', 'rw', 'admin')),
  created_at bigint NOT NULL,
  PRIMARY KEY (base_id, user_id)
);
CREATE INDEX base_members_user ON base_members (user_id);

CREATE TABLE account_tokens (
  id text COLLATE "C" PRIMARY KEY,
  user_id text COLLATE "C" NOT NULL REFERENCES users (id),
  name text COLLATE "C" NOT NULL,
  secret_hash text COLLATE "C" NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint,
  last_used_at bigint,
  revoked_at bigint
);
CREATE INDEX account_tokens_user ON account_tokens (user_id);

-- SeaTable's temporary API-Tokens (one-hour JWTs) while they live: which Account-Token made each.
CREATE TABLE temp_api_tokens (
  jti text COLLATE "C" PRIMARY KEY,
  account_token_id text COLLATE "C" NOT NULL REFERENCES account_tokens (id),
  expires_at bigint NOT NULL
);
CREATE INDEX temp_api_tokens_account_token ON temp_api_tokens (account_token_id);

CREATE TABLE api_tokens (
  id text COLLATE "C" PRIMARY KEY,
  base_id text COLLATE "C" REFERENCES bases (id),
  name text COLLATE "C" NOT NULL,
  permission text COLLATE "C" NOT NULL CONSTRAINT api_tokens_permission CHECK (permission IN ('r', 'rw')),
  secret_hash text COLLATE "C" NOT NULL,
  created_by text COLLATE "C" NOT NULL REFERENCES users (id),
  created_at bigint NOT NULL,
  last_used_at bigint,
  revoked_at bigint,
  scope_type text COLLATE "C" NOT NULL
    CONSTRAINT api_tokens_scope_type CHECK (scope_type IN ('base', 'bases', 'workspace', 'all')),
  workspace_id text COLLATE "C" REFERENCES workspaces (id),
  grants text COLLATE "C",
  previous_secret_hash text COLLATE "C",
  previous_secret_expires_at bigint,
  previous_last_used_at bigint,
  enabled integer NOT NULL DEFAULT 1 CONSTRAINT api_tokens_enabled CHECK (enabled IN (0, 1)),
  expires_at bigint,
  updated_at bigint NOT NULL,
  allowed_networks text COLLATE "C",
  CONSTRAINT api_tokens_base_scope CHECK ((scope_type = 'base') = (base_id IS NOT NULL)),
  CONSTRAINT api_tokens_workspace_scope CHECK ((scope_type = 'workspace') = (workspace_id IS NOT NULL))
);
-- Names are unique among live tokens: per base for single-base tokens, per owner for the others.
CREATE UNIQUE INDEX api_tokens_base_name ON api_tokens (base_id, name) WHERE revoked_at IS NULL AND base_id IS NOT NULL;
CREATE UNIQUE INDEX api_tokens_owner_name ON api_tokens (created_by, name) WHERE revoked_at IS NULL AND base_id IS NULL;
CREATE INDEX api_tokens_creator ON api_tokens (created_by);

-- The bases of a 'bases'-scoped token.
CREATE TABLE api_token_bases (
  token_id text COLLATE "C" NOT NULL REFERENCES api_tokens (id),
  base_id text COLLATE "C" NOT NULL REFERENCES bases (id),
  PRIMARY KEY (token_id, base_id)
);
CREATE INDEX api_token_bases_base ON api_token_bases (base_id);

-- Bases a kill switch took from a workspace- or all-bases API-Token.
CREATE TABLE api_token_base_blocks (
  token_id text COLLATE "C" NOT NULL REFERENCES api_tokens (id),
  base_id text COLLATE "C" NOT NULL REFERENCES bases (id),
  created_at bigint NOT NULL,
  PRIMARY KEY (token_id, base_id)
);

CREATE TABLE signing_keys (
  kid text COLLATE "C" PRIMARY KEY,
  alg text COLLATE "C" NOT NULL,
  public_jwk text COLLATE "C" NOT NULL,
  private_jwk_encrypted text COLLATE "C" NOT NULL,
  state text COLLATE "C" NOT NULL CONSTRAINT signing_keys_state CHECK (state IN ('next', 'current', 'retired')),
  created_at bigint NOT NULL,
  activated_at bigint,
  retired_at bigint
);
-- At most one key signs at a time.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (state) WHERE state = 'current';
-- At most one key waits to sign next (two rotations at once cannot both add one).
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (state) WHERE state = 'next';

-- Every instance LISTENs on tokenladder_keys and reloads its key ring when a key changes anywhere.
CREATE FUNCTION tokenladder_notify_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tokenladder_keys', '');
  RETURN NULL;
END
$$;
CREATE TRIGGER signing_keys_notify AFTER INSERT OR UPDATE OR DELETE ON signing_keys
  FOR EACH STATEMENT EXECUTE FUNCTION tokenladder_notify_keys();

-- Instance-wide settings a system admin changes at run time (token policy), as JSON values.
CREATE TABLE settings (
  key text COLLATE "C" PRIMARY KEY,
  value text COLLATE "C" NOT NULL,
  updated_at bigint NOT NULL
);

-- One row per recorded action: a hash chain over `seq` (src/audit/chain.ts). Ids and codes only.
CREATE TABLE audit_events (
  seq bigint PRIMARY KEY,
  at bigint NOT NULL,
  action text COLLATE "C" NOT NULL,
  outcome text COLLATE "C" NOT NULL CONSTRAINT audit_events_outcome CHECK (outcome IN ('success', 'failure')),
  actor_user_id text COLLATE "C",
  actor_token_id text COLLATE "C",
  subject_user_id text COLLATE "C",
  base_id text COLLATE "C",
  target_id text COLLATE "C",
  client_ip text COLLATE "C",
  details text COLLATE "C",
  prev_hash text COLLATE "C" NOT NULL,
  hash text COLLATE "C" NOT NULL
);

-- The row every audited write locks first: instances append to the chain one after another, and
-- revocation feed entries commit in `seq` order.
CREATE TABLE audit_lock (
  id integer PRIMARY KEY CONSTRAINT audit_lock_one_row CHECK (id = 1)
);
INSERT INTO audit_lock (id) VALUES (1);

-- What verifiers poll (src/revocations/feed.ts). `seq` is the feed cursor.
CREATE TABLE revocations (
  seq bigint PRIMARY KEY,
  kind text COLLATE "C" NOT NULL
    CONSTRAINT revocations_kind CHECK (kind IN ('client', 'jti', 'client_base', 'subject_base')),
  value text COLLATE "C" NOT NULL,
  revoked_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  reason text COLLATE "C" NOT NULL,
  -- `client_base`, `subject_base`: the base; null otherwise.
  base_id text COLLATE "C",
  -- `jti`: the Base-Token's source token; null otherwise.
  client_id text COLLATE "C",
  -- Refuses the Base-Tokens the entry matches whose `gen` is below this; null: `seq`.
  gen bigint,
  CONSTRAINT revocations_base CHECK ((kind IN ('client_base', 'subject_base')) = (base_id IS NOT NULL))
);
CREATE INDEX revocations_expires ON revocations (expires_at);
-- One entry per revoked Base-Token, however many times it is reported.
CREATE UNIQUE INDEX revocations_jti ON revocations (value) WHERE kind = 'jti';
-- A source's live entry, found when it is published again (and replaced).
CREATE INDEX revocations_source ON revocations (value, base_id) WHERE kind != 'jti';
-- The live jti entries of one source token (bounded per source).
CREATE INDEX revocations_jti_source ON revocations (client_id) WHERE kind = 'jti';

-- Wakes every instance's revocation streams (LISTEN tokenladder_revocations) when the feed grows.
CREATE FUNCTION tokenladder_notify_revocations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tokenladder_revocations', '');
  RETURN NULL;
END
$$;
CREATE TRIGGER revocations_notify AFTER INSERT OR UPDATE ON revocations
  FOR EACH STATEMENT EXECUTE FUNCTION tokenladder_notify_revocations();

-- Fixed-window counters for login throttling and rate limits, shared by every instance.
CREATE TABLE throttle_counters (
  key text COLLATE "C" PRIMARY KEY,
  hits integer NOT NULL,
  window_start bigint NOT NULL
) WITH (fillfactor = 70);

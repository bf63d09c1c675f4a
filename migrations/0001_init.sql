-- tokenladder initial schema. Portable SQL: TEXT ids made in app code, INTEGER epoch seconds.

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
  updated_at INTEGER NOT NULL
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

CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  base_id TEXT NOT NULL REFERENCES bases (id),
  name TEXT NOT NULL,
  permission TEXT NOT NULL CHECK (permission IN ('r', 'rw')),
  secret_hash TEXT NOT NULL,
  created_by TEXT NOT NULL REFERENCES users (id),
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);
-- Names are unique among a base's live tokens; a revoked token frees its name.
CREATE UNIQUE INDEX api_tokens_base_name ON api_tokens (base_id, name) WHERE revoked_at IS NULL;
CREATE INDEX api_tokens_creator ON api_tokens (created_by);

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

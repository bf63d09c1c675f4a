-- tokenladder initial schema, PostgreSQL dialect (migrations/0001_init.sql is the SQLite/D1 one; the
-- two are kept equivalent by test/store/dialects.test.ts). Text compares bytewise (COLLATE "C") as in
-- SQLite, so ordering and ranges over ids and keys match; epoch seconds are bigint (integer ends in 2038).

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
  updated_at bigint NOT NULL
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

CREATE TABLE api_tokens (
  id text COLLATE "C" PRIMARY KEY,
  base_id text COLLATE "C" NOT NULL REFERENCES bases (id),
  name text COLLATE "C" NOT NULL,
  permission text COLLATE "C" NOT NULL CONSTRAINT api_tokens_permission CHECK (permission IN ('r', 'rw')),
  secret_hash text COLLATE "C" NOT NULL,
  created_by text COLLATE "C" NOT NULL REFERENCES users (id),
  created_at bigint NOT NULL,
  last_used_at bigint,
  revoked_at bigint
);
-- Names are unique among a base's live tokens; a revoked token frees its name.
CREATE UNIQUE INDEX api_tokens_base_name ON api_tokens (base_id, name) WHERE revoked_at IS NULL;
CREATE INDEX api_tokens_creator ON api_tokens (created_by);

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

-- PostgreSQL only: every instance LISTENs on tokenladder_keys and reloads its key ring when a key is
-- added, promoted, retired or deleted anywhere (the notification is sent at commit, never on rollback).
CREATE FUNCTION tokenladder_notify_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tokenladder_keys', '');
  RETURN NULL;
END
$$;
CREATE TRIGGER signing_keys_notify AFTER INSERT OR UPDATE OR DELETE ON signing_keys
  FOR EACH STATEMENT EXECUTE FUNCTION tokenladder_notify_keys();

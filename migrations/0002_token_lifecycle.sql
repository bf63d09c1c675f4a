-- Token lifecycle: expiry, enable/disable, regenerate with a grace period, resource scopes beyond one
-- base, fine-grained grants; service accounts; instance-wide token policy.

ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'service'));

-- api_tokens is rebuilt because base_id becomes optional (multi-base, workspace and all-bases scopes).
CREATE TABLE api_tokens_next (
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
  CHECK ((scope_type = 'base') = (base_id IS NOT NULL)),
  CHECK ((scope_type = 'workspace') = (workspace_id IS NOT NULL))
);
INSERT INTO api_tokens_next (id, name, created_by, scope_type, base_id, permission, secret_hash, created_at, updated_at, last_used_at, revoked_at)
  SELECT id, name, created_by, 'base', base_id, permission, secret_hash, created_at, created_at, last_used_at, revoked_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_next RENAME TO api_tokens;
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

-- Instance-wide settings a system admin changes at run time (token policy), as JSON values.
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

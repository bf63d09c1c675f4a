-- Token lifecycle: expiry, enable/disable, regenerate with a grace period, resource scopes beyond one
-- base, fine-grained grants; service accounts; instance-wide token policy. (SQLite rebuilds api_tokens
-- to make base_id optional; PostgreSQL alters it in place, so its new columns come last.)

ALTER TABLE users ADD COLUMN kind text COLLATE "C" NOT NULL DEFAULT 'person'
  CONSTRAINT users_kind CHECK (kind IN ('person', 'service'));

ALTER TABLE api_tokens ALTER COLUMN base_id DROP NOT NULL;
ALTER TABLE api_tokens ADD COLUMN scope_type text COLLATE "C" NOT NULL DEFAULT 'base'
  CONSTRAINT api_tokens_scope_type CHECK (scope_type IN ('base', 'bases', 'workspace', 'all'));
ALTER TABLE api_tokens ALTER COLUMN scope_type DROP DEFAULT;
ALTER TABLE api_tokens ADD COLUMN workspace_id text COLLATE "C" REFERENCES workspaces (id);
ALTER TABLE api_tokens ADD COLUMN grants text COLLATE "C";
ALTER TABLE api_tokens ADD COLUMN previous_secret_hash text COLLATE "C";
ALTER TABLE api_tokens ADD COLUMN previous_secret_expires_at bigint;
ALTER TABLE api_tokens ADD COLUMN previous_last_used_at bigint;
ALTER TABLE api_tokens ADD COLUMN enabled integer NOT NULL DEFAULT 1
  CONSTRAINT api_tokens_enabled CHECK (enabled IN (0, 1));
ALTER TABLE api_tokens ADD COLUMN expires_at bigint;
ALTER TABLE api_tokens ADD COLUMN updated_at bigint;
UPDATE api_tokens SET updated_at = created_at;
ALTER TABLE api_tokens ALTER COLUMN updated_at SET NOT NULL;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_base_scope CHECK ((scope_type = 'base') = (base_id IS NOT NULL));
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_workspace_scope
  CHECK ((scope_type = 'workspace') = (workspace_id IS NOT NULL));
-- Names are unique among live tokens: per base for single-base tokens, per owner for the others.
DROP INDEX api_tokens_base_name;
CREATE UNIQUE INDEX api_tokens_base_name ON api_tokens (base_id, name) WHERE revoked_at IS NULL AND base_id IS NOT NULL;
CREATE UNIQUE INDEX api_tokens_owner_name ON api_tokens (created_by, name) WHERE revoked_at IS NULL AND base_id IS NULL;

-- The bases of a 'bases'-scoped token.
CREATE TABLE api_token_bases (
  token_id text COLLATE "C" NOT NULL REFERENCES api_tokens (id),
  base_id text COLLATE "C" NOT NULL REFERENCES bases (id),
  PRIMARY KEY (token_id, base_id)
);
CREATE INDEX api_token_bases_base ON api_token_bases (base_id);

-- Instance-wide settings a system admin changes at run time (token policy), as JSON values.
CREATE TABLE settings (
  key text COLLATE "C" PRIMARY KEY,
  value text COLLATE "C" NOT NULL,
  updated_at bigint NOT NULL
);

-- The revocation feed gains entries for one source token on one base (`client_base`, a kill switch),
-- jti entries name their source token (`client_id`, for a per-source bound), and a source's entry is
-- replaced rather than appended when it is published again (an index finds it). A table rebuild:
-- SQLite cannot change a CHECK constraint in place.
CREATE TABLE revocations_next (
  seq INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('client', 'jti', 'client_base')),
  value TEXT NOT NULL,
  base_id TEXT,
  client_id TEXT,
  revoked_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  reason TEXT NOT NULL,
  CHECK ((kind = 'client_base') = (base_id IS NOT NULL))
);
INSERT INTO revocations_next (seq, kind, value, revoked_at, expires_at, reason)
  SELECT seq, kind, value, revoked_at, expires_at, reason FROM revocations;
DROP TABLE revocations;
ALTER TABLE revocations_next RENAME TO revocations;
CREATE INDEX revocations_expires ON revocations (expires_at);
-- One entry per revoked Base-Token, however many times it is reported.
CREATE UNIQUE INDEX revocations_jti ON revocations (value) WHERE kind = 'jti';
-- A source's live entry, found when it is published again (and replaced).
CREATE INDEX revocations_source ON revocations (value, base_id) WHERE kind != 'jti';
-- The live jti entries of one source token (bounded per source).
CREATE INDEX revocations_jti_source ON revocations (client_id) WHERE kind = 'jti';

-- Bases a kill switch took from a workspace- or all-bases API-Token (it has no list to edit): the
-- exchange refuses the token for them; its other bases are untouched.
CREATE TABLE api_token_base_blocks (
  token_id TEXT NOT NULL REFERENCES api_tokens (id),
  base_id TEXT NOT NULL REFERENCES bases (id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (token_id, base_id)
);

-- The revocation feed gains entries for one user on one base (`subject_base`): a member removed or
-- demoted loses, at every verifier, the Base-Tokens they hold for that base, whatever they came from.
-- A table rebuild: SQLite cannot change a CHECK constraint in place.
CREATE TABLE revocations_next (
  seq INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('client', 'jti', 'client_base', 'subject_base')),
  value TEXT NOT NULL,
  base_id TEXT,
  client_id TEXT,
  revoked_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  reason TEXT NOT NULL,
  CHECK ((kind IN ('client_base', 'subject_base')) = (base_id IS NOT NULL))
);
INSERT INTO revocations_next (seq, kind, value, base_id, client_id, revoked_at, expires_at, reason)
  SELECT seq, kind, value, base_id, client_id, revoked_at, expires_at, reason FROM revocations;
DROP TABLE revocations;
ALTER TABLE revocations_next RENAME TO revocations;
CREATE INDEX revocations_expires ON revocations (expires_at);
-- One entry per revoked Base-Token, however many times it is reported.
CREATE UNIQUE INDEX revocations_jti ON revocations (value) WHERE kind = 'jti';
-- A source's live entry, found when it is published again (and replaced).
CREATE INDEX revocations_source ON revocations (value, base_id) WHERE kind != 'jti';
-- The live jti entries of one source token (bounded per source).
CREATE INDEX revocations_jti_source ON revocations (client_id) WHERE kind = 'jti';

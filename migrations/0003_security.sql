-- Security hardening: the audit log (a hash chain), the revocation feed, throttling counters.

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
-- are rejected when issued at or before `revoked_at`; a `jti` row rejects one Base-Token. Kept until
-- every Base-Token it can match has expired (`expires_at`). `seq` is the feed cursor.
CREATE TABLE revocations (
  seq INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('client', 'jti')),
  value TEXT NOT NULL,
  revoked_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX revocations_expires ON revocations (expires_at);
-- One entry per revoked Base-Token, however many times it is reported.
CREATE UNIQUE INDEX revocations_jti ON revocations (value) WHERE kind = 'jti';

-- Fixed-window counters for login throttling and rate limits, shared by every process and isolate.
CREATE TABLE throttle_counters (
  key TEXT PRIMARY KEY,
  hits INTEGER NOT NULL,
  window_start INTEGER NOT NULL
);

-- Security hardening: the audit log (a hash chain), the revocation feed, throttling counters.

-- One row per recorded action. `seq` is the chain position (made in app code, never reused);
-- `hash` = SHA-256 over `prev_hash` and the record's canonical fields (src/audit/chain.ts), so an
-- edited, inserted or deleted row breaks the chain from there on. Ids and codes only, never secrets.
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

-- PostgreSQL only: one row that every audited write locks (SELECT … FOR UPDATE) before it reads the
-- chain's head, so instances append one after another: the chain stays contiguous without retries,
-- and revocation feed entries (written in audited writes) commit in `seq` order, so a poller that
-- has seen an entry has seen every one below it. A row lock, not an advisory lock: it also works
-- behind transaction poolers.
CREATE TABLE audit_lock (
  id integer PRIMARY KEY CONSTRAINT audit_lock_one_row CHECK (id = 1)
);
INSERT INTO audit_lock (id) VALUES (1);

-- What verifiers poll: Base-Tokens whose source (`client_id`) was revoked, disabled or regenerated
-- are rejected when issued at or before `revoked_at`; a `jti` row rejects one Base-Token. Kept until
-- every Base-Token it can match has expired (`expires_at`). `seq` is the feed cursor.
CREATE TABLE revocations (
  seq bigint PRIMARY KEY,
  kind text COLLATE "C" NOT NULL CONSTRAINT revocations_kind CHECK (kind IN ('client', 'jti')),
  value text COLLATE "C" NOT NULL,
  revoked_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  reason text COLLATE "C" NOT NULL
);
CREATE INDEX revocations_expires ON revocations (expires_at);
-- One entry per revoked Base-Token, however many times it is reported.
CREATE UNIQUE INDEX revocations_jti ON revocations (value) WHERE kind = 'jti';

-- PostgreSQL only: wakes every instance's revocation streams (LISTEN tokenladder_revocations) when
-- the feed grows. Sent at commit, never on rollback; carries nothing: readers read the table from
-- their cursor, so a lost notification costs at most the instances' one-second check.
CREATE FUNCTION tokenladder_notify_revocations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('tokenladder_revocations', '');
  RETURN NULL;
END
$$;
CREATE TRIGGER revocations_notify AFTER INSERT OR UPDATE ON revocations
  FOR EACH STATEMENT EXECUTE FUNCTION tokenladder_notify_revocations();

-- Fixed-window counters for login throttling and rate limits, shared by every process and isolate.
-- Every hit updates its row: room on each page keeps those updates HOT (no index churn).
CREATE TABLE throttle_counters (
  key text COLLATE "C" PRIMARY KEY,
  hits integer NOT NULL,
  window_start bigint NOT NULL
) WITH (fillfactor = 70);

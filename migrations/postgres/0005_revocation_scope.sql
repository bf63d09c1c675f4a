-- The revocation feed gains entries for one source token on one base (`client_base`, a kill switch),
-- jti entries name their source token (`client_id`, for a per-source bound), and a source's entry is
-- replaced rather than appended when it is published again (an index finds it). (SQLite rebuilds the
-- table to change its CHECK; PostgreSQL alters it in place.)
ALTER TABLE revocations ADD COLUMN base_id text COLLATE "C";
ALTER TABLE revocations ADD COLUMN client_id text COLLATE "C";
ALTER TABLE revocations DROP CONSTRAINT revocations_kind;
ALTER TABLE revocations ADD CONSTRAINT revocations_kind CHECK (kind IN ('client', 'jti', 'client_base'));
ALTER TABLE revocations ADD CONSTRAINT revocations_base CHECK ((kind = 'client_base') = (base_id IS NOT NULL));
-- A source's live entry, found when it is published again (and replaced).
CREATE INDEX revocations_source ON revocations (value, base_id) WHERE kind != 'jti';
-- The live jti entries of one source token (bounded per source).
CREATE INDEX revocations_jti_source ON revocations (client_id) WHERE kind = 'jti';

-- Bases a kill switch took from a workspace- or all-bases API-Token (it has no list to edit): the
-- exchange refuses the token for them; its other bases are untouched.
CREATE TABLE api_token_base_blocks (
  token_id text COLLATE "C" NOT NULL REFERENCES api_tokens (id),
  base_id text COLLATE "C" NOT NULL REFERENCES bases (id),
  created_at bigint NOT NULL,
  PRIMARY KEY (token_id, base_id)
);

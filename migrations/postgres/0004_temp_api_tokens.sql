-- SeaTable's temporary API-Tokens (one-hour JWTs): one row per token minted, so that revoking the
-- Account-Token that made one can publish every live one to the revocation feed (their Base-Tokens
-- carry the temporary token's `jti` as `client_id`). Rows are dropped once the token has expired:
-- no Base-Token outlives the temporary token it came from.
CREATE TABLE temp_api_tokens (
  jti text COLLATE "C" PRIMARY KEY,
  account_token_id text COLLATE "C" NOT NULL REFERENCES account_tokens (id),
  expires_at bigint NOT NULL
);
CREATE INDEX temp_api_tokens_account_token ON temp_api_tokens (account_token_id);

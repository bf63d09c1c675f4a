-- IP allowlists: the client networks an API-Token may be exchanged from, as a JSON array of canonical
-- CIDR strings (src/verify/networks.ts); NULL = any address. Base-Tokens from such a token carry the
-- list as their `cidr` claim, so a verifier that is told the client address can refuse others too.
ALTER TABLE api_tokens ADD COLUMN allowed_networks TEXT;

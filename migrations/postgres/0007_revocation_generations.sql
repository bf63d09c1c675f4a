-- Base-Tokens carry `gen`, the feed position their exchange read together with their source; a
-- feed entry refuses the Base-Tokens it matches whose `gen` is below the entry's. Normally that is
-- the entry's own `seq` (whatever was exchanged before it was written); an entry that ends a source's
-- Base-Tokens only up to one of them (the per-source bound on jti entries) stores a smaller one.
-- NULL (entries written before this migration): the entry's `seq`.
ALTER TABLE revocations ADD COLUMN gen bigint;

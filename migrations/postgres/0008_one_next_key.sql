-- At most one key waits to sign next: two instances rotating at once cannot both add one (the
-- second's insert fails on this index and is answered 409, as when a rotation is already pending).
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (state) WHERE state = 'next';

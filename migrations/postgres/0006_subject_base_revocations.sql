-- The revocation feed gains entries for one user on one base (`subject_base`): a member removed or
-- demoted loses, at every verifier, the Base-Tokens they hold for that base, whatever they came from.
ALTER TABLE revocations DROP CONSTRAINT revocations_kind;
ALTER TABLE revocations ADD CONSTRAINT revocations_kind
  CHECK (kind IN ('client', 'jti', 'client_base', 'subject_base'));
ALTER TABLE revocations DROP CONSTRAINT revocations_base;
ALTER TABLE revocations ADD CONSTRAINT revocations_base
  CHECK ((kind IN ('client_base', 'subject_base')) = (base_id IS NOT NULL));

// Runtime-neutral: the migrations this code knows, by file name (migrations/*.sql). Workers cannot
// read the folder, so /readyz and `tokenladder restore` compare the database against this list;
// test/http/ops-health.test.ts fails when it and the folder drift apart.
export const MIGRATION_NAMES: readonly string[] = [
  '0001_init.sql',
  '0002_token_lifecycle.sql',
  '0003_security.sql',
  '0004_temp_api_tokens.sql',
  '0005_revocation_scope.sql',
  '0006_subject_base_revocations.sql',
  '0007_revocation_generations.sql',
  '0008_one_next_key.sql',
  '0009_api_token_networks.sql',
];

/** What keeps `applied` (d1_migrations' names) from being exactly the known list; null when current. */
export function migrationProblem(
  applied: readonly string[],
  known: readonly string[] = MIGRATION_NAMES,
): string | null {
  const knownSet = new Set(known);
  const unknown = applied.filter((name) => !knownSet.has(name));
  if (unknown.length > 0)
    return `the database has migrations this version does not know: ${unknown.join(', ')}`;
  const appliedSet = new Set(applied);
  const pending = known.filter((name) => !appliedSet.has(name));
  if (pending.length > 0) return `migrations not applied: ${pending.join(', ')}`;
  return null;
}

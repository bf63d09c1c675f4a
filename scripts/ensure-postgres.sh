#!/usr/bin/env bash
# Checks that the PostgreSQL server the PostgreSQL suites use answers (127.0.0.1:5432 with trust auth
# on this project's machines, or TOKENLADDER_TEST_POSTGRES_URL), and that initdb/pg_ctl exist for the
# cluster test's private server. Fails with what to do; never starts or changes a server itself.
set -euo pipefail
url="${TOKENLADDER_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
node --input-type=module -e "
import pg from 'pg';
const client = new pg.Client({ connectionString: process.argv[1], connectionTimeoutMillis: 5000 });
try {
  await client.connect();
  const { rows } = await client.query('SHOW server_version_num');
  const version = Number(rows[0].server_version_num);
  if (version < 140000) throw new Error('PostgreSQL ' + version + ' is too old: 14 or newer is needed');
  console.log('PostgreSQL ' + version + ' reachable');
} catch (error) {
  console.error('PostgreSQL is not reachable for the tests (' + error.message + ').');
  console.error('Start a server (PostgreSQL >= 14, a role allowed to create databases) or set TOKENLADDER_TEST_POSTGRES_URL.');
  process.exit(1);
} finally {
  await client.end().catch(() => {});
}
" "$url"
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [[ -z "$bindir" || ! -x "$bindir/initdb" || ! -x "$bindir/pg_ctl" ]]; then
  echo "initdb/pg_ctl not found under /usr/lib/postgresql/*/bin: the cluster test's crash scenario needs them (Debian: postgresql)" >&2
  exit 1
fi
echo "initdb and pg_ctl: $bindir"

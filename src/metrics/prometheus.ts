// Node only: the app's metrics in a prom-client Registry of their own (one per app instance, never
// prom-client's global registry), so two apps in one process (tests, the CLI) never share counters.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { epochSeconds } from '../clock';
import type { Deps } from '../deps';
import { latestRevocation } from '../revocations/feed';
import type { AppMetrics, ObservedRequest } from './metrics';

export interface PrometheusOptions {
  /** Node's process metrics (CPU, memory, event-loop lag, GC): for a server, not for a test's app. */
  processMetrics?: boolean;
}

/** Prometheus metrics over `deps.db` (read at scrape time for the revocation feed gauges). */
export function createPrometheusMetrics(
  deps: Pick<Deps, 'db' | 'clock' | 'config'>,
  { processMetrics = false }: PrometheusOptions = {},
): AppMetrics {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  new Gauge({
    name: 'tokenladder_info',
    help: 'Always 1; the version in a label',
    labelNames: ['version'],
    registers,
  }).set({ version: deps.config.version }, 1);
  const exchanges = new Counter({
    name: 'tokenladder_exchanges_total',
    help: 'Token exchanges for a Base-Token or a temporary API-Token, by outcome (ok, refused)',
    labelNames: ['outcome'],
    registers,
  });
  const refusals = new Counter({
    name: 'tokenladder_refusals_total',
    help: 'Answers with status 400 or above, by error code (http_<status> for bodies without one)',
    labelNames: ['code'],
    registers,
  });
  const signIns = new Counter({
    name: 'tokenladder_sign_ins_total',
    help: 'Password sign-ins (API, SeaTable, web UI) by outcome: ok, refused, throttled',
    labelNames: ['outcome'],
    registers,
  });
  const databaseErrors = new Counter({
    name: 'tokenladder_database_errors_total',
    help: 'Requests that failed on a database error',
    registers,
  });
  const duration = new Histogram({
    name: 'tokenladder_http_request_duration_seconds',
    help: 'Request latency by route group and status class',
    labelNames: ['group', 'status_class'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  new Gauge({
    name: 'tokenladder_revocation_feed_entries',
    help: 'Revocation feed entries not yet expired (what a verifier starting from 0 downloads)',
    registers,
    async collect() {
      const row = await deps.db
        .selectFrom('revocations')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('expires_at', '>', epochSeconds(deps.clock))
        .executeTakeFirst();
      this.set(Number(row?.n ?? 0));
    },
  });
  new Gauge({
    name: 'tokenladder_revocation_feed_last_seq',
    help: "The revocation feed's newest sequence number (0: empty)",
    registers,
    async collect() {
      this.set(await latestRevocation(deps));
    },
  });

  return {
    observe(request: ObservedRequest) {
      duration.observe(
        { group: request.group, status_class: `${Math.floor(request.status / 100)}xx` },
        request.seconds,
      );
      if (request.errorCode !== null) refusals.inc({ code: request.errorCode });
      if (request.databaseError) databaseErrors.inc();
      if (request.group === 'exchange') exchanges.inc({ outcome: request.status < 400 ? 'ok' : 'refused' });
      if (request.group === 'sign_in') {
        // The web UI's sign-in answers success with a redirect, a refused password with the page and a 401.
        const outcome =
          request.status === 429
            ? 'throttled'
            : request.errorCode === null && request.status < 400
              ? 'ok'
              : 'refused';
        signIns.inc({ outcome });
      }
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

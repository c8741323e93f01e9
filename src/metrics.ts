// Prometheus metrics (prom-client): intake outcomes and latency, deliveries per channel, queue depth and age.
import type Router from '@koa/router';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Outcome } from './core/delivery.js';
import { toSendError } from './core/errors.js';
import type { IntakeContext, SendAnswer, SendRequestInput } from './core/send-request.js';

export type Operation = (input: SendRequestInput, ctx: IntakeContext) => Promise<SendAnswer>;

/** The delivery queue's gauges (store/queue-stats.ts). */
export type QueueStats = { depth(): Promise<number>; oldestAgeSeconds(): Promise<number> };

export function createMetrics(queue: QueueStats) {
  // One registry per gateway: several gateways may live in one process (tests, a worker beside an intake).
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hammy_' });
  const requests = new Counter({ name: 'hammy_requests_total', help: 'Send and resend requests by intake, operation and SPEC §7 status code', labelNames: ['intake', 'operation', 'code'], registers: [registry] });
  const latency = new Histogram({
    name: 'hammy_request_duration_seconds',
    help: 'Time to accept (validate, render, store) a request, by intake',
    labelNames: ['intake', 'operation'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const deliveries = new Counter({ name: 'hammy_deliveries_total', help: 'Delivery attempts by channel and outcome (sent, retry, failed)', labelNames: ['channel', 'outcome'], registers: [registry] });
  const takeovers = new Counter({ name: 'hammy_job_takeovers_total', help: 'Jobs claimed after their lease expired while another worker held them: each message may have been sent twice', registers: [registry] });
  const flowDelays = new Counter({ name: 'hammy_intake_flow_delays_total', help: 'Accepts held back because the delivery backlog was long (INTAKE_FLOW_BACKLOG)', registers: [registry] });
  // Read from the queue when scraped; a database that does not answer leaves the last value.
  const queueGauge = (name: string, help: string, read: () => Promise<number>) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const value = await read().catch(() => undefined);
        if (value !== undefined) this.set(value);
      },
    });
  queueGauge('hammy_queue_depth', 'Delivery jobs waiting or in progress', () => queue.depth());
  queueGauge('hammy_oldest_job_age_seconds', 'Age of the oldest delivery job still queued', () => queue.oldestAgeSeconds());

  return {
    registry,
    /** Wraps a core operation so every intake is counted the same way, whatever its wire. */
    track(operation: 'send' | 'resend', fn: Operation): Operation {
      return async (input, ctx) => {
        const end = latency.startTimer({ intake: ctx.intake, operation });
        try {
          const answer = await fn(input, ctx);
          requests.inc({ intake: ctx.intake, operation, code: '0' });
          return answer;
        } catch (e) {
          requests.inc({ intake: ctx.intake, operation, code: String(toSendError(e, ctx.correlationId).status) });
          throw e;
        } finally {
          end();
        }
      };
    },
    flowDelayed() {
      flowDelays.inc();
    },
    delivery(channel: string, outcome: Outcome) {
      deliveries.inc({ channel, outcome: outcome.kind });
    },
    /** Jobs taken over from a worker whose lease expired (also counted by the delivery thread). */
    takeovers(n: number) {
      takeovers.inc(n);
    },
    /** Outcomes counted elsewhere (the delivery thread), n at a time. */
    deliveries(channel: string, outcome: string, n: number) {
      deliveries.inc({ channel, outcome }, n);
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/** GET /metrics in the Prometheus text format. */
export function metricsRoute(router: Router<any>, metrics: Metrics) {
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
}

/**
 * The worker's Prometheus metrics: the product's own (checkout duration by final status, saga
 * compensations, voucher lock failures) from prom-client, plus the Temporal SDK's worker metrics,
 * which the SDK's native exporter serves on a loopback port and this endpoint appends, so one
 * scrape target has everything.
 */
import http from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { InjectedSinks } from '@temporalio/worker';
import type { CheckoutSinks } from '../workflows/sinks';
import type { CheckoutMetrics } from '../activities';

export interface WorkerMetrics {
  registry: Registry;
  sinks: InjectedSinks<CheckoutSinks>;
  checkout: CheckoutMetrics;
}

export function createWorkerMetrics(options: { defaultMetrics?: boolean } = {}): WorkerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const checkoutDuration = new Histogram({
    name: 'checkout_duration_seconds',
    help: 'Time from the start of a checkout saga to its final status.',
    labelNames: ['status'],
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600],
    registers: [registry],
  });
  const compensations = new Counter({
    name: 'saga_compensations_total',
    help: 'Compensations run by checkout sagas, by compensation.',
    labelNames: ['compensation'],
    registers: [registry],
  });
  const voucherLockFailures = new Counter({
    name: 'voucher_lock_failures_total',
    help: 'Voucher holds refused, by reason.',
    labelNames: ['reason'],
    registers: [registry],
  });
  const parcelMoneyMovesRefused = new Counter({
    name: 'parcel_money_moves_refused_total',
    help: 'Parcel refunds and payouts refused by the PSP or the ledger; each such parcel carries a problem for an operator.',
    labelNames: ['action', 'code'],
    registers: [registry],
  });
  return {
    registry,
    sinks: {
      metrics: {
        checkoutFinished: {
          fn: (_info, status, durationMs) => checkoutDuration.observe({ status }, durationMs / 1000),
          callDuringReplay: false,
        },
        compensationRan: {
          fn: (_info, compensation) => compensations.inc({ compensation }),
          callDuringReplay: false,
        },
        parcelMoneyMoveRefused: {
          fn: (_info, action, code) => parcelMoneyMovesRefused.inc({ action, code }),
          callDuringReplay: false,
        },
      },
    },
    checkout: { voucherLockFailure: (reason) => voucherLockFailures.inc({ reason }) },
  };
}

/** Fetches the SDK exporter's text; an empty string when it does not answer (metrics must not fail). */
async function sdkMetrics(url: string | undefined): Promise<string> {
  if (!url) return '';
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.text() : '';
  } catch {
    return '';
  }
}

/** The /metrics request handler: our registry, then the SDK exporter's text. */
function metricsRequestHandler(registry: Registry, sdkMetricsUrl?: string): http.RequestListener {
  return (req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    void Promise.all([registry.metrics(), sdkMetrics(sdkMetricsUrl)]).then(
      ([own, sdk]) => {
        res.writeHead(200, { 'Content-Type': registry.contentType }).end(`${own}\n${sdk}`);
      },
      (err: unknown) => {
        res.writeHead(500).end(`metrics failed: ${(err as Error).message}\n`);
      },
    );
  };
}

export function startMetricsServer(port: number, registry: Registry, sdkMetricsUrl?: string): http.Server {
  return http.createServer(metricsRequestHandler(registry, sdkMetricsUrl)).listen(port, '0.0.0.0');
}

/** Where the worker's /metrics may listen (lib/config.ts, WorkerMetricsPorts). */
export interface MetricsPortChoice {
  from: number;
  to: number;
  fixed: boolean;
}

function listenOnce(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, '0.0.0.0', () => {
      server.off('error', onError);
      resolve((server.address() as { port: number }).port);
    });
  });
}

/**
 * Serves /metrics on the first free port of the choice (0: the kernel's pick), so several workers
 * share a host; a fixed port that is taken fails with a message naming the variable. Resolves with
 * the server and the port it took.
 */
export async function listenMetricsServer(choice: MetricsPortChoice, registry: Registry, sdkMetricsUrl?: string): Promise<{ server: http.Server; port: number }> {
  for (let port = choice.from; port <= choice.to; port += 1) {
    const server = http.createServer(metricsRequestHandler(registry, sdkMetricsUrl));
    try {
      return { server, port: await listenOnce(server, port) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  const what = choice.fixed ? `port ${choice.from} is taken` : `no free port in ${choice.from}-${choice.to}`;
  throw new Error(`worker metrics: ${what}; set WORKER_METRICS_PORT to another port, a range (e.g. 9464-9499) or 0, or WORKER_INDEX`);
}

/** A loopback port the kernel says is free now (for the SDK's exporter when ours is not fixed). */
export function freeLoopbackPort(): Promise<number> {
  const probe = http.createServer();
  return listenOnce(probe, 0).then((port) => new Promise((resolve) => probe.close(() => resolve(port))));
}

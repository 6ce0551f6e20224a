import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWorkerMetrics, startMetricsServer } from './metrics';

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => {
    if (server.listening) resolve((server.address() as AddressInfo).port);
    else server.once('listening', () => resolve((server.address() as AddressInfo).port));
  });
}

describe('worker metrics endpoint', () => {
  it('serves the product metrics followed by the Temporal SDK exporter text, and survives an SDK exporter that is down', async () => {
    const metrics = createWorkerMetrics();
    void metrics.sinks.metrics.checkoutFinished.fn({} as never, 'COMPLETED', 1500);
    void metrics.sinks.metrics.compensationRan.fn({} as never, 'releaseStock');
    metrics.checkout.voucherLockFailure('VOUCHER_EXHAUSTED');
    const sdk = http.createServer((_req, res) => res.end('temporal_workflow_completed 3\n')).listen(0, '127.0.0.1');
    const sdkPort = await listen(sdk);
    const server = startMetricsServer(0, metrics.registry, `http://127.0.0.1:${sdkPort}/metrics`);
    const port = await listen(server);
    try {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(text, /checkout_duration_seconds_count\{status="COMPLETED"\} 1/);
      assert.match(text, /checkout_duration_seconds_bucket\{le="2",status="COMPLETED"\} 1/);
      assert.match(text, /saga_compensations_total\{compensation="releaseStock"\} 1/);
      assert.match(text, /voucher_lock_failures_total\{reason="VOUCHER_EXHAUSTED"\} 1/);
      assert.match(text, /temporal_workflow_completed 3/);
      sdk.close();
      const withoutSdk = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(withoutSdk, /saga_compensations_total/);
      assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
    } finally {
      server.close();
      sdk.close();
    }
  });
});

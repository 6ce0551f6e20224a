/**
 * Several workers on one host: WORKER_METRICS_PORT as a port offset by WORKER_INDEX, a range, or 0
 * (lib/config.ts), and the metrics server taking the first free port of its choice (workers/metrics.ts).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { workerMetricsPortsFromEnv } from '../lib/config';
import { createWorkerMetrics, freeLoopbackPort, listenMetricsServer } from './metrics';

describe('worker metrics ports', () => {
  it('a fixed port is offset by 2 x WORKER_INDEX (the SDK exporter takes the next one); a range or 0 are taken as given', () => {
    assert.deepEqual(workerMetricsPortsFromEnv({}), { from: 9464, to: 9464, fixed: true });
    assert.deepEqual(workerMetricsPortsFromEnv({ WORKER_INDEX: '2' }), { from: 9468, to: 9468, fixed: true });
    assert.deepEqual(workerMetricsPortsFromEnv({ WORKER_METRICS_PORT: '9500', WORKER_INDEX: '1' }), { from: 9502, to: 9502, fixed: true });
    assert.deepEqual(workerMetricsPortsFromEnv({ WORKER_METRICS_PORT: '9500-9510', WORKER_INDEX: '3' }), { from: 9500, to: 9510, fixed: false });
    assert.deepEqual(workerMetricsPortsFromEnv({ WORKER_METRICS_PORT: '0' }), { from: 0, to: 0, fixed: false });
    for (const bad of ['9510-9500', '0-10', '70000', 'abc', '9500-70000']) assert.throws(() => workerMetricsPortsFromEnv({ WORKER_METRICS_PORT: bad }), /WORKER_METRICS_PORT/, bad);
    assert.throws(() => workerMetricsPortsFromEnv({ WORKER_INDEX: '-1' }), /WORKER_INDEX/);
    assert.throws(() => workerMetricsPortsFromEnv({ WORKER_METRICS_PORT: '65534', WORKER_INDEX: '1' }), /below 65535/);
  });

  it('takes the first free port of a range, the kernel\'s pick for 0, and names the variable when a fixed port is taken', async () => {
    const metrics = createWorkerMetrics();
    const taken = http.createServer().listen(0, '0.0.0.0');
    await new Promise((resolve) => taken.once('listening', resolve));
    const port = (taken.address() as AddressInfo).port;
    const opened: http.Server[] = [];
    try {
      const inRange = await listenMetricsServer({ from: port, to: port + 5, fixed: false }, metrics.registry);
      opened.push(inRange.server);
      assert.ok(inRange.port > port && inRange.port <= port + 5);
      const res = await fetch(`http://127.0.0.1:${inRange.port}/metrics`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /checkout_duration_seconds/);

      const kernel = await listenMetricsServer({ from: 0, to: 0, fixed: false }, metrics.registry);
      opened.push(kernel.server);
      assert.ok(kernel.port > 0);

      await assert.rejects(listenMetricsServer({ from: port, to: port, fixed: true }, metrics.registry), /port \d+ is taken; set WORKER_METRICS_PORT/);
      assert.ok((await freeLoopbackPort()) > 0);
    } finally {
      for (const server of opened) server.close();
      taken.close();
    }
  });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { projectRoot } from '../lib/config';
import { pidAlive } from './stack/proc';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

describe('npm start @integration', () => {
  it('brings up the worker and the API, answers health checks, and Ctrl-C stops every process it started', async function () {
    this.timeout(120_000);
    const port = await freePort();
    // Node itself runs start.ts (tsx as a require hook): no wrapper process that a SIGKILL in the
    // finally block would leave start.ts orphaned behind.
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'scripts/start.ts'], {
      cwd: projectRoot,
      env: { ...process.env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 90_000;
      while (!output.includes('Checkout orchestrator is up') && Date.now() < deadline) {
        assert.equal(child.exitCode, null, `npm start exited early:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.match(output, /Checkout orchestrator is up/, output);
      assert.match(output, new RegExp(`API\\s+http://localhost:${port}`));
      assert.match(output, /Temporal Web UI\s+http:\/\/localhost:\d+/);
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
      const pids = [...output.matchAll(/\]\s+(?:worker|api) started \(pid (\d+)\)/g)].map((m) => Number(m[1]));
      assert.equal(pids.length, 2, output);

      child.kill('SIGINT');
      assert.equal(await exited, 0, output);
      assert.match(output, /\[start\]\s+stopped/);
      for (const pid of pids) assert.equal(pidAlive(pid), false, `process ${pid} outlived npm start`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('--workers 2: each worker its own metrics port; a SIGKILLed worker or API is restarted with backoff, and Ctrl-C stops the restarted ones too', async function () {
    this.timeout(180_000);
    const port = await freePort();
    // Two workers on consecutive pairs of metrics ports (WORKER_INDEX 0 and 1): 4 free ports from here.
    const metricsBase = await freePort();
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'scripts/start.ts', '--workers', '2'], {
      cwd: projectRoot,
      env: { ...process.env, PORT: String(port), WORKER_METRICS_PORT: String(metricsBase) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const waitFor = async (pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(output);
        if (match) return match;
        assert.equal(child.exitCode, null, `npm start exited early:\n${output}`);
        assert.ok(Date.now() < deadline, `no ${String(pattern)} within ${timeoutMs} ms:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    const pidsOf = (name: string): number[] => [...output.matchAll(new RegExp(`\\]\\s+${name} started \\(pid (\\d+)\\)`, 'g'))].map((m) => Number(m[1]));
    try {
      await waitFor(/Checkout orchestrator is up/, 90_000);
      await waitFor(/\[worker-1\].*worker polling task queue/, 60_000);
      await waitFor(/\[worker-2\].*worker polling task queue/, 60_000);
      // Both workers serve their metrics, on the ports their index gives them.
      for (const metricsPort of [metricsBase, metricsBase + 2]) {
        const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
        assert.equal(res.status, 200);
        assert.match(await res.text(), /checkout_duration_seconds/);
      }
      const [firstWorker] = pidsOf('worker-1');
      assert.ok(firstWorker);
      process.kill(firstWorker, 'SIGKILL');
      await waitFor(new RegExp(`worker-1 \\(pid ${firstWorker}\\) exited unexpectedly \\(SIGKILL\\).*restarting in 500 ms \\(restart 1\\)`), 10_000);
      await waitFor(/worker-1 started \(pid \d+\)[\s\S]*\[worker-1\].*worker polling task queue[\s\S]*\[worker-1\].*worker polling task queue/, 60_000);
      const restartedWorker = pidsOf('worker-1')[1]!;
      assert.ok(pidAlive(restartedWorker));
      assert.equal((await fetch(`http://127.0.0.1:${metricsBase}/metrics`)).status, 200, 'the restarted worker took its metrics port again');

      const [firstApi] = pidsOf('api');
      assert.ok(firstApi);
      process.kill(firstApi, 'SIGKILL');
      await waitFor(new RegExp(`api \\(pid ${firstApi}\\) exited unexpectedly \\(SIGKILL\\)`), 10_000);
      await waitFor(/api started \(pid \d+\)[\s\S]*api started \(pid \d+\)/, 10_000);
      const deadline = Date.now() + 60_000;
      let healthy = false;
      while (!healthy && Date.now() < deadline) {
        healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
        if (!healthy) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.ok(healthy, `the restarted API does not answer /healthz:\n${output}`);
      const everyPid = [...pidsOf('worker-1'), ...pidsOf('worker-2'), ...pidsOf('api')];
      assert.equal(everyPid.length, 5, output);

      child.kill('SIGINT');
      assert.equal(await exited, 0, output);
      for (const pid of everyPid) assert.equal(pidAlive(pid), false, `process ${pid} outlived npm start`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

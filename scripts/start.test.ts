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
});

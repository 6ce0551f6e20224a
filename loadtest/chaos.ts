/**
 * The chaos scenario's instruments:
 *
 * - **Toxiproxy** (github.com/Shopify/toxiproxy v2.12.0, built project-locally by
 *   scripts/stack/go-tools.ts), started privately by the harness on a free port and stopped by it:
 *   one proxy each in front of Postgres, Redis and the harness's PSP; the harness's API and worker
 *   reach those only through the proxies, so a fault (added latency, a cut connection, a service
 *   that stops answering) hits them and nothing else on the machine.
 * - **Webhook relay**: the PSP sends its webhooks here; each is delivered to the API three times,
 *   in shuffled order with random delays (0-1.5 s), each copy retried until the API answers 2xx
 *   (bounded: 5 minutes). The relay answers the PSP 200 only after it has the event.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { closeSync, openSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { freePort } from '../bench/checkout/processes';


export interface Toxiproxy {
  url: string;
  /** Creates a proxy listening on a free loopback port; returns that port. */
  proxy(name: string, upstreamPort: number): Promise<number>;
  /** Adds a toxic to a proxy (type latency / timeout / bandwidth / reset_peer ...). */
  toxic(proxy: string, name: string, type: string, attributes: Record<string, number>, stream?: 'upstream' | 'downstream'): Promise<void>;
  /** Cuts (false) or restores (true) a proxy: existing connections are closed, new ones refused. */
  enable(proxy: string, enabled: boolean): Promise<void>;
  /** Every proxy enabled again, every toxic removed. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

async function call(url: string, method: string, body?: unknown): Promise<void> {
  const res = await fetch(url, {
    method,
    headers: { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`toxiproxy ${method} ${url}: HTTP ${res.status} ${await res.text()}`);
}

export async function startToxiproxy(binary: string, logFile: string): Promise<Toxiproxy> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(binary, ['-host', '127.0.0.1', '-port', String(port)], { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`toxiproxy-server exited (code ${child.exitCode}); see ${logFile}`);
    const up = await fetch(`${url}/version`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`toxiproxy-server did not answer within 15 s; see ${logFile}`);
    }
    await sleep(100);
  }
  return {
    url,
    async proxy(name, upstreamPort) {
      const listen = await freePort();
      await call(`${url}/proxies`, 'POST', { name, listen: `127.0.0.1:${listen}`, upstream: `127.0.0.1:${upstreamPort}`, enabled: true });
      return listen;
    },
    toxic: (proxy, name, type, attributes, stream = 'downstream') => call(`${url}/proxies/${proxy}/toxics`, 'POST', { name, type, stream, toxicity: 1, attributes }),
    enable: (proxy, enabled) => call(`${url}/proxies/${proxy}`, 'POST', { enabled }),
    reset: () => call(`${url}/reset`, 'POST'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface WebhookRelay {
  url: string;
  /** Where the copies go (the API is started after the relay). */
  retarget(target: string): void;
  stats(): { received: number; delivered: number; pending: number; failed: number };
  /** Waits until every copy was delivered (or gave up), bounded by `timeoutMs`. */
  drain(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

interface Event {
  body: Buffer;
  headers: Record<string, string>;
}

export async function startWebhookRelay(options: { target: string; copies?: number; maxDelayMs?: number; giveUpMs?: number; random?: () => number }): Promise<WebhookRelay> {
  const copies = options.copies ?? 3;
  const maxDelayMs = options.maxDelayMs ?? 1500;
  const giveUpMs = options.giveUpMs ?? 300_000;
  const random = options.random ?? Math.random;
  let target = options.target;
  const pending = new Set<Promise<void>>();
  const counts = { received: 0, delivered: 0, failed: 0 };
  let closed = false;

  async function deliver(event: Event): Promise<void> {
    const deadline = Date.now() + giveUpMs;
    await sleep(Math.floor(random() * maxDelayMs));
    while (!closed && Date.now() < deadline) {
      const ok = await fetch(target, { method: 'POST', headers: event.headers, body: event.body, signal: AbortSignal.timeout(5000) }).then(
        (r) => r.status >= 200 && r.status < 300,
        () => false,
      );
      if (ok) {
        counts.delivered += 1;
        return;
      }
      await sleep(500);
    }
    counts.failed += 1;
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)) headers[k] = v;
      const event = { body: Buffer.concat(chunks), headers };
      counts.received += 1;
      // Every copy waits its own random delay: the copies of one event and of its neighbours interleave.
      for (let i = 0; i < copies; i += 1) {
        const p = deliver(event);
        pending.add(p);
        void p.finally(() => pending.delete(p));
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"received":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/relay`;
  return {
    url,
    retarget(next) {
      target = next;
    },
    stats: () => ({ ...counts, pending: pending.size }),
    async drain(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (pending.size > 0 && Date.now() < deadline) await sleep(100);
    },
    async close() {
      closed = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}

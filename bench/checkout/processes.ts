/**
 * The processes bench:checkout runs: the product worker and API (exactly as scripts/start.ts
 * spawns them: node with tsx's require hook, so the pid is the real process) and the bench-only
 * floor worker. Output goes to log files; every process is stopped at the end, on Ctrl-C and on
 * errors (SIGTERM, then SIGKILL after a grace period; a last SIGKILL on exit).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { projectRoot } from '../../lib/config';

export interface BenchProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
}

const running: BenchProcess[] = [];

export function logDir(): string {
  const dir = path.join(process.env.STACK_DATA_DIR ?? path.join(projectRoot, '.data'), 'logs');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** True when nothing listens on `port` (checked on every interface, as express listens). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port }, () => server.close(() => resolve(true)));
  });
}

/** A port the kernel says is free now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A free port whose next port is free too (the worker's SDK metrics exporter uses port + 1). */
export async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const port = await freePort();
    if (port < 65535 && (await portFree(port + 1))) return port;
  }
  throw new Error('no free pair of ports found');
}

/** Spawns `node --require tsx/cjs <entry>` with its output appended to .data/logs/<logName>. */
export function spawnTs(name: string, entry: string, env: NodeJS.ProcessEnv, logName: string): BenchProcess {
  const logFile = path.join(logDir(), logName);
  const fd = openSync(logFile, 'w');
  try {
    // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=.data/prof") profiles the spawned processes.
    const extraArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...extraArgs, '--require', 'tsx/cjs', entry], { cwd: projectRoot, env, stdio: ['ignore', fd, fd] });
    const proc = { name, child, logFile };
    running.push(proc);
    return proc;
  } finally {
    closeSync(fd);
  }
}

export function alive(proc: BenchProcess): boolean {
  return proc.child.exitCode === null && proc.child.signalCode === null;
}

export function logTail(proc: BenchProcess, lines = 15): string {
  if (!existsSync(proc.logFile)) return '';
  return readFileSync(proc.logFile, 'utf8').split('\n').slice(-lines).join('\n');
}


function died(proc: BenchProcess): Error {
  return new Error(`${proc.name} exited (${proc.child.signalCode ?? `code ${proc.child.exitCode}`}); last lines of ${proc.logFile}:\n${logTail(proc)}`);
}

/** Waits until the process's log has a line matching `pattern`. */
export async function waitForLog(proc: BenchProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(proc)) throw died(proc);
    if (existsSync(proc.logFile) && pattern.test(readFileSync(proc.logFile, 'utf8'))) return;
    await sleep(100);
  }
  throw new Error(`${proc.name} did not log ${String(pattern)} within ${timeoutMs} ms; last lines of ${proc.logFile}:\n${logTail(proc)}`);
}

/** Waits until `url` answers 200 (while `proc` lives). */
export async function waitForHttp(proc: BenchProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (!alive(proc)) throw died(proc);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last}); last lines of ${proc.logFile}:\n${logTail(proc)}`);
}

function exited(proc: BenchProcess): Promise<void> {
  return alive(proc) ? new Promise((resolve) => proc.child.once('exit', () => resolve())) : Promise.resolve();
}

/** SIGTERM to every process still running, SIGKILL to those still there after `graceMs`. */
export async function stopAll(graceMs = 15_000): Promise<void> {
  const procs = running.filter(alive);
  for (const proc of procs) proc.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const proc of procs) if (alive(proc)) proc.child.kill('SIGKILL');
  }, graceMs);
  await Promise.all(procs.map(exited));
  clearTimeout(timer);
}

/** Last resort on process exit: SIGKILL whatever is still running (synchronous). */
export function killAllNow(): void {
  for (const proc of running) if (alive(proc)) proc.child.kill('SIGKILL');
}

export function pids(): { name: string; pid: number | undefined; alive: boolean }[] {
  return running.map((p) => ({ name: p.name, pid: p.child.pid, alive: alive(p) }));
}

/** Process and port helpers for the stack manager: run commands, daemons with pid files, waits. */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export function log(line: string): void {
  console.log(`[stack] ${line}`);
}

export class StackError extends Error {
  /** What to do about it, shown to the user under the message. */
  constructor(message: string, readonly fix?: string) {
    super(message);
    this.name = 'StackError';
  }
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Finds an executable on PATH (like `command -v`). */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Runs a command to completion, streaming its output with a prefix; throws StackError on failure. */
export function run(cmd: string, args: string[], options: SpawnSyncOptions & { what: string; fix?: string }): string {
  const result = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) throw new StackError(`${options.what}: ${result.error.message}`, options.fix);
  if (result.status !== 0) {
    const out = `${String(result.stdout ?? '')}${String(result.stderr ?? '')}`.trim().split('\n').slice(-15).join('\n');
    throw new StackError(`${options.what} failed (exit ${result.status}):\n${out}`, options.fix);
  }
  return String(result.stdout ?? '');
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of a live process, to make sure a pid file still names the process we started. */
export function processCommand(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Starts a long-running process detached from this one (own session, output to a log file). */
export function startDaemon(opts: { cmd: string; args: string[]; logFile: string; pidFile: string; cwd?: string; env?: NodeJS.ProcessEnv }): number {
  mkdirSync(path.dirname(opts.logFile), { recursive: true });
  mkdirSync(path.dirname(opts.pidFile), { recursive: true });
  const fd = openSync(opts.logFile, 'a');
  try {
    const child = spawn(opts.cmd, opts.args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new StackError(`could not start ${opts.cmd}`);
    child.unref();
    writeFileSync(opts.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Stops a process we started (its whole process group): SIGTERM, then SIGKILL after a grace period. */
export async function stopDaemon(pidFile: string, expectInCommand: string, graceMs = 10_000): Promise<'stopped' | 'not-running'> {
  const pid = readPid(pidFile);
  if (pid === undefined || !pidAlive(pid) || !processCommand(pid).includes(expectInCommand)) {
    rmSync(pidFile, { force: true });
    return 'not-running';
  }
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(100);
  if (pidAlive(pid)) signalGroup(pid, 'SIGKILL');
  while (pidAlive(pid)) await sleep(50);
  rmSync(pidFile, { force: true });
  return 'stopped';
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

export function portOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Polls `check` until it returns true, printing a progress line every few seconds so a slow start
 * on a busy machine never looks like a hang. Throws StackError with the log tail on timeout.
 */
export async function waitFor(what: string, check: () => Promise<boolean>, opts: { timeoutMs: number; logFile?: string; alive?: () => boolean }): Promise<void> {
  const started = Date.now();
  let lastReport = started;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (opts.alive && !opts.alive()) {
      throw new StackError(`${what} exited during start-up.${logTail(opts.logFile)}`);
    }
    const now = Date.now();
    if (now - started > opts.timeoutMs) {
      throw new StackError(`${what} did not become ready within ${Math.round(opts.timeoutMs / 1000)} s.${logTail(opts.logFile)}`);
    }
    if (now - lastReport >= 3000) {
      log(`waiting for ${what}... ${Math.round((now - started) / 1000)} s`);
      lastReport = now;
    }
    await sleep(200);
  }
}

export function logTail(logFile: string | undefined, lines = 20): string {
  if (!logFile || !existsSync(logFile)) return '';
  const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  return `\nLast lines of ${logFile}:\n${tail}`;
}

/**
 * Pinned Go programs the stack and the tests need (Jaeger, toxiproxy, stripe-mock), built once with
 * the machine's Go into the project-local, git-ignored `.tools/` (STACK_TOOLS_DIR overrides it).
 * These machines reach package registries only, so release downloads cannot work; the Go module
 * proxy can: each tool gets a throwaway module `.tools/<name>-<version>/` that pins it
 * (`go get -tool`) and builds the binary next to its go.mod.
 *
 * A build happens in a private `.build-*` folder that is renamed into place only once complete and
 * marked (`.installed`): an interrupted build is redone, never used, and two processes building at
 * once cannot corrupt each other. Once the module cache holds the sources, a rebuild works offline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../lib/config';
import { log, pidAlive, run, StackError, which } from './proc';

export interface GoTool {
  /** Binary and folder name. */
  name: string;
  /** The package `go get -tool` pins and `go build` compiles. */
  pkg: string;
  version: string;
  /** Variable naming an existing binary to use instead (no build). */
  envOverride: string;
  /** What the tool is for, in a message about it being unavailable. */
  purpose: string;
  /** First-build time on this project's 2-core machines, for the progress message. */
  firstBuild: string;
}

/** Pinned versions: bump deliberately (and docker-compose.yml's Jaeger image with Jaeger). */
export const goTools = {
  /** v1.76.0 is the Jaeger v2.13.0 release (cmd/jaeger is the v2 binary; CHANGELOG "v1.76.0 / v2.13.0"). */
  jaeger: {
    name: 'jaeger',
    pkg: 'github.com/jaegertracing/jaeger/cmd/jaeger',
    version: 'v1.76.0',
    envOverride: 'JAEGER_PATH',
    purpose: 'the local trace viewer (traces are off without it)',
    firstBuild: '7-10 min on 2 idle cores',
  },
  toxiproxyServer: {
    name: 'toxiproxy-server',
    pkg: 'github.com/Shopify/toxiproxy/v2/cmd/server',
    version: 'v2.12.0',
    envOverride: 'TOXIPROXY_PATH',
    purpose: 'network fault injection in the load tests',
    firstBuild: '2-3 min',
  },
  stripeMock: {
    name: 'stripe-mock',
    pkg: 'github.com/stripe/stripe-mock',
    version: 'v0.203.0',
    envOverride: 'STRIPE_MOCK_PATH',
    purpose: "the Stripe API stand-in of the Stripe gateway's tests",
    firstBuild: '2-3 min',
  },
} as const satisfies Record<string, GoTool>;

/** The Jaeger v2 release that Jaeger's module version v1.76.0 is (its CHANGELOG: "v1.76.0 / v2.13.0"); docker-compose.yml's image. */
export const jaegerV2Release = '2.13.0';

export function toolsRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.STACK_TOOLS_DIR || path.join(projectRoot, '.tools');
}

export const toolDir = (tool: GoTool, root = toolsRoot()): string => path.join(root, `${tool.name}-${tool.version}`);
export const toolBinary = (tool: GoTool, root = toolsRoot()): string => path.join(toolDir(tool, root), tool.name);
const markerOf = (dir: string): string => path.join(dir, '.installed');
const markerText = (tool: GoTool): string => `${tool.pkg}@${tool.version}\n`;

/** The built binary when its build completed (marker present and naming this exact pin). */
export function installedBinary(tool: GoTool, root = toolsRoot()): string | undefined {
  const bin = toolBinary(tool, root);
  const marker = markerOf(toolDir(tool, root));
  if (!existsSync(bin) || !existsSync(marker)) return undefined;
  return readFileSync(marker, 'utf8') === markerText(tool) ? bin : undefined;
}

/**
 * The environment of every go command here: the machine's Go only (GOTOOLCHAIN=local: no toolchain
 * download, which would fail offline), modules resolved into the throwaway go.mod, no VCS stamping
 * (`.tools/` sits inside the project's git checkout).
 */
export function goEnv(base: NodeJS.ProcessEnv = process.env, offline = false): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod -buildvcs=false', GOWORK: 'off' };
  // Offline: only the module cache, whose content was checked against the checksum database when
  // it was downloaded.
  if (offline) Object.assign(env, { GOPROXY: 'off', GOSUMDB: 'off' });
  return env;
}

/** The commands that build a tool inside its module folder, as run here and as printed for running by hand. */
export function buildCommands(tool: GoTool): string[][] {
  return [
    ['go', 'mod', 'init', `stacktools/${tool.name}`],
    ['go', 'get', '-tool', `${tool.pkg}@${tool.version}`],
    ['go', 'build', '-o', tool.name, tool.pkg],
  ];
}

/** One shell line that does the whole build by hand. */
export function manualBuildCommand(tool: GoTool, root = toolsRoot()): string {
  const dir = toolDir(tool, root);
  const steps = buildCommands(tool).map((cmd) => cmd.join(' '));
  return `rm -rf ${dir} && mkdir -p ${dir} && cd ${dir} && export GOTOOLCHAIN=local GOFLAGS='-mod=mod -buildvcs=false' && ${steps.join(' && ')} && printf '${markerText(tool).trim()}\\n' > .installed`;
}

/** Whether the module cache already holds the tool's own module (then an offline build is worth a try). */
function moduleCached(tool: GoTool, env: NodeJS.ProcessEnv): boolean {
  const modCache = env.GOMODCACHE || path.join(env.GOPATH || path.join(env.HOME ?? '/root', 'go'), 'pkg', 'mod');
  // The module path is the package path or a prefix of it; the cache escapes capitals as !lower.
  const escape = (p: string): string => p.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
  const parts = tool.pkg.split('/');
  for (let n = parts.length; n >= 2; n--) {
    const zip = path.join(modCache, 'cache', 'download', escape(parts.slice(0, n).join('/')), '@v', `${tool.version}.zip`);
    if (existsSync(zip)) return true;
  }
  return false;
}

/**
 * Prints "<what>... 1 min 15 s" every `intervalMs` while a synchronous step blocks this process's
 * event loop: a tiny separate node process does the printing, and exits by itself when orphaned.
 */
export function startHeartbeat(what: string, intervalMs = 15_000): ChildProcess {
  const script = `
    const [what, every, parent] = process.argv.slice(1);
    const started = Date.now();
    const fmt = (s) => (s >= 60 ? Math.floor(s / 60) + ' min ' + (s % 60) + ' s' : s + ' s');
    setInterval(() => {
      if (process.ppid !== Number(parent)) process.exit(0); // orphaned: the build was interrupted
      console.log('[stack] ' + what + '... ' + fmt(Math.round((Date.now() - started) / 1000)));
    }, Number(every));`;
  return spawn(process.execPath, ['-e', script, what, String(intervalMs), String(process.pid)], { stdio: ['ignore', 'inherit', 'inherit'] });
}

function runStep(cmd: string[], cwd: string, env: NodeJS.ProcessEnv, heartbeat: string): void {
  const beat = startHeartbeat(heartbeat);
  try {
    run(cmd[0]!, cmd.slice(1), { what: cmd.join(' '), cwd, env });
  } finally {
    beat.kill();
  }
}

/** Removes build folders of interrupted builds (their process is gone). */
export function removeAbandonedBuilds(root: string): void {
  if (!existsSync(root)) return;
  for (const entry of readdirSync(root)) {
    const match = /^\.build-.+-(\d+)$/.exec(entry);
    if (match && !pidAlive(Number(match[1]))) rmSync(path.join(root, entry), { recursive: true, force: true });
  }
}

/** The pid of another live process building this tool now, if any. */
export function buildInProgress(tool: GoTool, root = toolsRoot()): number | undefined {
  if (!existsSync(root)) return undefined;
  const prefix = `.build-${tool.name}-${tool.version}-`;
  for (const entry of readdirSync(root)) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(entry.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && pidAlive(pid)) return pid;
  }
  return undefined;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Waits for another process's build of the same tool (two test runs starting at once on a fresh
 * machine) instead of compiling it a second time beside it; its result when it succeeds.
 */
function awaitOtherBuild(tool: GoTool, root: string, pid: number): string | undefined {
  log(`${tool.name} ${tool.version} is being built by process ${pid}: waiting for it`);
  const beat = startHeartbeat(`${tool.name}: waiting for the build by process ${pid}`);
  try {
    while (buildInProgress(tool, root) !== undefined && !installedBinary(tool, root)) sleepSync(1000);
  } finally {
    beat.kill();
  }
  return installedBinary(tool, root);
}

function build(tool: GoTool, root: string, go: string, offline: boolean): void {
  const staging = path.join(root, `.build-${tool.name}-${tool.version}-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const env = goEnv(process.env, offline);
  try {
    const [init, get, compile] = buildCommands(tool);
    run(go, init!.slice(1), { what: init!.join(' '), cwd: staging, env });
    runStep([go, ...get!.slice(1)], staging, env, `${tool.name}: fetching modules${offline ? ' (from the module cache)' : ''}`);
    runStep([go, ...compile!.slice(1)], staging, env, `${tool.name}: compiling (first build ${tool.firstBuild})`);
    writeFileSync(markerOf(staging), markerText(tool));
    const dir = toolDir(tool, root);
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(staging, dir);
    } catch (err) {
      // Another process finished the same build first: use its result.
      if (!installedBinary(tool, root)) throw err;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * The binary of a pinned Go tool: its env override, else `.tools/` (built when missing and
 * `install`). Undefined, after saying why and what to run by hand, when it cannot be had.
 */
export function goToolBinary(tool: GoTool, install = true, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env[tool.envOverride];
  if (fromEnv) {
    if (existsSync(fromEnv)) return fromEnv;
    log(`${tool.envOverride} points at ${fromEnv}, which does not exist: ${tool.name} is unavailable (${tool.purpose}).`);
    return undefined;
  }
  const root = toolsRoot(env);
  const found = installedBinary(tool, root);
  if (found || !install) return found;
  const go = which('go');
  const byHand = manualBuildCommand(tool, root);
  if (!go) {
    log(`Go is missing, so ${tool.name} ${tool.version} (${tool.purpose}) cannot be built.`);
    log(`fix: install Go >= 1.24 (e.g. apt-get install -y golang-go), then run \`npm run stack -- up\` again, or by hand: ${byHand}; or set ${tool.envOverride} to an existing binary`);
    return undefined;
  }
  mkdirSync(root, { recursive: true });
  removeAbandonedBuilds(root);
  const other = buildInProgress(tool, root);
  if (other !== undefined) {
    const built = awaitOtherBuild(tool, root, other);
    if (built) return built;
  }
  const started = Date.now();
  log(`building ${tool.name} ${tool.version} from the Go module proxy into ${toolDir(tool, root)} (one-time; first build ${tool.firstBuild}, progress every 15 s)...`);
  try {
    const offline = moduleCached(tool, env);
    try {
      build(tool, root, go, offline);
    } catch (err) {
      // A partly filled module cache fails offline: go to the network for the rest.
      if (!offline) throw err;
      log(`${tool.name}: the module cache lacks part of it, fetching from the Go module proxy`);
      build(tool, root, go, false);
    }
  } catch (err) {
    const message = err instanceof StackError ? err.message : String(err);
    log(`could not build ${tool.name} ${tool.version}: ${message}`);
    log(`${tool.name} is unavailable (${tool.purpose}). Build it by hand: ${byHand}; or set ${tool.envOverride} to an existing binary`);
    return undefined;
  }
  log(`built ${tool.name} ${tool.version} in ${Math.round((Date.now() - started) / 1000)} s`);
  return installedBinary(tool, root);
}

export const jaegerBinary = (install = true): string | undefined => goToolBinary(goTools.jaeger, install);
export const toxiproxyServerBinary = (install = true): string | undefined => goToolBinary(goTools.toxiproxyServer, install);
export const stripeMockBinary = (install = true): string | undefined => goToolBinary(goTools.stripeMock, install);

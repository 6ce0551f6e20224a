import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../lib/config';
import {
  type GoTool,
  goEnv,
  goToolBinary,
  goTools,
  installedBinary,
  manualBuildCommand,
  removeAbandonedBuilds,
  buildInProgress,
  toolBinary,
  toolDir,
  toolsRoot,
} from './go-tools';

const tool: GoTool = goTools.stripeMock;

/** Captures the stack's console lines while `fn` runs. */
function captureLog<T>(fn: () => T): { result: T; output: string } {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => lines.push(args.join(' '));
  try {
    return { result: fn(), output: lines.join('\n') };
  } finally {
    console.log = original;
  }
}

/** A finished build as the installer leaves it: binary plus marker naming the exact pin. */
function fakeInstall(root: string, t: GoTool, marker = `${t.pkg}@${t.version}\n`): string {
  mkdirSync(toolDir(t, root), { recursive: true });
  writeFileSync(toolBinary(t, root), '#!/bin/sh\n');
  chmodSync(toolBinary(t, root), 0o755);
  writeFileSync(path.join(toolDir(t, root), '.installed'), marker);
  return toolBinary(t, root);
}

describe('go-tools: pinned Go tools in .tools/', () => {
  let root: string;
  let savedPath: string | undefined;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'go-tools-'));
    savedPath = process.env.PATH;
  });
  afterEach(() => {
    process.env.PATH = savedPath;
    rmSync(root, { recursive: true, force: true });
  });

  it('keeps each tool in .tools/<name>-<version>/ by default, in STACK_TOOLS_DIR when set', () => {
    assert.equal(toolsRoot({}), path.join(projectRoot, '.tools'));
    assert.equal(toolsRoot({ STACK_TOOLS_DIR: root }), root);
    assert.equal(toolBinary(goTools.jaeger, root), path.join(root, 'jaeger-v1.76.0', 'jaeger'));
    assert.equal(toolBinary(goTools.toxiproxyServer, root), path.join(root, 'toxiproxy-server-v2.12.0', 'toxiproxy-server'));
    assert.equal(toolBinary(goTools.stripeMock, root), path.join(root, 'stripe-mock-v0.203.0', 'stripe-mock'));
  });

  it('pins the agreed packages and versions', () => {
    assert.equal(`${goTools.jaeger.pkg}@${goTools.jaeger.version}`, 'github.com/jaegertracing/jaeger/cmd/jaeger@v1.76.0');
    assert.equal(`${goTools.toxiproxyServer.pkg}@${goTools.toxiproxyServer.version}`, 'github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0');
    assert.equal(`${goTools.stripeMock.pkg}@${goTools.stripeMock.version}`, 'github.com/stripe/stripe-mock@v0.203.0');
  });

  it('uses a completed build only: no marker (an interrupted build) or a marker of another pin means not installed', () => {
    assert.equal(installedBinary(tool, root), undefined, 'nothing built yet');
    const bin = fakeInstall(root, tool);
    assert.equal(installedBinary(tool, root), bin);
    rmSync(path.join(toolDir(tool, root), '.installed'));
    assert.equal(installedBinary(tool, root), undefined, 'binary without marker');
    fakeInstall(root, tool, `${tool.pkg}@v0.1.0\n`);
    assert.equal(installedBinary(tool, root), undefined, 'marker of another version');
  });

  it('returns a completed build without running Go', () => {
    const bin = fakeInstall(root, tool);
    process.env.PATH = '';
    assert.equal(goToolBinary(tool, true, { STACK_TOOLS_DIR: root }), bin);
  });

  it('honours the env override, and reports (not throws) an override that names no file', () => {
    const existing = path.join(root, 'my-stripe-mock');
    writeFileSync(existing, '');
    assert.equal(goToolBinary(tool, true, { STACK_TOOLS_DIR: root, STRIPE_MOCK_PATH: existing }), existing);
    const { result, output } = captureLog(() => goToolBinary(tool, true, { STACK_TOOLS_DIR: root, STRIPE_MOCK_PATH: path.join(root, 'nope') }));
    assert.equal(result, undefined);
    assert.match(output, /STRIPE_MOCK_PATH points at .*nope, which does not exist/);
    assert.equal(existsSync(toolDir(tool, root)), false, 'an override never triggers a build');
  });

  it('does not build when install is false', () => {
    const { result, output } = captureLog(() => goToolBinary(tool, false, { STACK_TOOLS_DIR: root }));
    assert.equal(result, undefined);
    assert.equal(output, '');
    assert.equal(existsSync(toolDir(tool, root)), false);
  });

  it('without Go: returns undefined and prints what is missing and the exact command to run by hand', () => {
    process.env.PATH = path.join(root, 'empty-bin');
    const { result, output } = captureLog(() => goToolBinary(goTools.jaeger, true, { STACK_TOOLS_DIR: root }));
    assert.equal(result, undefined);
    assert.match(output, /Go is missing, so jaeger v1\.76\.0 .* cannot be built/);
    assert.ok(output.includes(manualBuildCommand(goTools.jaeger, root)), output);
    assert.match(output, /set JAEGER_PATH/);
  });

  it('prints a by-hand command that builds into the tool folder with the pin and writes the marker', () => {
    const command = manualBuildCommand(goTools.jaeger, root);
    assert.ok(command.includes(`cd ${toolDir(goTools.jaeger, root)}`));
    assert.ok(command.includes('GOTOOLCHAIN=local'));
    assert.ok(command.includes('go get -tool github.com/jaegertracing/jaeger/cmd/jaeger@v1.76.0'));
    assert.ok(command.includes('go build -o jaeger github.com/jaegertracing/jaeger/cmd/jaeger'));
    assert.match(command, /> \.installed$/);
  });

  it('runs Go with the local toolchain only, and from the module cache alone when offline', () => {
    const online = goEnv({ GOFLAGS: '-race', GOPROXY: 'https://proxy.example', HOME: '/h' });
    assert.equal(online.GOTOOLCHAIN, 'local');
    assert.equal(online.GOFLAGS, '-mod=mod -buildvcs=false');
    assert.equal(online.GOPROXY, 'https://proxy.example');
    assert.equal(online.HOME, '/h');
    const offline = goEnv({}, true);
    assert.equal(offline.GOPROXY, 'off');
    assert.equal(offline.GOSUMDB, 'off');
    assert.equal(offline.GOTOOLCHAIN, 'local');
  });

  it('removes the build folders of interrupted builds, not those of a build in progress', () => {
    const dead = path.join(root, '.build-jaeger-v1.76.0-999999999');
    const live = path.join(root, `.build-jaeger-v1.76.0-${process.pid}`);
    const done = toolDir(goTools.jaeger, root);
    for (const dir of [dead, live, done]) mkdirSync(dir, { recursive: true });
    removeAbandonedBuilds(root);
    assert.equal(existsSync(dead), false);
    assert.equal(existsSync(live), true);
    assert.equal(existsSync(done), true);
  });

  it('waits for a build another process is running instead of compiling the same tool beside it', function () {
    this.timeout(20_000);
    // Go must look present (the check comes first); the other "build" is a shell that finishes the
    // install after a second, from its own .build-<tool>-<pid> folder.
    const bin = path.join(root, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'go'), '#!/bin/sh\nexit 1\n');
    chmodSync(path.join(bin, 'go'), 0o755);
    process.env.PATH = `${bin}${path.delimiter}${savedPath}`;
    const dir = toolDir(tool, root);
    // Like the installer, the other build removes its staging folder when done (its pid stays
    // "alive" here as our unreaped child while this process blocks).
    const other = spawn('sh', ['-c', `sleep 1; mkdir -p ${dir}; echo > ${dir}/${tool.name}; printf '${tool.pkg}@${tool.version}\\n' > ${dir}/.installed; rm -r ${root}/.build-*`]);
    mkdirSync(path.join(root, `.build-${tool.name}-${tool.version}-${other.pid}`));
    assert.equal(buildInProgress(tool, root), other.pid);
    const { result, output } = captureLog(() => goToolBinary(tool, true, { STACK_TOOLS_DIR: root }));
    assert.equal(result, toolBinary(tool, root), output);
    assert.match(output, new RegExp(`being built by process ${other.pid}: waiting for it`));
    assert.doesNotMatch(output, /building stripe-mock/);
  });

  it('prints heartbeat lines while a synchronous step blocks the event loop', function () {
    this.timeout(20_000);
    // A child node process blocks in spawnSync for 1.2 s with a 300 ms heartbeat running.
    const script = `
      const { startHeartbeat } = require('./scripts/stack/go-tools');
      const beat = startHeartbeat('jaeger: compiling', 300);
      require('node:child_process').spawnSync('sleep', ['1.2']);
      beat.kill();`;
    const result = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: projectRoot, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const beats = result.stdout.split('\n').filter((line) => /^\[stack\] jaeger: compiling\.\.\. \d+ s$/.test(line));
    assert.ok(beats.length >= 2, `expected heartbeat lines, got:\n${result.stdout}`);
  });
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { runPriceCommand } from './command';
import { workedExampleInput } from './test-support/fixtures';

const projectRoot = path.resolve(__dirname, '..');

interface ErrorDocument {
  error: { code: string; message: string };
}

function errorOf(stdinText: string): ErrorDocument['error'] {
  const outcome = runPriceCommand(stdinText);
  assert.equal(outcome.exitCode, 2);
  const document = JSON.parse(outcome.stdout) as ErrorDocument;
  assert.deepEqual(Object.keys(document), ['error']);
  assert.deepEqual(Object.keys(document.error), ['code', 'message']);
  assert.equal(document.error.code, 'INVALID_INPUT');
  return document.error;
}

describe('pricing/cli (price command)', () => {
  it('prints the breakdown and exits 0', () => {
    const outcome = runPriceCommand(JSON.stringify(workedExampleInput()));
    assert.equal(outcome.exitCode, 0);
    const breakdown = JSON.parse(outcome.stdout) as { totals: { grandTotal: number } };
    assert.equal(breakdown.totals.grandTotal, 7722);
  });

  it('exits 2 with an error document naming the field', () => {
    const input = workedExampleInput();
    const broken = { ...input, lines: input.lines.map((line, index) => (index === 2 ? { ...line, quantity: 0 } : line)) };
    assert.match(errorOf(JSON.stringify(broken)).message, /^lines\[2\]\.quantity: must be at least 1/);
  });

  it('exits 2 on text that is not JSON, or on nothing at all', () => {
    assert.match(errorOf('{"currency": ').message, /not valid JSON/);
    assert.match(errorOf('  \n').message, /input is empty/);
  });

  it('runs as `npm run --silent price < input.json`', function () {
    this.timeout(30_000);
    const ok = spawnSync('npm', ['run', '--silent', 'price'], { cwd: projectRoot, input: JSON.stringify(workedExampleInput()), encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { totals: { grandTotal: number } }).totals.grandTotal, 7722);
    const bad = spawnSync('npm', ['run', '--silent', 'price'], { cwd: projectRoot, input: '{"currency":"USD","lines":{}}', encoding: 'utf8' });
    assert.equal(bad.status, 2, bad.stderr);
    assert.deepEqual(JSON.parse(bad.stdout), { error: { code: 'INVALID_INPUT', message: 'lines: must be a list (got an object)' } });
  });
});

/**
 * `npm run bench`: every benchmark, one after the other (they would disturb each other's figures if
 * run together), each writing its own bench/results/<name>.json; then a summary of them all in
 * bench/results/summary.json. Brings the local stack up first (the service benchmarks need it).
 * Figures are ratios against a baseline measured in the same run: these machines are shared.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../lib/config';
import { stackUp } from '../scripts/stack/index';

const benchmarks = ['pricing', 'inventory', 'vouchers'] as const;
const resultsDir = path.join(projectRoot, 'bench', 'results');

async function main(): Promise<number> {
  await stackUp();
  const outcomes: Record<string, { exitCode: number | null; seconds: number }> = {};
  for (const name of benchmarks) {
    console.log(`\n== bench:${name}`);
    const started = Date.now();
    const run = spawnSync('npm', ['run', '--silent', `bench:${name}`], { cwd: projectRoot, stdio: 'inherit' });
    outcomes[name] = { exitCode: run.status, seconds: Math.round((Date.now() - started) / 1000) };
  }
  const results = Object.fromEntries(
    benchmarks.map((name) => {
      const file = path.join(resultsDir, `${name}.json`);
      return [name, existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as unknown) : null];
    }),
  );
  writeFileSync(path.join(resultsDir, 'summary.json'), `${JSON.stringify({ generatedAt: new Date().toISOString(), outcomes, results }, null, 2)}\n`);
  console.log(`\nwrote bench/results/summary.json: ${JSON.stringify(outcomes)}`);
  return Object.values(outcomes).every((o) => o.exitCode === 0) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

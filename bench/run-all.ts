/**
 * `npm run bench`: every benchmark (pricing, inventory, vouchers, checkout), one after the other
 * (they would disturb each other's figures if run together), each writing its own
 * bench/results/<name>.json; then a summary of them all in bench/results/summary.json, with the
 * goals met and missed of the benchmarks that state goals. Brings the local stack up first (the
 * service benchmarks need it). Figures are ratios against a baseline measured in the same run:
 * these machines are shared.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../lib/config';
import { stackUp } from '../scripts/stack/index';

const benchmarks = ['pricing', 'inventory', 'vouchers', 'checkout'] as const;
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
  const goals = goalSummary(results);
  writeFileSync(path.join(resultsDir, 'summary.json'), `${JSON.stringify({ generatedAt: new Date().toISOString(), outcomes, goals, results }, null, 2)}\n`);
  console.log(`\nwrote bench/results/summary.json: ${JSON.stringify(outcomes)}`);
  for (const [name, g] of Object.entries(goals)) console.log(`  ${name}: ${g.met}/${g.total} goals met${g.missed.length > 0 ? ` (missed: ${g.missed.join('; ')})` : ''}`);
  return Object.values(outcomes).every((o) => o.exitCode === 0) ? 0 : 1;
}

/** Benchmarks whose results carry `goals: [{name, target, measured, met}]` (bench:checkout). */
function goalSummary(results: Record<string, unknown>): Record<string, { met: number; total: number; missed: string[] }> {
  const summary: Record<string, { met: number; total: number; missed: string[] }> = {};
  for (const [name, result] of Object.entries(results)) {
    const goals = (result as { goals?: unknown } | null)?.goals;
    if (!Array.isArray(goals)) continue;
    const list = goals as { name: string; target: string; measured: number | null; met: boolean }[];
    summary[name] = {
      met: list.filter((g) => g.met).length,
      total: list.length,
      missed: list.filter((g) => !g.met).map((g) => `${g.name} ${String(g.measured)} (goal ${g.target})`),
    };
  }
  return summary;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

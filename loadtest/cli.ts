/**
 * `npm run loadtest -- --scenario NAME [--rate R] [--duration S] [--buyers N] [--stock N] [--find-max]
 *  [--sustainable R] [--workers N]`: see loadtest/scenarios.ts and the README (Load tests).
 * Needs the local stack (`npm run stack -- up`). Exit status: 0 every invariant held, 1 an
 * invariant broke, 2 the harness itself failed (bad arguments, stack not up, a process died).
 */
import { scenarioNames, runLoadtest, type LoadtestOptions, type ScenarioName } from './run';
import { scenarios } from './scenarios';

export const usage =
  'usage: npm run loadtest -- --scenario steady|flash-sale|voucher-storm|overload|chaos [--rate R] [--duration S] [--buyers N] [--stock N] [--find-max] [--sustainable R] [--workers N] [--kill-every S]';

function positive(name: string, raw: string | undefined, integer: boolean, max: number): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isFinite(value) || value <= 0 || value > max || (integer && !Number.isInteger(value))) {
    throw new Error(`--${name} must be a ${integer ? 'whole ' : ''}number above 0 and at most ${max}, got "${String(raw)}"\n${usage}`);
  }
  return value;
}

/** Parses the CLI's arguments; throws with the usage on anything unknown or out of bounds (every run stays bounded). */
export function parseArgs(argv: readonly string[]): LoadtestOptions {
  let scenario: ScenarioName | undefined;
  const options: Partial<LoadtestOptions> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--scenario': {
        const name = value();
        if (!scenarioNames.includes(name as ScenarioName)) throw new Error(`unknown scenario "${String(name)}"\n${usage}`);
        scenario = name as ScenarioName;
        break;
      }
      case '--rate':
        options.rate = positive('rate', value(), false, 10_000);
        break;
      case '--duration':
        options.durationS = positive('duration', value(), false, 3600);
        break;
      case '--buyers':
        options.buyers = positive('buyers', value(), true, 100_000);
        break;
      case '--stock':
        options.stock = positive('stock', value(), true, 1_000_000);
        break;
      case '--sustainable':
        options.sustainable = positive('sustainable', value(), false, 10_000);
        break;
      case '--workers':
        options.workers = positive('workers', value(), true, 16);
        break;
      case '--kill-every':
        options.killEveryS = positive('kill-every', value(), false, 3600);
        break;
      case '--find-max':
        options.findMax = true;
        break;
      default:
        throw new Error(`unknown argument "${argv[i]}"\n${usage}`);
    }
  }
  if (!scenario) throw new Error(`--scenario is required\n${usage}`);
  if (options.findMax && scenario !== 'steady') throw new Error(`--find-max belongs to the steady scenario\n${usage}`);
  return { ...options, scenario };
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const summary = await runLoadtest(options, scenarios[options.scenario]);
  return summary.ok ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`[loadtest] failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(2);
    },
  );
}

/**
 * `npm run stack -- up|down|status`: the local default stack (Postgres, Redis, Temporal dev server
 * with its Web UI). See README.md, "Local stack".
 */
import { loadConfig } from '../lib/config';
import { stackDown, stackStatus, stackUp, StackError } from './stack/index';

const usage = 'usage: npm run stack -- up [--for-tests] | down | status';

async function main(argv: string[]): Promise<number> {
  const [command, ...flags] = argv;
  const config = loadConfig();
  switch (command) {
    case 'up': {
      const { started } = await stackUp({ config, forTests: flags.includes('--for-tests') });
      printStatus();
      console.log(started.length ? `[stack] started: ${started.join(', ')}` : '[stack] everything was already running');
      return 0;
    }
    case 'down':
      await stackDown();
      printStatus();
      return 0;
    case 'status':
      printStatus();
      // Exit 3 when a core service is down; the PSP simulator runs only under `npm start`.
      return stackStatus(config).some((s) => s.name !== 'psp' && s.state === 'stopped') ? 3 : 0;
    default:
      console.error(usage);
      return 2;
  }
}

function printStatus(): void {
  for (const s of stackStatus()) console.log(`[stack] ${s.name.padEnd(9)} ${s.state.padEnd(8)} ${s.detail}`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof StackError) {
      console.error(`[stack] error: ${err.message}`);
      if (err.fix) console.error(`[stack] fix: ${err.fix}`);
    } else {
      console.error('[stack] unexpected error:', err);
    }
    process.exit(1);
  },
);

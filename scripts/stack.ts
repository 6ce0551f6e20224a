/**
 * `npm run stack -- up|down|status`: the local default stack (Postgres, Redis, Temporal dev server
 * with its Web UI, Jaeger; stripe-mock for tests). See README.md, "Local stack".
 */
import { loadConfig } from '../lib/config';
import { optionalServices, type ServiceName, stackDown, stackStatus, stackUp, StackError } from './stack/index';

const serviceNames: readonly ServiceName[] = ['postgres', 'redis', 'temporal', 'psp', 'jaeger', 'stripe-mock'];
const usage = `usage: npm run stack -- up [--for-tests] | down [${serviceNames.join('|')} ...] | status`;

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
    case 'down': {
      // `down jaeger stripe-mock` stops just those; plain `down` stops everything the stack started.
      const unknown = flags.filter((name) => !serviceNames.includes(name as ServiceName));
      if (unknown.length > 0) {
        console.error(`[stack] unknown service(s): ${unknown.join(', ')}\n${usage}`);
        return 2;
      }
      await stackDown(flags.length > 0 ? (flags as ServiceName[]) : undefined);
      printStatus();
      return 0;
    }
    case 'status':
      printStatus();
      // Exit 3 when a core service is down; the PSP simulator runs only under `npm start`, stripe-mock
      // only for tests, and Jaeger is optional.
      return stackStatus(config).some((s) => !optionalServices.has(s.name) && s.state === 'stopped') ? 3 : 0;
    default:
      console.error(usage);
      return 2;
  }
}

function printStatus(): void {
  for (const s of stackStatus()) console.log(`[stack] ${s.name.padEnd(11)} ${s.state.padEnd(8)} ${s.detail}`);
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

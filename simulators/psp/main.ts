/**
 * `npm run psp`: the payment service provider simulator as a standalone process.
 * Configuration: environment variables, see simulators/psp/config.ts and docs/payments-and-ledger.md.
 */
import { refuseDevSecretsInProduction } from '../../lib/config';
import { loadPspConfig } from './config';
import { createPspServer } from './server';

async function main(): Promise<void> {
  refuseDevSecretsInProduction('psp');
  const config = loadPspConfig();
  const psp = createPspServer(config.options);
  const port = await psp.listen(config.port, config.host);
  console.log(`[psp] listening on http://${config.host}:${port}; webhooks to ${config.options.webhookUrl}; data in ${config.options.dataDir}`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`[psp] ${signal}: shutting down`);
    psp.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('[psp] shutdown failed:', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(`[psp] failed to start: ${(err as Error).message}`);
  process.exit(1);
});

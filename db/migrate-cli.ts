/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the local default database). */
import { loadConfig } from '../lib/config';
import { migrate } from './migrate';

async function main(): Promise<void> {
  const { databaseUrl } = loadConfig();
  const result = await migrate(databaseUrl, (line) => console.log(`[migrate] ${line}`));
  console.log(`[migrate] ${result.applied.length} applied, ${result.alreadyApplied} already up to date`);
}

main().catch((err: unknown) => {
  console.error(`[migrate] ${(err as Error).message}`);
  process.exit(1);
});

/**
 * The worker's tracing, started before anything else is imported (the first import of
 * workers/main.ts): the instrumentations patch pg, ioredis and fetch as they load. docs/tracing.md.
 */
import { startTracing } from '../lib/tracing';

startTracing({ serviceName: 'checkout-worker' });

/**
 * The API's tracing, started before anything else is imported (the first import of api/main.ts):
 * the instrumentations patch http, express, pg, ioredis and fetch as they load. docs/tracing.md.
 */
import { startTracing } from '../lib/tracing';

startTracing({ serviceName: 'checkout-api' });

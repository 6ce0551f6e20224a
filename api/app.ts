/** The express application, built from its dependencies so tests can run it in-process. */
import { randomUUID } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import { errorHandler, notFoundHandler } from './errors';
import { healthRouter, type Probes } from './health';

export interface AppDeps {
  probes: Probes;
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** Every response carries X-Request-Id: the client's own when it is sane, a fresh one otherwise. */
const requestId: RequestHandler = (req, res, next) => {
  const given = req.get('X-Request-Id');
  res.setHeader('X-Request-Id', given && requestIdPattern.test(given) ? given : randomUUID());
  next();
};

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(requestId);
  app.use(express.json({ limit: '64kb', strict: true }));
  app.use(healthRouter(deps.probes));
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}

/**
 * Serves the storefront bundle (web/, built into web/dist by `npm run build:web`, which `npm ci`
 * and `npm start` run) under `/`, same origin as the API. Mounted after the API routes, so it only
 * sees what no route took; it answers GET/HEAD of files that exist and passes everything else on
 * (the API's 404 in the error shape). The pages are client-routed by the URL fragment (`#/cart`),
 * so `/` is the only HTML page. Every script and style is a file of the bundle: helmet's default
 * Content-Security-Policy (`script-src 'self'`) stays as it is.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type RequestHandler } from 'express';
import { projectRoot } from '../lib/config';

export const storefrontDistDir = path.join(projectRoot, 'web', 'dist');

export function storefrontHandler(dir: string = storefrontDistDir): RequestHandler {
  const files = express.static(dir, {
    index: 'index.html',
    // File names are stable across builds: revalidate (ETag) instead of caching blindly.
    cacheControl: true,
    maxAge: 0,
    redirect: false,
    fallthrough: true,
  });
  return (req, res, next) => {
    if (req.method === 'GET' && req.path === '/' && !existsSync(path.join(dir, 'index.html'))) {
      res.status(503).type('text/plain').send('The storefront is not built yet: run `npm run build:web` (npm ci and npm start do it).\n');
      return;
    }
    files(req, res, next);
  };
}

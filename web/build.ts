/**
 * Builds the storefront (web/src, Preact) into web/dist with esbuild: one script, one stylesheet,
 * index.html and the icon; no CDN, nothing fetched at run time. `npm ci` runs it (the `prepare`
 * script) and `npm start` runs it with `--if-stale` (`prestart`): it rebuilds only when a source
 * file is newer than the last build. The API serves web/dist under `/` (api/storefront-static.ts).
 *
 *   tsx web/build.ts [--if-stale]
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

export const webDir = __dirname;
export const distDir = path.join(webDir, 'dist');
const stampFile = path.join(distDir, '.built');
const sources = [path.join(webDir, 'src'), path.join(webDir, 'index.html'), path.join(webDir, 'favicon.svg'), __filename];

function newestMtimeMs(entry: string): number {
  if (!existsSync(entry)) return 0;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(entry).map((name) => newestMtimeMs(path.join(entry, name))));
}

/** True when web/dist is missing or older than a source file. */
export function storefrontStale(): boolean {
  if (!existsSync(stampFile)) return true;
  return Math.max(...sources.map(newestMtimeMs)) > statSync(stampFile).mtimeMs;
}

export async function buildStorefront(options: { ifStale?: boolean; quiet?: boolean } = {}): Promise<boolean> {
  if (options.ifStale && !storefrontStale()) return false;
  const started = Date.now();
  mkdirSync(distDir, { recursive: true });
  await build({
    entryPoints: { app: path.join(webDir, 'src', 'main.tsx') },
    outdir: distDir,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    logLevel: 'warning',
    tsconfig: path.join(webDir, 'src', 'tsconfig.json'),
  });
  copyFileSync(path.join(webDir, 'index.html'), path.join(distDir, 'index.html'));
  copyFileSync(path.join(webDir, 'favicon.svg'), path.join(distDir, 'favicon.svg'));
  writeFileSync(stampFile, `${new Date().toISOString()}\n`);
  if (!options.quiet) console.log(`[web]     storefront built into ${path.relative(process.cwd(), distDir) || distDir} in ${Date.now() - started} ms`);
  return true;
}

if (require.main === module) {
  buildStorefront({ ifStale: process.argv.includes('--if-stale') }).catch((err: unknown) => {
    console.error('[web]     storefront build failed:', err);
    process.exit(1);
  });
}

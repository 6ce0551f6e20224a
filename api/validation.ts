/**
 * Request validation: every path parameter, query, header and body is parsed with a zod schema
 * before a handler runs, and a failed parse becomes the one ValidationError (400
 * VALIDATION_FAILED, `details.issues` naming each bad field). Handlers therefore only ever see
 * typed, bounded input, and a rejected request has changed nothing.
 */
import { z } from 'zod';
import { ValidationError, type FieldIssue } from '../lib/errors';

/** `lines[2].quantity` from zod's path segments, under an optional prefix (`body`, `query`). */
export function formatIssuePath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

export function issuesOf(error: z.ZodError, prefix = ''): FieldIssue[] {
  return error.issues.map((issue) => {
    // An unknown key is reported by zod at the parent; name the key itself, which is what a client needs.
    if (issue.code === 'unrecognized_keys') {
      return { path: issue.keys.map((k) => formatIssuePath([...issue.path, k], prefix)).join(', '), message: 'is not a known field' };
    }
    return { path: formatIssuePath(issue.path, prefix), message: issue.message };
  });
}

/** Parses `value` or throws a ValidationError naming every bad field under `prefix`. */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, prefix: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(issuesOf(result.error, prefix));
}

// ------------------------------------------------------------------ text every field must be

/** NUL (Postgres text cannot hold it) and unpaired UTF-16 surrogates (not encodable as UTF-8). */
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const unstorableText = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const depthMax = 32;

/**
 * Walks a parsed request part and names every string (object keys too) that no database can store:
 * NUL characters and lone surrogates. They are refused with 400 before any schema or service sees
 * them, so odd unicode can never surface as a 500 from a driver deep down. Nesting deeper than
 * `depthMax` is refused too (no request of this API nests that deep).
 */
export function assertStorableText(value: unknown, prefix: string): void {
  const issues: FieldIssue[] = [];
  const walk = (v: unknown, path: (string | number)[]): void => {
    if (issues.length >= 20) return;
    if (path.length > depthMax) {
      issues.push({ path: formatIssuePath(path, prefix), message: `nests deeper than ${depthMax} levels` });
      return;
    }
    if (typeof v === 'string') {
      if (unstorableText.test(v)) issues.push({ path: formatIssuePath(path, prefix), message: 'must not contain NUL characters or unpaired surrogates' });
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, [...path, i]));
    } else if (v !== null && typeof v === 'object') {
      for (const [key, item] of Object.entries(v as Record<string, unknown>)) {
        if (unstorableText.test(key)) issues.push({ path: formatIssuePath(path, prefix) || prefix, message: 'has a field name with NUL characters or unpaired surrogates' });
        else walk(item, [...path, key]);
      }
    }
  };
  walk(value, []);
  if (issues.length > 0) throw new ValidationError(issues);
}

// ------------------------------------------------------------------ shared field schemas

/** Largest amount of minor units (pricing-spec.md §1: exact as a JSON number). */
export const amountMinorMax = Number.MAX_SAFE_INTEGER;

export const amountSchema = z.int().min(0).max(amountMinorMax).describe('integer minor units');
export const rateBpsSchema = z.int().min(0).max(10_000).describe('basis points');

/** sku, seller, promotion and campaign ids: URL-safe, as services/catalog validates them. */
export const identifierSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'must be 1-64 letters, digits or _ . : - (starting with a letter or digit)');

export const voucherCodeSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -');

/** Order ids are made by this API (random, URL-safe); the orders table's CHECK says the same. */
export const orderIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -');

/** RFC 3339 date-time with an offset. */
export const timestampSchema = z.iso.datetime({ offset: true });

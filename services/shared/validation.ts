/**
 * Input validation shared by the catalog, cart, inventory and voucher services: zod schemas for the
 * identifiers and amounts they all use, and one function that turns a failed parse into the
 * project's ValidationError, naming every bad field (`lines[2].quantity`). Services validate before
 * they write anything, so a rejected call changes nothing.
 */
import { z } from 'zod';
import * as isoCurrencies from 'dinero.js/bigint/currencies';
import { type FieldIssue, ValidationError } from '../../lib/errors';
import { limits } from '../limits';

/** Largest amount of minor units (pricing-spec.md §1: exact as a JSON number). */
export const amountMinorMax = Number.MAX_SAFE_INTEGER;
export const rateMaxBps = 10_000;

/** sku, seller, promotion and campaign ids: short, URL-safe, no spaces (they appear in paths). */
export const identifierSchema = z
  .string()
  .regex(
    new RegExp(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,${limits.identifierLengthMax - 1}}$`),
    `must be 1-${limits.identifierLengthMax} letters, digits or _ . : - (starting with a letter or digit)`,
  );

/** Order and user ids come from other systems (a JWT `sub`, a workflow's order id): printable, bounded. */
export const externalIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(limits.externalIdLengthMax, `must be at most ${limits.externalIdLengthMax} characters`)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

export const voucherCodeSchema = z
  .string()
  .regex(
    new RegExp(`^[A-Za-z0-9_-]{1,${limits.voucherCodeLengthMax}}$`),
    `must be 1-${limits.voucherCodeLengthMax} letters, digits, _ or -`,
  );

export const nameSchema = z.string().trim().min(1, 'must not be empty').max(limits.nameLengthMax);
export const categorySchema = z.string().min(1, 'must not be empty').max(limits.categoryLengthMax);
export const amountSchema = z.int().min(0).max(amountMinorMax);
export const rateBpsSchema = z.int().min(0).max(rateMaxBps);
export const quantitySchema = z.int().min(limits.lineQuantityMin).max(limits.lineQuantityMax);

const knownCurrencyCodes: ReadonlySet<string> = new Set(
  Object.values(isoCurrencies as Record<string, unknown>).flatMap((c) =>
    typeof c === 'object' && c !== null && typeof (c as { code?: unknown }).code === 'string' ? [(c as { code: string }).code] : [],
  ),
);

export const currencySchema = z
  .string()
  .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD')
  .refine((code) => knownCurrencyCodes.has(code), 'is not a known ISO 4217 currency');

/** `lines[2].quantity` from zod's path segments. */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

/** Parses `value` with `schema` or throws a ValidationError naming every bad field. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, pathPrefix = ''): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: FieldIssue[] = result.error.issues.map((issue) => ({
    path: formatPath(issue.path, pathPrefix),
    message: issue.message,
  }));
  throw new ValidationError(issues);
}

/** A ValidationError for one field. */
export function fieldError(path: string, message: string): ValidationError {
  return new ValidationError([{ path, message }]);
}

/** Postgres error fields the services inspect (pg's DatabaseError carries them). */
export interface PgErrorFields {
  code?: string;
  constraint?: string;
  detail?: string;
}

export function pgError(err: unknown): PgErrorFields | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? (err as PgErrorFields) : undefined;
}

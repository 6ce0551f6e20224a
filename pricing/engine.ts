// The pricing engine: validate, run the rule chain over a fresh context, build the breakdown.
// Pure and deterministic (no clock, no I/O, no randomness, no Node built-ins), so the checkout
// workflow can call it inside Temporal's sandbox as well as the API can call it in a request.

import { AmountLimitError, buildBreakdown } from './breakdown';
import { createContext } from './context';
import { PricingValidationError } from './errors';
import { pricingRules, type PricingRule } from './rules';
import type { PriceBreakdown, PricingInput } from './types';
import { findInputIssues, isWellFormedInput } from './validate';

/** The outcome of pricing a value that may or may not be a valid input. */
export type PricingResult =
  | { readonly ok: true; readonly input: PricingInput; readonly breakdown: PriceBreakdown }
  | { readonly ok: false; readonly error: PricingValidationError };

/** The outcome of {@link validatePricingInput}. */
export type PricingValidationResult =
  | { readonly ok: true; readonly value: PricingInput }
  | { readonly ok: false; readonly error: PricingValidationError };

/** Runs a rule chain over an input that already passed validation. */
function runRules(input: PricingInput, rules: readonly PricingRule[]): PricingResult {
  const context = createContext(input);
  for (const rule of rules) rule.apply(context);
  try {
    return { ok: true, input, breakdown: buildBreakdown(context) };
  } catch (error: unknown) {
    if (!(error instanceof AmountLimitError)) throw error;
    // No single input field causes this; the cart as a whole is too large to price exactly.
    const message = `the priced order is too large: ${error.message}`;
    return { ok: false, error: new PricingValidationError([{ path: 'lines', message }]) };
  }
}

/**
 * Prices any value without throwing on bad input: either the breakdown or the validation error.
 * `rules` exists for tests of the chain; callers use the default chain of the spec.
 */
export function tryPrice(value: unknown, rules: readonly PricingRule[] = pricingRules): PricingResult {
  const issues = findInputIssues(value);
  if (!isWellFormedInput(value, issues)) return { ok: false, error: new PricingValidationError(issues) };
  return runRules(value, rules);
}

/**
 * Prices a cart (pricing-spec.md). Throws {@link PricingValidationError} (`code` INVALID_INPUT,
 * with field-level `issues`) when the input is invalid; the input is re-validated at run time
 * because it usually comes from JSON, whatever its static type says.
 */
export function price(input: PricingInput): PriceBreakdown {
  const result = tryPrice(input);
  if (!result.ok) throw result.error;
  return result.breakdown;
}

/**
 * Validates a value as a pricing input: structure, types, ranges, the spec's consistency rules and
 * the amount limits of both input and output. `ok` is true exactly when {@link price} would
 * succeed; the output limits depend on the computed amounts, so this prices the cart once.
 */
export function validatePricingInput(value: unknown): PricingValidationResult {
  const result = tryPrice(value);
  return result.ok ? { ok: true, value: result.input } : { ok: false, error: result.error };
}

// The ISO 4217 currencies the engine knows, taken from dinero.js's table so that the set of codes
// and their exponents (how many decimals a minor unit stands for) have a single source.

import * as isoCurrencies from 'dinero.js/bigint/currencies';
import type { DineroCurrency } from 'dinero.js/bigint';

export type Currency = DineroCurrency<bigint>;

function isCurrency(value: unknown): value is Currency {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Currency>;
  return typeof candidate.code === 'string' && typeof candidate.exponent === 'bigint';
}

// Built once from the module namespace so the lookup is a plain Map: immune to prototype keys
// such as "constructor" and independent of how the bundler represents the namespace object.
const currenciesByCode: ReadonlyMap<string, Currency> = new Map(
  Object.values(isoCurrencies as Record<string, unknown>)
    .filter(isCurrency)
    .map((currency) => [currency.code, currency] as const),
);

/** The dinero.js currency for an ISO 4217 code, or undefined when the code is unknown. */
export function findCurrency(code: string): Currency | undefined {
  return currenciesByCode.get(code);
}

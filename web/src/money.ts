/**
 * Money on screen: amounts arrive as integer minor units (pricing-spec.md §1) and are only ever
 * added or compared as integers. For display, the integer is written out as an exact decimal
 * string with the currency's minor-unit exponent (USD 2, JPY 0, BHD 3: what Intl knows of ISO
 * 4217) and that string is formatted by Intl.NumberFormat, which formats decimal strings exactly.
 * No division, no floating point.
 */

const formatters = new Map<string, Intl.NumberFormat>();

function formatterOf(currency: string, locale: string): Intl.NumberFormat {
  const key = `${locale}|${currency}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.NumberFormat(locale, { style: 'currency', currency });
    formatters.set(key, formatter);
  }
  return formatter;
}

/** The ISO 4217 minor-unit exponent of a currency, as Intl reports it (USD 2, JPY 0, BHD 3). */
export function minorUnitExponent(currency: string, locale = 'en-US'): number {
  return formatterOf(currency, locale).resolvedOptions().maximumFractionDigits ?? 2;
}

/** `12345` with exponent 2 -> `"123.45"`; `-5` -> `"-0.05"`; exponent 0 -> the integer itself. */
export function minorToDecimalString(amountMinor: number, exponent: number): string {
  if (!Number.isSafeInteger(amountMinor)) throw new RangeError(`not an integer amount of minor units: ${String(amountMinor)}`);
  const negative = amountMinor < 0;
  const digits = String(Math.abs(amountMinor));
  if (exponent === 0) return `${negative ? '-' : ''}${digits}`;
  const padded = digits.padStart(exponent + 1, '0');
  return `${negative ? '-' : ''}${padded.slice(0, -exponent)}.${padded.slice(-exponent)}`;
}

/** An amount of minor units, formatted for people: `formatMinor(7722, 'USD')` -> `"$77.22"`. */
export function formatMinor(amountMinor: number, currency: string, locale = 'en-US'): string {
  const formatter = formatterOf(currency, locale);
  const decimal = minorToDecimalString(amountMinor, minorUnitExponent(currency, locale));
  // Intl.NumberFormat formats a decimal string exactly (no conversion to a float first).
  return formatter.format(decimal as unknown as number);
}

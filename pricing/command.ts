// The pricing command without its I/O: stdin text in, stdout text and exit code out. cli.ts does
// the reading and writing; keeping the logic here lets tests run it without a child process.

import { tryPrice } from './engine';

export interface CommandOutcome {
  readonly stdout: string;
  readonly exitCode: 0 | 2;
}

/** The error document of spec §6; the message names every offending field (see errors.ts). */
function errorDocument(message: string): string {
  return `${JSON.stringify({ error: { code: 'INVALID_INPUT', message } })}\n`;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  if (text.trim() === '') return { ok: false, message: 'the input is empty: expected one JSON document on stdin' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `the input is not valid JSON: ${reason}` };
  }
}

/**
 * Prices one JSON document. Exit code 0 with the breakdown, or 2 with
 * `{"error":{"code":"INVALID_INPUT","message":…}}` whose message names the offending fields.
 */
export function runPriceCommand(stdinText: string): CommandOutcome {
  const parsed = parseJson(stdinText);
  if (!parsed.ok) return { stdout: errorDocument(parsed.message), exitCode: 2 };
  const result = tryPrice(parsed.value);
  if (!result.ok) return { stdout: errorDocument(result.error.message), exitCode: 2 };
  return { stdout: `${JSON.stringify(result.breakdown, null, 2)}\n`, exitCode: 0 };
}

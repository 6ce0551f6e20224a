// Command-line entry: `npm run --silent price < input.json`. Reads one JSON document from stdin,
// writes the breakdown (exit 0) or the error document (exit 2) to stdout. Anything else that goes
// wrong is a bug: it is reported as an INTERNAL error document with exit code 1.

import process, { stdin, stdout } from 'node:process';
import { runPriceCommand } from './command';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function main(): Promise<void> {
  try {
    const outcome = runPriceCommand(await readStdin());
    stdout.write(outcome.stdout);
    process.exitCode = outcome.exitCode;
  } catch (error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    stdout.write(`${JSON.stringify({ error: { code: 'INTERNAL', message } })}\n`);
    process.exitCode = 1;
  }
}

void main();

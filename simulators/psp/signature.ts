/**
 * The Payment-Signature header of api-contract.md (the Stripe scheme):
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 * The simulator signs; services/payments verifies (the simulator imports nothing from services/).
 */
import { createHmac } from 'node:crypto';

export function signPayload(secret: string, timestampSec: number, rawBody: string): string {
  const v1 = createHmac('sha256', secret).update(`${timestampSec}.${rawBody}`, 'utf8').digest('hex');
  return `t=${timestampSec},v1=${v1}`;
}

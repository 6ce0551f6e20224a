/**
 * What the tab remembers (sessionStorage: per tab, survives a reload): who is signed in, and the
 * checkout attempt in flight. An attempt is one Idempotency-Key with the exact body it was sent
 * with: a second click or a reload sends the same key and body again, which the API answers with
 * the same order, never a second one. It ends when the checkout has a final answer.
 */
import type { Session } from './api';

const sessionKey = 'storefront.session';
const attemptKey = 'storefront.checkoutAttempt';

export function loadSession(): Session | undefined {
  const raw = sessionStorage.getItem(sessionKey);
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as Session;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session | undefined): void {
  if (session) sessionStorage.setItem(sessionKey, JSON.stringify(session));
  else sessionStorage.removeItem(sessionKey);
}

export interface CheckoutAttempt {
  /** The buyer the attempt belongs to (another user signing in in this tab does not inherit it). */
  userId: string;
  idempotencyKey: string;
  body: { paymentMethod: { token: string }; expectedGrandTotal: number };
  /** Known once the API has answered. */
  orderId?: string;
}

export function loadAttempt(userId: string): CheckoutAttempt | undefined {
  const raw = sessionStorage.getItem(attemptKey);
  if (!raw) return undefined;
  try {
    const attempt = JSON.parse(raw) as CheckoutAttempt;
    return attempt.userId === userId ? attempt : undefined;
  } catch {
    return undefined;
  }
}

export function saveAttempt(attempt: CheckoutAttempt | undefined): void {
  if (attempt) sessionStorage.setItem(attemptKey, JSON.stringify(attempt));
  else sessionStorage.removeItem(attemptKey);
}

/** Random hex (getRandomValues works on plain http too, unlike randomUUID). */
function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A new attempt, stored before its first request is sent. */
export function newAttempt(userId: string, body: CheckoutAttempt['body']): CheckoutAttempt {
  const attempt: CheckoutAttempt = { userId, idempotencyKey: `web-${randomHex(16)}`, body };
  saveAttempt(attempt);
  return attempt;
}

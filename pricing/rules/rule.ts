// The contract of one pricing rule. The engine runs the rules of the chain one after another on
// the same context; a rule reads the input and the state left by the rules before it and updates
// the state in place. Adding a rule type means writing one module with this shape and listing it
// in the chain; no other rule changes.

import type { PricingContext } from '../context';

export interface PricingRule {
  /** A short, stable name for logs, tests and benchmarks. */
  readonly name: string;
  apply(context: PricingContext): void;
}

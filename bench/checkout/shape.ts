/**
 * The Temporal "shape" of one checkout, as data: the floor workflow (./floor-workflows.ts) replays
 * it with no-op activities on the same Temporal server, so the bench can tell how much of a
 * checkout's latency is Temporal round trips of this shape and how much is the product's own work.
 *
 * The shape below is the checkout of the seed cart (three sellers, three vouchers, tok_visa) as
 * workflows/checkout.ts runs it. The bench also measures the real shape from the histories and
 * prints both side by side; when they differ, change this data (not the floor workflow's code).
 * `BENCH_CHECKOUT_SHAPE='legacy'` runs the first release's shape instead. Pure data and pure functions only: this file is
 * bundled into the floor workflows (deterministic sandbox).
 */

/** One step of a workflow: what it starts at once, then awaits before the next stage. */
export interface ShapeStage {
  name: string;
  /** Activities started together and awaited together (Promise.all). */
  activities?: number;
  /** Local activities started together and awaited together. */
  localActivities?: number;
  /** Child workflows, started one after another (each start awaited), parent close policy ABANDON. */
  children?: number;
  /** Wait for a signal the driver sends right after the start (e.g. a payment webhook that is awaited). */
  signalWait?: boolean;
}

export interface WorkflowShape {
  name: string;
  stages: ShapeStage[];
  /** Activities each child runs before it blocks (the parcel waits for its ship-by timer). */
  childActivities: number;
}

export const checkoutShape: WorkflowShape = {
  name: 'checkout of the seed cart (3 sellers, 3 vouchers), orderWorkflow',
  stages: [
    { name: 'createOrder, reserveOrderStock, holdOrderVouchers (priced from the API\'s input)', localActivities: 3 },
    { name: 'charge (chargePayment)', activities: 1 },
    { name: 'createEscrow', localActivities: 1 },
    { name: 'confirmOrder (consume, commit, cart, parcels + COMPLETED)', localActivities: 1 },
  ],
  childActivities: 0,
};

/** The first release's shape (legacy checkoutWorkflow + parcelWorkflow children), for comparison. */
export const legacyCheckoutShape: WorkflowShape = {
  name: 'checkout of the seed cart (3 sellers, 3 vouchers), legacy checkoutWorkflow + parcelWorkflow children',
  stages: [
    { name: 'price (loadPricingInput)', activities: 1 },
    { name: 'createOrder (recordOrder)', activities: 1 },
    { name: 'reserveInventory (reserveStock per seller)', activities: 3 },
    { name: 'holdVouchers (holdVoucher per code)', activities: 3 },
    { name: 'charge (chargePayment)', activities: 1 },
    { name: 'createEscrow', activities: 1 },
    { name: 'confirm: consumeVouchers', activities: 1 },
    { name: 'confirm: commitStock', activities: 1 },
    { name: 'confirm: createParcels', activities: 1 },
    { name: 'confirm: start parcel workflows', children: 3 },
    { name: 'setOrderStatus COMPLETED', activities: 1 },
  ],
  childActivities: 0,
};

export interface ShapeTotals {
  stages: number;
  activities: number;
  localActivities: number;
  children: number;
  /** 1 + children. */
  executions: number;
  signalWaits: number;
}

export function shapeTotals(shape: WorkflowShape): ShapeTotals {
  const sum = (pick: (s: ShapeStage) => number): number => shape.stages.reduce((total, stage) => total + pick(stage), 0);
  const children = sum((s) => s.children ?? 0);
  return {
    stages: shape.stages.length,
    activities: sum((s) => s.activities ?? 0) + children * shape.childActivities,
    localActivities: sum((s) => s.localActivities ?? 0),
    children,
    executions: 1 + children,
    signalWaits: sum((s) => (s.signalWait ? 1 : 0)),
  };
}

/** The shape from BENCH_CHECKOUT_SHAPE (a JSON WorkflowShape), else `checkoutShape`. */
export function shapeFromEnv(raw: string | undefined): WorkflowShape {
  if (!raw) return checkoutShape;
  if (raw === 'legacy') return legacyCheckoutShape;
  const parsed = JSON.parse(raw) as WorkflowShape;
  if (!Array.isArray(parsed.stages)) throw new Error('BENCH_CHECKOUT_SHAPE must be a JSON {name, stages: [...], childActivities}');
  return { name: parsed.name ?? 'from BENCH_CHECKOUT_SHAPE', stages: parsed.stages, childActivities: parsed.childActivities ?? 0 };
}

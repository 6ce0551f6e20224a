/** The workflow bundle's entry: every workflow type the worker serves is exported here. */
export { orderWorkflow } from './checkout';
// Legacy types, registered until their executions drain (workflows/legacy/).
export { checkoutWorkflow } from './legacy/checkout-v1';
export { parcelWorkflow } from './legacy/parcel-v1';

/** The workflow bundle's entry: every workflow type the worker serves is exported here. */
export { pingWorkflow } from './ping';
export { checkoutWorkflow } from './checkout';
export { parcelWorkflow } from './parcel';

/**
 * Workflow ids are derived from business ids through these helpers (and their inverses), so a
 * second start for the same business object always collides with the first.
 */
export const pingWorkflowId = (pingId: string): string => `ping:${pingId}`;

/**
 * Catalog: sellers, products (with their stock), seller promotions, category campaigns and the
 * pricing configuration, on Postgres (./admin.ts); and the pricing engine's input for a list of
 * {sku, quantity}, the hot path of every checkout (./pricing-input.ts): prices always come from
 * here, never from a client.
 */
import { createCatalogAdmin } from './admin';
import { createPricingInput } from './pricing-input';
import type { CatalogDeps, CatalogService } from './types';

export * from './types';
export { assemblePricingInput } from './pricing-input';

export function createCatalogService(deps: CatalogDeps): CatalogService {
  return { ...createCatalogAdmin(deps), ...createPricingInput(deps.pool) };
}

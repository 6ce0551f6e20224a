/** Inventory service: stock per SKU on Postgres, reservations per (order, sku). See docs/services.md. */
export {
  createInventoryService,
  type BucketLevels,
  type InventoryDeps,
  type InventoryService,
  type Reservation,
  type ReservationLine,
  type ReservationLineStatus,
  type ReserveLine,
  type ShortLine,
  type StockLayout,
  type StockLevels,
  type StockMovement,
} from './service';
export { createStockGate, stockGateKeys, type GateShortLine, type StockGate, type StockGateDeps } from './stock-gate';
// Stock levels inside a caller's transaction: the catalog's product administration sets stock with its product.
export { ensureInventoryInTransaction, readStock, setStockInTransaction } from './stock';

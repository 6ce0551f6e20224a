/** Cart service: per-user carts in Redis, priced from the catalog at read time. See docs/services.md. */
export {
  createCartService,
  type CartDeps,
  type CartItem,
  type CartService,
  type CartSnapshot,
  type CartView,
  type CartVoucherIssue,
} from './service';
export type { CartEntries } from './redis-cart';

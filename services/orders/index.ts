export {
  createOrdersService,
  isListCursor,
  type OrdersService,
  type OrderRecord,
  type ParcelRecord,
  type OrderPage,
  type SellerParcelRecord,
  type SellerParcelPage,
} from './service';

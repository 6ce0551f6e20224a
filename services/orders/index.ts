export { createOrdersService, type OrdersService, type OrderRecord, type ParcelRecord, type OrderPage } from './service';

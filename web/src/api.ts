/** The storefront's view of the HTTP API (api-contract.md): one request helper and the shapes it reads. */

export type Role = 'buyer' | 'seller' | 'admin';

export interface DevUser {
  userId: string;
  role: Role;
  sellerId?: string;
  label: string;
}

export interface Session {
  token: string;
  user: DevUser;
}

export interface Discount {
  source: string;
  amount: number;
  fundedBy: 'seller' | 'platform';
}

export interface LineBreakdown {
  lineId: string;
  sku: string;
  sellerId: string;
  gross: number;
  discounts: Discount[];
  net: number;
  tax: number;
  sellerBase: number;
  commission: number;
}

export interface SellerBreakdown {
  merchandiseGross: number;
  sellerFundedDiscount: number;
  platformFundedDiscount: number;
  merchandiseNet: number;
  shippingFee: number;
  shippingDiscount: number;
  tax: number;
  commission: number;
  customerPaid: number;
  payout: number;
}

export interface PriceBreakdown {
  currency: string;
  lines: LineBreakdown[];
  discounts: Discount[];
  rejectedVouchers: { code: string; reason: string }[];
  loyalty: { pointsRedeemed: number; amount: number };
  sellers: Record<string, SellerBreakdown>;
  totals: { merchandiseGross: number; discountTotal: number; merchandiseNet: number; shipping: number; shippingDiscount: number; tax: number; grandTotal: number };
}

export interface Product {
  sku: string;
  name: string;
  category: string;
  unitPrice: number;
  currency: string;
  sellerId: string;
  sellerName: string;
  shippingFee: number;
  available: number;
}

export interface CartItem {
  sku: string;
  sellerId: string;
  name: string;
  category: string;
  unitPrice: number;
  quantity: number;
}

export interface Cart {
  userId: string;
  items: CartItem[];
  vouchers: string[];
  pricing: PriceBreakdown | null;
  currency?: string | null;
  voucherIssues?: { code: string; reason: string }[];
  problems?: { sku: string; code: string; message: string }[];
}

export type OrderStatus = 'PROCESSING' | 'AWAITING_PAYMENT' | 'COMPLETED' | 'FAILED';
export type ParcelStatus = 'HELD' | 'SHIPPED' | 'DELIVERED' | 'RELEASED' | 'REFUNDED' | 'CANCELLED';

export interface Parcel {
  sellerId: string;
  status: ParcelStatus;
  customerPaid: number;
  payout: number;
  shipBy?: string;
  autoReleaseAt?: string;
  problem?: { action: string; code: string; message: string; at: string };
}

export interface Order {
  orderId: string;
  userId: string;
  status: OrderStatus;
  failure?: { code: string; message: string; details: Record<string, unknown> };
  pricing: PriceBreakdown | null;
  parcels: Parcel[];
  createdAt: string;
}

export interface SellerParcel extends Parcel {
  orderId: string;
  lines: LineBreakdown[];
  currency: string | null;
  createdAt: string;
  shipBy: string;
}

/** A refusal or failure of a request: the API's error shape, or NETWORK when there was no answer. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiResult<T> {
  status: number;
  body: T;
}

export async function request<T>(method: string, path: string, options: { token?: string | undefined; body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
  } catch {
    throw new ApiError(0, 'NETWORK', 'the server could not be reached');
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const error = (body as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
    throw new ApiError(res.status, error?.code ?? (res.status >= 500 ? 'INTERNAL' : 'BAD_REQUEST'), error?.message ?? res.statusText, error?.details ?? {});
  }
  return { status: res.status, body: body as T };
}

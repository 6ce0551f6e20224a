/** The buyer's orders, and one order with each parcel's timeline and the buyer's actions. */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, request, type Order, type Parcel, type ParcelStatus, type Session } from './api';
import { explain } from './explain';
import { loadProducts } from './catalog';
import { LineFigures, Money, Notice, SellerFigures, Totals, formatDate, sellerOrder } from './ui';

export const orderStatusText: Record<string, string> = {
  PROCESSING: 'Processing',
  AWAITING_PAYMENT: 'Waiting for payment',
  COMPLETED: 'Paid',
  FAILED: 'Failed',
};

export const parcelStatusText: Record<ParcelStatus, string> = {
  HELD: 'Paid, waiting to be shipped (funds held in escrow)',
  SHIPPED: 'Shipped',
  DELIVERED: 'Delivered',
  RELEASED: 'Completed: paid out to the seller',
  REFUNDED: 'Refunded',
  CANCELLED: 'Cancelled and refunded (not shipped in time)',
};

export function OrdersPage({ session }: { session: Session }) {
  const [orders, setOrders] = useState<Order[]>();
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string>();

  async function load(after?: string): Promise<void> {
    try {
      const query = new URLSearchParams({ limit: '20', ...(after ? { cursor: after } : {}) });
      const res = await request<{ orders: Order[]; nextCursor: string | null }>('GET', `/v1/orders?${query.toString()}`, { token: session.token });
      setOrders((known) => [...(after ? (known ?? []) : []), ...res.body.orders]);
      setCursor(res.body.nextCursor);
    } catch (err) {
      setError(err instanceof ApiError ? explain(err.code, err.details) : String(err));
    }
  }

  useEffect(() => void load(), []);

  return (
    <section aria-labelledby="orders-heading">
      <h2 id="orders-heading">Your orders</h2>
      {error && <Notice kind="error">{error}</Notice>}
      {!orders && !error && <p>Loading your orders…</p>}
      {orders && orders.length === 0 && <p>No orders yet.</p>}
      {orders && orders.length > 0 && (
        <table class="list">
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Placed</th>
              <th scope="col">Status</th>
              <th scope="col">Total</th>
            </tr>
          </thead>
          <tbody>
            {orders.map((o) => (
              <tr key={o.orderId} data-order={o.orderId}>
                <td>
                  <a href={`#/orders/${o.orderId}`}>{o.orderId}</a>
                </td>
                <td>{formatDate(o.createdAt)}</td>
                <td>{orderStatusText[o.status] ?? o.status}</td>
                <td>{o.pricing ? <Money amount={o.pricing.totals.grandTotal} currency={o.pricing.currency} /> : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" class="secondary" onClick={() => void load(cursor)}>
          Show older orders
        </button>
      )}
    </section>
  );
}

/** The steps of a parcel's life, the current one marked; the end is released, refunded or cancelled. */
function Timeline({ parcel, createdAt }: { parcel: Parcel; createdAt: string }) {
  const happy: ParcelStatus[] = ['HELD', 'SHIPPED', 'DELIVERED', 'RELEASED'];
  const ended = parcel.status === 'REFUNDED' || parcel.status === 'CANCELLED';
  const reached = ended ? -1 : happy.indexOf(parcel.status);
  const steps: { status: ParcelStatus; label: string; note?: string }[] = [
    { status: 'HELD', label: 'Paid, funds held in escrow', note: `since ${formatDate(createdAt)}` },
    { status: 'SHIPPED', label: 'Shipped', ...(parcel.shipBy ? { note: `to be shipped by ${formatDate(parcel.shipBy)}` } : {}) },
    { status: 'DELIVERED', label: 'Delivered' },
    { status: 'RELEASED', label: 'Paid out to the seller', ...(parcel.autoReleaseAt ? { note: `automatically on ${formatDate(parcel.autoReleaseAt)} unless you confirm receipt or ask for a refund first` } : {}) },
  ];
  return (
    <ol class="timeline" aria-label={`Timeline of the parcel from ${parcel.sellerId}`}>
      {steps.map((step, i) => {
        const state = ended ? 'skipped' : i < reached ? 'done' : i === reached ? 'current' : 'todo';
        return (
          <li key={step.status} class={`step step-${state}`} {...(state === 'current' ? { 'aria-current': 'step' } : {})}>
            <span class="step-label">{step.label}</span>
            {step.note && state !== 'done' && <span class="step-note"> — {step.note}</span>}
          </li>
        );
      })}
      {ended && (
        <li class="step step-current" aria-current="step">
          <span class="step-label">{parcelStatusText[parcel.status]}</span>
        </li>
      )}
    </ol>
  );
}

function ParcelCard({ order, parcel, sellerName, session, onChanged }: { order: Order; parcel: Parcel; sellerName: string; session: Session; onChanged: () => Promise<void> }) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: 'error' | 'success'; text: string }>();
  const pricing = order.pricing;
  const currency = pricing?.currency ?? 'USD';
  const lines = pricing?.lines.filter((l) => l.sellerId === parcel.sellerId) ?? [];
  const role = session.user.role;
  const isBuyer = role === 'buyer' || role === 'admin';
  const reasonId = `refund-reason-${parcel.sellerId}`;

  async function act(action: 'ship' | 'deliver' | 'confirm-receipt' | 'refund', done: string, body?: unknown): Promise<void> {
    setBusy(true);
    setMessage(undefined);
    try {
      await request('POST', `/v1/orders/${encodeURIComponent(order.orderId)}/parcels/${encodeURIComponent(parcel.sellerId)}/${action}`, { token: session.token, ...(body === undefined ? {} : { body }) });
      setMessage({ kind: 'success', text: done });
      setReason('');
    } catch (err) {
      setMessage({ kind: 'error', text: err instanceof ApiError ? explain(err.code, err.details) : String(err) });
    } finally {
      setBusy(false);
      await onChanged();
    }
  }

  const canConfirm = isBuyer && (parcel.status === 'SHIPPED' || parcel.status === 'DELIVERED');
  const canRefund = isBuyer && (parcel.status === 'HELD' || parcel.status === 'SHIPPED' || parcel.status === 'DELIVERED');

  return (
    <section class="parcel" data-parcel={parcel.sellerId} aria-labelledby={`parcel-${parcel.sellerId}`}>
      <h3 id={`parcel-${parcel.sellerId}`}>
        Parcel from {sellerName}: <span class="parcel-status" data-status={parcel.status}>{parcelStatusText[parcel.status]}</span>
      </h3>
      <p>
        You paid <Money amount={parcel.customerPaid} currency={currency} /> for this parcel.
      </p>
      {parcel.problem && <Notice kind="error">A {parcel.problem.action} of this parcel is waiting for our staff: {parcel.problem.message}</Notice>}
      <Timeline parcel={parcel} createdAt={order.createdAt} />
      {lines.map((line) => (
        <div key={line.lineId} class="order-line">
          <h4>{line.sku}</h4>
          <LineFigures line={line} currency={currency} />
        </div>
      ))}
      {pricing?.sellers[parcel.sellerId] && <SellerFigures seller={pricing.sellers[parcel.sellerId]!} currency={currency} sellerId={parcel.sellerId} />}
      <div class="actions">
        {role === 'admin' && parcel.status === 'SHIPPED' && (
          <button type="button" disabled={busy} onClick={() => void act('deliver', 'Marked as delivered.')}>
            Mark parcel from {sellerName} delivered
          </button>
        )}
        {canConfirm && (
          <button type="button" class="primary" disabled={busy} onClick={() => void act('confirm-receipt', 'Thanks: receipt confirmed, the seller is paid.')}>
            Confirm receipt of the parcel from {sellerName}
          </button>
        )}
        {canRefund && (
          <form
            class="refund"
            onSubmit={(e) => {
              e.preventDefault();
              if (reason.trim()) void act('refund', 'Refunded: the money is on its way back to you.', { reason: reason.trim() });
            }}
          >
            <label for={reasonId}>Reason for a refund of the parcel from {sellerName}</label>
            <textarea id={reasonId} rows={2} maxLength={500} value={reason} onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)} />
            <button type="submit" class="secondary" disabled={busy || reason.trim() === ''}>
              Refund the parcel from {sellerName}
            </button>
          </form>
        )}
      </div>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
    </section>
  );
}

export function OrderPage({ session, orderId }: { session: Session; orderId: string }) {
  const [order, setOrder] = useState<Order>();
  const [names, setNames] = useState<Map<string, string>>(new Map());
  const [error, setError] = useState<string>();

  async function load(): Promise<void> {
    try {
      const res = await request<Order>('GET', `/v1/orders/${encodeURIComponent(orderId)}`, { token: session.token });
      setOrder(res.body);
      const sellers = res.body.pricing ? sellerOrder(res.body.pricing) : res.body.parcels.map((p) => p.sellerId);
      if (sellers.length > 0 && names.size === 0) {
        loadProducts(sellers.join(',')).then((products) => setNames(new Map(products.map((p) => [p.sellerId, p.sellerName]))), () => undefined);
      }
    } catch (err) {
      setError(err instanceof ApiError ? explain(err.code, err.details) : String(err));
    }
  }

  useEffect(() => void load(), [orderId]);
  // An order still being processed (an asynchronous payment) updates by itself.
  useEffect(() => {
    if (!order || order.status === 'COMPLETED' || order.status === 'FAILED') return undefined;
    const timer = setTimeout(() => void load(), 1000);
    return () => clearTimeout(timer);
  }, [order]);

  if (error) return <Notice kind="error">{error}</Notice>;
  if (!order) return <p>Loading the order…</p>;
  return (
    <section aria-labelledby="order-heading">
      <h2 id="order-heading">Order {order.orderId}</h2>
      <p>
        Placed {formatDate(order.createdAt)} · <span data-testid="order-status">{orderStatusText[order.status] ?? order.status}</span>
      </p>
      {order.failure && <Notice kind="error">{explain(order.failure.code, order.failure.details)}</Notice>}
      {order.parcels.map((parcel) => (
        <ParcelCard key={parcel.sellerId} order={order} parcel={parcel} sellerName={names.get(parcel.sellerId) ?? parcel.sellerId} session={session} onChanged={load} />
      ))}
      {order.pricing && <Totals pricing={order.pricing} />}
    </section>
  );
}

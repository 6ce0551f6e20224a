/** The seller's parcels (GET /v1/seller/parcels): what to ship, by when, and what each pays out. */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, request, type ParcelStatus, type SellerParcel, type Session } from './api';
import { explain } from './explain';
import { parcelStatusText } from './orders';
import { Money, Notice, formatDate } from './ui';

const filters: { value: '' | ParcelStatus; label: string }[] = [
  { value: '', label: 'All parcels' },
  { value: 'HELD', label: 'To ship' },
  { value: 'SHIPPED', label: 'Shipped' },
  { value: 'DELIVERED', label: 'Delivered' },
  { value: 'RELEASED', label: 'Paid out' },
  { value: 'REFUNDED', label: 'Refunded' },
  { value: 'CANCELLED', label: 'Cancelled' },
];

export function SellerPage({ session }: { session: Session }) {
  const [status, setStatus] = useState<'' | ParcelStatus>('');
  const [parcels, setParcels] = useState<SellerParcel[]>();
  const [cursor, setCursor] = useState<string>();
  const [error, setError] = useState<string>();
  const [message, setMessage] = useState<{ kind: 'error' | 'success'; text: string }>();
  const [busy, setBusy] = useState<string>();

  async function load(after?: string): Promise<void> {
    try {
      const query = new URLSearchParams({ limit: '50', ...(status ? { status } : {}), ...(after ? { cursor: after } : {}) });
      const res = await request<{ parcels: SellerParcel[]; nextCursor?: string }>('GET', `/v1/seller/parcels?${query.toString()}`, { token: session.token });
      setParcels((known) => [...(after ? (known ?? []) : []), ...res.body.parcels]);
      setCursor(res.body.nextCursor);
      setError(undefined);
    } catch (err) {
      setError(err instanceof ApiError ? explain(err.code, err.details) : String(err));
    }
  }

  useEffect(() => void load(), [status]);

  async function ship(parcel: SellerParcel): Promise<void> {
    setBusy(parcel.orderId);
    setMessage(undefined);
    try {
      await request('POST', `/v1/orders/${encodeURIComponent(parcel.orderId)}/parcels/${encodeURIComponent(parcel.sellerId)}/ship`, { token: session.token });
      setMessage({ kind: 'success', text: `Parcel of order ${parcel.orderId} marked as shipped.` });
    } catch (err) {
      setMessage({ kind: 'error', text: err instanceof ApiError ? explain(err.code, err.details) : String(err) });
    } finally {
      setBusy(undefined);
      await load();
    }
  }

  return (
    <section aria-labelledby="seller-heading">
      <h2 id="seller-heading">Parcels of {session.user.label}</h2>
      <label for="parcel-filter">Show</label>
      <select id="parcel-filter" value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value as '' | ParcelStatus)}>
        {filters.map((f) => (
          <option key={f.value} value={f.value}>
            {f.label}
          </option>
        ))}
      </select>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {error && <Notice kind="error">{error}</Notice>}
      {!parcels && !error && <p>Loading parcels…</p>}
      {parcels && parcels.length === 0 && <p>No parcels here.</p>}
      {parcels && parcels.length > 0 && (
        <table class="list">
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Items</th>
              <th scope="col">Buyer paid</th>
              <th scope="col">Your payout</th>
              <th scope="col">Status</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {parcels.map((p) => {
              const currency = p.currency ?? 'USD';
              return (
                <tr key={p.orderId} data-order={p.orderId} data-status={p.status}>
                  <td>
                    {p.orderId}
                    <br />
                    <span class="meta">{formatDate(p.createdAt)}</span>
                  </td>
                  <td>
                    <ul class="plain">
                      {p.lines.map((l) => (
                        <li key={l.lineId}>
                          {l.sku}: <Money amount={l.gross} currency={currency} />
                        </li>
                      ))}
                    </ul>
                  </td>
                  <td>
                    <Money amount={p.customerPaid} currency={currency} />
                  </td>
                  <td data-testid="payout">
                    <Money amount={p.payout} currency={currency} />
                  </td>
                  <td>
                    {parcelStatusText[p.status]}
                    {p.status === 'HELD' && <span class="meta"> — ship by {formatDate(p.shipBy)}</span>}
                    {p.autoReleaseAt && p.status === 'DELIVERED' && <span class="meta"> — paid out on {formatDate(p.autoReleaseAt)}</span>}
                  </td>
                  <td>
                    {p.status === 'HELD' && (
                      <button type="button" class="primary" disabled={busy === p.orderId} onClick={() => void ship(p)}>
                        Ship order {p.orderId}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" class="secondary" onClick={() => void load(cursor)}>
          Show older parcels
        </button>
      )}
    </section>
  );
}

/**
 * The cart: lines grouped by seller with each seller's shipping, vouchers, the price breakdown per
 * seller and per line, and the checkout. The checkout sends one Idempotency-Key per attempt (kept
 * in sessionStorage: a double click or a reload sends the same request again and gets the same
 * order), with the grand total shown, so a price that changed meanwhile is refused and shown.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, request, type Cart, type CartItem, type Order, type PriceBreakdown, type Product, type Session } from './api';
import { explain, explainVoucherReason, shortLinesOf } from './explain';
import { loadProducts } from './catalog';
import { loadAttempt, newAttempt, saveAttempt, type CheckoutAttempt } from './session';
import { LineFigures, Money, Notice, SellerFigures, Totals, sellerOrder } from './ui';

export const paymentMethods = [
  { token: 'tok_visa', label: 'Visa card (approved at once)' },
  { token: 'tok_async', label: 'Bank payment (confirmed a few seconds later)' },
  { token: 'tok_chargeDeclined', label: 'Card that will be declined' },
  { token: 'tok_asyncFail', label: 'Bank payment that will fail' },
] as const;

type CheckoutState =
  | { kind: 'idle' }
  | { kind: 'submitting' }
  | { kind: 'pending'; orderId: string; status: string }
  | { kind: 'completed'; order: Order }
  | { kind: 'failed'; code: string; text: string; orderId?: string }
  | { kind: 'retry'; text: string };

interface StockProblem {
  sku: string;
  name: string;
  requested: number;
  available: number;
}

const pollIntervalMs = 700;
const settled = (status: string): boolean => status === 'COMPLETED' || status === 'FAILED';

function CartLine({ item, pricing, busy, onQuantity, onRemove }: { item: CartItem; pricing: PriceBreakdown | null; busy: boolean; onQuantity: (q: number) => void; onRemove: () => void }) {
  const [quantity, setQuantity] = useState(item.quantity);
  useEffect(() => setQuantity(item.quantity), [item.quantity]);
  const line = pricing?.lines.find((l) => l.sku === item.sku);
  const id = `cart-qty-${item.sku}`;
  return (
    <li class="cart-line" data-sku={item.sku}>
      <div class="cart-line-head">
        <h4>{item.name}</h4>
        <span>
          <Money amount={item.unitPrice} currency={pricing?.currency ?? 'USD'} /> each
        </span>
      </div>
      <form
        class="quantity"
        onSubmit={(e) => {
          e.preventDefault();
          if (quantity !== item.quantity) onQuantity(quantity);
        }}
      >
        <label for={id}>Quantity of {item.name}</label>
        <input id={id} type="number" min={1} max={999} value={quantity} onInput={(e) => setQuantity(Math.max(1, Math.trunc(Number((e.target as HTMLInputElement).value)) || 1))} />
        <button type="submit" disabled={busy || quantity === item.quantity}>
          Update quantity of {item.name}
        </button>
        <button type="button" class="secondary" disabled={busy} onClick={onRemove}>
          Remove {item.name}
        </button>
      </form>
      {line && pricing && <LineFigures line={line} currency={pricing.currency} />}
    </li>
  );
}

export function CartPage({ session, onCartChanged }: { session: Session; onCartChanged: () => void }) {
  const [cart, setCart] = useState<Cart>();
  const [sellers, setSellers] = useState<Map<string, Product>>(new Map());
  const [busy, setBusy] = useState(false);
  const [cartError, setCartError] = useState<string>();
  const [voucherCode, setVoucherCode] = useState('');
  const [voucherMessage, setVoucherMessage] = useState<{ kind: 'error' | 'success'; text: string }>();
  const [payment, setPayment] = useState<string>(paymentMethods[0].token);
  const [checkout, setCheckout] = useState<CheckoutState>({ kind: 'idle' });
  const [priceChange, setPriceChange] = useState<{ was: number; now: number; currency: string }>();
  const [stockProblems, setStockProblems] = useState<StockProblem[]>([]);
  const inFlight = useRef(false);
  const dialog = useRef<HTMLDialogElement>(null);
  const token = session.token;

  const nameOf = (sku: string): string => cart?.items.find((i) => i.sku === sku)?.name ?? sku;

  function show(next: Cart): void {
    setCart(next);
    onCartChanged();
    const missing = [...new Set(next.items.map((i) => i.sellerId))].filter((s) => !sellers.has(s));
    if (missing.length > 0) {
      // Seller names and shipping fees for the headings (the cart lines carry the seller id only).
      loadProducts(missing.join(',')).then(
        (products) => setSellers((known) => new Map([...known, ...products.map((p) => [p.sellerId, p] as const)])),
        () => undefined,
      );
    }
  }

  async function reload(): Promise<Cart | undefined> {
    try {
      const res = await request<Cart>('GET', '/v1/cart', { token });
      show(res.body);
      return res.body;
    } catch (err) {
      setCartError(err instanceof ApiError ? explain(err.code, err.details) : String(err));
      return undefined;
    }
  }

  async function change(method: string, path: string, body?: unknown): Promise<boolean> {
    setBusy(true);
    setCartError(undefined);
    try {
      const res = await request<Cart>(method, path, { token, ...(body === undefined ? {} : { body }) });
      show(res.body);
      return true;
    } catch (err) {
      setCartError(err instanceof ApiError ? explain(err.code, err.details, nameOf) : String(err));
      return false;
    } finally {
      setBusy(false);
    }
  }

  async function applyVoucher(event: Event): Promise<void> {
    event.preventDefault();
    const code = voucherCode.trim();
    if (!code) return;
    setBusy(true);
    setVoucherMessage(undefined);
    try {
      const res = await request<Cart>('POST', '/v1/cart/vouchers', { token, body: { code } });
      show(res.body);
      setVoucherCode('');
      setVoucherMessage({ kind: 'success', text: `Voucher “${code}” applied.` });
    } catch (err) {
      setVoucherMessage({ kind: 'error', text: err instanceof ApiError ? explain(err.code, { code, ...err.details }) : String(err) });
    } finally {
      setBusy(false);
    }
  }

  // ------------------------------------------------------------------ checkout

  function finish(): void {
    saveAttempt(undefined);
    inFlight.current = false;
  }

  function settle(order: Order): void {
    if (order.status === 'COMPLETED') {
      finish();
      setCheckout({ kind: 'completed', order });
      void reload();
    } else if (order.status === 'FAILED') {
      finish();
      const failure = order.failure ?? { code: 'CHECKOUT_REFUSED', message: '', details: {} };
      refused(failure.code, failure.details, order.orderId);
    }
  }

  function refused(code: string, details: Record<string, unknown>, orderId?: string): void {
    setCheckout({ kind: 'failed', code, text: explain(code, details, nameOf), ...(orderId ? { orderId } : {}) });
    if (code === 'INSUFFICIENT_STOCK') {
      const lines = shortLinesOf(details).map((l) => ({ ...l, name: nameOf(l.sku) }));
      setStockProblems(lines);
      if (lines.length > 0) dialog.current?.showModal();
    }
  }

  async function poll(attempt: CheckoutAttempt, orderId: string): Promise<void> {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
      if (loadAttempt(session.user.userId)?.idempotencyKey !== attempt.idempotencyKey) return; // superseded
      try {
        const order = (await request<Order>('GET', `/v1/orders/${encodeURIComponent(orderId)}`, { token })).body;
        if (settled(order.status)) return settle(order);
        setCheckout({ kind: 'pending', orderId, status: order.status });
      } catch (err) {
        if (err instanceof ApiError && (err.status === 401 || err.status === 403 || err.status === 404)) {
          finish();
          return setCheckout({ kind: 'failed', code: err.code, text: explain(err.code, err.details) });
        }
        // A dependency or the network is briefly away: keep polling.
      }
    }
  }

  /** Sends the attempt (again): the same key and body always answer with the same order. */
  async function send(attempt: CheckoutAttempt): Promise<void> {
    inFlight.current = true;
    setCheckout({ kind: 'submitting' });
    setPriceChange(undefined);
    try {
      const res = await request<Order | { orderId: string; status: string }>('POST', '/v1/checkouts', {
        token,
        headers: { 'Idempotency-Key': attempt.idempotencyKey },
        body: attempt.body,
      });
      const order = res.body;
      saveAttempt({ ...attempt, orderId: order.orderId });
      if (settled(order.status) && 'parcels' in order) return settle(order);
      setCheckout({ kind: 'pending', orderId: order.orderId, status: order.status });
      return await poll(attempt, order.orderId);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const final = err.status >= 400 && err.status < 500 && err.status !== 429 && err.code !== 'NETWORK';
      if (!final) {
        // No final answer: keep the attempt, so trying again cannot place a second order.
        inFlight.current = false;
        return setCheckout({ kind: 'retry', text: explain(err.code, err.details) });
      }
      finish();
      if (err.code === 'PRICE_CHANGED') {
        const fresh = err.details.pricing as PriceBreakdown | undefined;
        setPriceChange({ was: attempt.body.expectedGrandTotal, now: Number(err.details.grandTotal), currency: typeof err.details.currency === 'string' ? err.details.currency : (fresh?.currency ?? 'USD') });
        // The new breakdown: the one the refusal carries, then the cart's own.
        if (fresh) setCart((c) => (c ? { ...c, pricing: fresh } : c));
        void reload();
      }
      refused(err.code, err.details);
    }
  }

  function placeOrder(): void {
    if (inFlight.current || !cart?.pricing) return;
    inFlight.current = true;
    const attempt = loadAttempt(session.user.userId) ?? newAttempt(session.user.userId, { paymentMethod: { token: payment }, expectedGrandTotal: cart.pricing.totals.grandTotal });
    void send(attempt);
  }

  async function updateShortLine(problem: StockProblem): Promise<void> {
    const ok = problem.available > 0 ? await change('PATCH', `/v1/cart/items/${encodeURIComponent(problem.sku)}`, { quantity: problem.available }) : await change('DELETE', `/v1/cart/items/${encodeURIComponent(problem.sku)}`);
    if (!ok) return;
    const rest = stockProblems.filter((p) => p.sku !== problem.sku);
    setStockProblems(rest);
    if (rest.length === 0) {
      dialog.current?.close();
      setCheckout({ kind: 'idle' });
    }
  }

  useEffect(() => {
    void reload().then(() => {
      // A reload in the middle of a checkout: pick the attempt up where it was.
      const attempt = loadAttempt(session.user.userId);
      if (!attempt) return;
      if (attempt.orderId) {
        inFlight.current = true;
        setCheckout({ kind: 'pending', orderId: attempt.orderId, status: 'PROCESSING' });
        void poll(attempt, attempt.orderId);
      } else {
        void send(attempt);
      }
    });
  }, []);

  if (!cart) return <section>{cartError ? <Notice kind="error">{cartError}</Notice> : <p>Loading your cart…</p>}</section>;

  const pricing = cart.pricing;
  const currency = pricing?.currency ?? cart.currency ?? 'USD';
  const groups = pricing ? sellerOrder(pricing) : [...new Set(cart.items.map((i) => i.sellerId))];
  const checkoutBusy = checkout.kind === 'submitting' || checkout.kind === 'pending';

  return (
    <section aria-labelledby="cart-heading">
      <h2 id="cart-heading">Your cart</h2>
      {cartError && <Notice kind="error">{cartError}</Notice>}
      {checkout.kind === 'completed' && (
        <Notice kind="success" id="checkout-result">
          Thank you! Order <a href={`#/orders/${checkout.order.orderId}`}>{checkout.order.orderId}</a> is placed and paid:{' '}
          {checkout.order.pricing && <Money amount={checkout.order.pricing.totals.grandTotal} currency={checkout.order.pricing.currency} />}.
        </Notice>
      )}
      {cart.items.length === 0 && checkout.kind !== 'completed' && (
        <p>
          Your cart is empty. <a href="#/">Browse the catalog</a>.
        </p>
      )}
      {groups.map((sellerId) => {
        const items = cart.items.filter((i) => i.sellerId === sellerId);
        const seller = sellers.get(sellerId);
        const figures = pricing?.sellers[sellerId];
        return (
          <section key={sellerId} class="seller-group" aria-label={`Items from ${seller?.sellerName ?? sellerId}`} data-seller={sellerId}>
            <h3>
              From {seller?.sellerName ?? sellerId}
              {seller && (
                <span class="meta">
                  {' '}
                  · shipping <Money amount={seller.shippingFee} currency={currency} />
                </span>
              )}
            </h3>
            <ul class="cart-lines">
              {items.map((item) => (
                <CartLine
                  key={item.sku}
                  item={item}
                  pricing={pricing}
                  busy={busy || checkoutBusy}
                  onQuantity={(q) => void change('PATCH', `/v1/cart/items/${encodeURIComponent(item.sku)}`, { quantity: q })}
                  onRemove={() => void change('DELETE', `/v1/cart/items/${encodeURIComponent(item.sku)}`)}
                />
              ))}
            </ul>
            {figures && <SellerFigures seller={figures} currency={currency} sellerId={sellerId} />}
          </section>
        );
      })}

      {cart.items.length > 0 && (
        <section class="vouchers" aria-labelledby="vouchers-heading">
          <h3 id="vouchers-heading">Vouchers</h3>
          {cart.vouchers.length > 0 && (
            <ul class="voucher-list">
              {cart.vouchers.map((code) => {
                const rejected = pricing?.rejectedVouchers.find((r) => r.code === code);
                const issue = cart.voucherIssues?.find((v) => v.code === code);
                return (
                  <li key={code} data-voucher={code}>
                    <strong>{code}</strong>
                    {rejected && <span class="warning"> — not applied: {explainVoucherReason(rejected.reason)}</span>}
                    {issue && <span class="warning"> — {explain(issue.reason, { code })}</span>}{' '}
                    <button type="button" class="secondary" disabled={busy || checkoutBusy} onClick={() => void change('DELETE', `/v1/cart/vouchers/${encodeURIComponent(code)}`)}>
                      Remove voucher {code}
                    </button>
                  </li>
                );
              })}
            </ul>
          )}
          <form class="voucher-form" onSubmit={(e) => void applyVoucher(e)}>
            <label for="voucher-code">Voucher code</label>
            <input id="voucher-code" value={voucherCode} autoComplete="off" onInput={(e) => setVoucherCode((e.target as HTMLInputElement).value)} />
            <button type="submit" disabled={busy || checkoutBusy || voucherCode.trim() === ''}>
              Apply voucher
            </button>
          </form>
          {voucherMessage && <Notice kind={voucherMessage.kind}>{voucherMessage.text}</Notice>}
        </section>
      )}

      {cart.problems && cart.problems.length > 0 && (
        <Notice kind="error">
          This cart cannot be priced: {cart.problems.map((p) => `${nameOf(p.sku)}: ${p.message}`).join('; ')}.
        </Notice>
      )}

      {pricing && <Totals pricing={pricing} />}

      {priceChange && (
        <Notice kind="error" id="price-changed">
          The price changed: the total is now <Money amount={priceChange.now} currency={priceChange.currency} /> instead of <Money amount={priceChange.was} currency={priceChange.currency} />. The breakdown above shows the new
          prices; place the order again to accept them.
        </Notice>
      )}

      {pricing && cart.items.length > 0 && (
        <section class="checkout" aria-labelledby="checkout-heading">
          <h3 id="checkout-heading">Checkout</h3>
          <label for="payment-method">Payment method</label>
          <select id="payment-method" value={payment} disabled={checkoutBusy} onChange={(e) => setPayment((e.target as HTMLSelectElement).value)}>
            {paymentMethods.map((m) => (
              <option key={m.token} value={m.token}>
                {m.label}
              </option>
            ))}
          </select>
          <button type="button" class="primary" id="place-order" disabled={checkoutBusy || busy} onClick={placeOrder}>
            Place order · <Money amount={pricing.totals.grandTotal} currency={pricing.currency} />
          </button>
        </section>
      )}

      {checkout.kind === 'submitting' && <Notice kind="info">Placing your order…</Notice>}
      {checkout.kind === 'pending' && (
        <Notice kind="info" id="checkout-pending">
          {checkout.status === 'AWAITING_PAYMENT' ? 'Waiting for your payment to be confirmed…' : 'Processing your order…'} (order {checkout.orderId}). This page updates by itself.
        </Notice>
      )}
      {checkout.kind === 'failed' && (
        <Notice kind="error" id="checkout-error">
          {checkout.text}
          {checkout.orderId && (
            <>
              {' '}
              (<a href={`#/orders/${checkout.orderId}`}>order {checkout.orderId}</a>)
            </>
          )}
        </Notice>
      )}
      {checkout.kind === 'retry' && (
        <Notice kind="error" id="checkout-error">
          {checkout.text}
        </Notice>
      )}

      <dialog ref={dialog} class="stock-dialog" aria-labelledby="stock-dialog-heading" onClose={() => setStockProblems([])}>
        <h3 id="stock-dialog-heading">Not enough stock</h3>
        {stockProblems.map((p) => (
          <div key={p.sku} class="stock-problem" data-sku={p.sku}>
            <p>
              <strong>{p.name}</strong>: you asked for {p.requested}. Only {p.available} available. Update quantity?
            </p>
            <button type="button" class="primary" disabled={busy} onClick={() => void updateShortLine(p)}>
              {p.available > 0 ? `Update ${p.name} to ${p.available}` : `Remove ${p.name}`}
            </button>
          </div>
        ))}
        <button type="button" class="secondary" onClick={() => dialog.current?.close()}>
          Keep my cart as it is
        </button>
      </dialog>
    </section>
  );
}

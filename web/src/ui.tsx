/** Shared pieces of the storefront: money, dates, discount labels and the price breakdown. */
import type { ComponentChildren } from 'preact';
import type { Discount, LineBreakdown, PriceBreakdown, SellerBreakdown } from './api';
import { formatMinor } from './money';

export function Money({ amount, currency, negative = false }: { amount: number; currency: string; negative?: boolean }) {
  return <span class="money">{negative && amount > 0 ? '−' : ''}{formatMinor(amount, currency)}</span>;
}

const dateFormat = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short' });
export const formatDate = (iso: string): string => dateFormat.format(new Date(iso));

/** `voucher:X2OFF` -> "Voucher X2OFF" and the like (pricing-spec.md §3 sources). */
export function sourceLabel(source: string): string {
  const [kind, id] = source.split(/:(.*)/s);
  switch (kind) {
    case 'voucher':
      return `Voucher ${id ?? ''}`;
    case 'promotion':
      return `Seller promotion ${id ?? ''}`;
    case 'campaign':
      return `Campaign ${id ?? ''}`;
    case 'loyalty':
      return 'Loyalty points';
    default:
      return source;
  }
}

export const funderLabel = (fundedBy: Discount['fundedBy']): string => (fundedBy === 'seller' ? 'funded by the seller' : 'funded by the platform');

export function Notice({ kind, children, id }: { kind: 'error' | 'info' | 'success'; children: ComponentChildren; id?: string }) {
  return (
    <div class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'} {...(id ? { id } : {})}>
      {children}
    </div>
  );
}

function Row({ label, amount, currency, negative = false, strong = false, testId }: { label: ComponentChildren; amount: number; currency: string; negative?: boolean; strong?: boolean; testId?: string }) {
  return (
    <tr class={strong ? 'strong' : ''} {...(testId ? { 'data-testid': testId } : {})}>
      <th scope="row">{label}</th>
      <td>
        <Money amount={amount} currency={currency} negative={negative} />
      </td>
    </tr>
  );
}

/** One line's arithmetic: gross, each discount with its source and funder, net, tax. */
export function LineFigures({ line, currency }: { line: LineBreakdown; currency: string }) {
  return (
    <table class="figures line-figures" data-testid={`line-${line.sku}`}>
      <tbody>
        <Row label="Price" amount={line.gross} currency={currency} />
        {line.discounts.map((d) => (
          <Row key={d.source} label={`${sourceLabel(d.source)} (${funderLabel(d.fundedBy)})`} amount={d.amount} currency={currency} negative />
        ))}
        <Row label="After discounts" amount={line.net} currency={currency} />
        <Row label="Tax" amount={line.tax} currency={currency} />
      </tbody>
    </table>
  );
}

/** One seller's part: merchandise, discounts by funder, shipping and its discount, tax, what the buyer pays for this parcel. */
export function SellerFigures({ seller, currency, sellerId }: { seller: SellerBreakdown; currency: string; sellerId: string }) {
  return (
    <table class="figures seller-figures" data-testid={`seller-total-${sellerId}`}>
      <tbody>
        <Row label="Items" amount={seller.merchandiseGross} currency={currency} />
        {seller.sellerFundedDiscount > 0 && <Row label="Discounts funded by the seller" amount={seller.sellerFundedDiscount} currency={currency} negative />}
        {seller.platformFundedDiscount > 0 && <Row label="Discounts funded by the platform" amount={seller.platformFundedDiscount} currency={currency} negative />}
        <Row label="Shipping" amount={seller.shippingFee} currency={currency} />
        {seller.shippingDiscount > 0 && <Row label="Shipping discount (funded by the platform)" amount={seller.shippingDiscount} currency={currency} negative />}
        <Row label="Tax" amount={seller.tax} currency={currency} />
        <Row label="Parcel total" amount={seller.customerPaid} currency={currency} strong />
      </tbody>
    </table>
  );
}

/** The order's totals and every applied discount with its source and funder. */
export function Totals({ pricing }: { pricing: PriceBreakdown }) {
  const c = pricing.currency;
  const t = pricing.totals;
  // `discounts` lists merchandise and shipping discounts alike; the shipping ones are the sources
  // that no line carries (pricing-spec.md §3 step 4), shown with the shipping.
  const onLines = new Set(pricing.lines.flatMap((l) => l.discounts.map((d) => d.source)));
  const merchandise = pricing.discounts.filter((d) => onLines.has(d.source));
  const shipping = pricing.discounts.filter((d) => !onLines.has(d.source));
  return (
    <section class="totals" aria-labelledby="totals-heading">
      <h3 id="totals-heading">Order total</h3>
      <table class="figures">
        <tbody>
          <Row label="Items" amount={t.merchandiseGross} currency={c} />
          {merchandise.map((d) => (
            <Row key={d.source} label={`${sourceLabel(d.source)} (${funderLabel(d.fundedBy)})`} amount={d.amount} currency={c} negative />
          ))}
          <Row label="Shipping" amount={t.shipping} currency={c} />
          {shipping.map((d) => (
            <Row key={d.source} label={`Shipping discount: ${sourceLabel(d.source)} (${funderLabel(d.fundedBy)})`} amount={d.amount} currency={c} negative />
          ))}
          <Row label="Tax" amount={t.tax} currency={c} />
          <Row label="Grand total" amount={t.grandTotal} currency={c} strong testId="grand-total" />
        </tbody>
      </table>
    </section>
  );
}

/** Sellers in pricing order (the order each first appears in the lines). */
export function sellerOrder(pricing: PriceBreakdown): string[] {
  return [...new Set(pricing.lines.map((l) => l.sellerId))];
}

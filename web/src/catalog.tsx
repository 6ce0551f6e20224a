/** The catalog: products with seller, category, price and available stock; buyers add them to the cart. */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, request, type Product, type Session } from './api';
import { explain } from './explain';
import { Money, Notice } from './ui';

/** `?sellers=a,b` in the page's address narrows the catalog to those shops. */
export function sellerFilter(): string | undefined {
  const sellers = new URLSearchParams(location.search).get('sellers');
  return sellers && sellers.trim() !== '' ? sellers.trim() : undefined;
}

export async function loadProducts(sellerIds?: string): Promise<Product[]> {
  const query = new URLSearchParams({ limit: '100', ...(sellerIds ? { sellerId: sellerIds } : {}) });
  const res = await request<{ products: Product[] }>('GET', `/v1/products?${query.toString()}`);
  return res.body.products;
}

function ProductCard({ product, session, onAdded }: { product: Product; session: Session | undefined; onAdded: (message: string) => void }) {
  const [quantity, setQuantity] = useState(1);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const inputId = `qty-${product.sku}`;
  const canBuy = session?.user.role === 'buyer';

  async function add(event: Event): Promise<void> {
    event.preventDefault();
    if (!session) return;
    setBusy(true);
    setError(undefined);
    try {
      await request('POST', '/v1/cart/items', { token: session.token, body: { sku: product.sku, quantity } });
      onAdded(`Added ${quantity} × ${product.name} to your cart.`);
    } catch (err) {
      setError(err instanceof ApiError ? explain(err.code, err.details) : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <li class="product" data-sku={product.sku}>
      <h3>{product.name}</h3>
      <p class="meta">
        Sold by <strong>{product.sellerName}</strong> · {product.category} · shipping <Money amount={product.shippingFee} currency={product.currency} /> per order
      </p>
      <p class="price">
        <Money amount={product.unitPrice} currency={product.currency} />
      </p>
      <p class="stock">{product.available > 0 ? `${product.available} available` : 'Sold out'}</p>
      {canBuy ? (
        <form class="add" onSubmit={(e) => void add(e)}>
          <label for={inputId}>Quantity of {product.name}</label>
          <input id={inputId} type="number" min={1} max={999} value={quantity} onInput={(e) => setQuantity(Math.max(1, Math.trunc(Number((e.target as HTMLInputElement).value)) || 1))} />
          <button type="submit" disabled={busy}>
            Add {product.name} to cart
          </button>
        </form>
      ) : (
        <p class="hint">{session ? 'Sign in as a buyer to shop.' : 'Sign in as a buyer to add this to a cart.'}</p>
      )}
      {error && <Notice kind="error">{error}</Notice>}
    </li>
  );
}

export function CatalogPage({ session, onCartChanged }: { session: Session | undefined; onCartChanged: () => void }) {
  const [products, setProducts] = useState<Product[]>();
  const [error, setError] = useState<string>();
  const [message, setMessage] = useState<string>();

  useEffect(() => {
    loadProducts(sellerFilter()).then(setProducts, (err: unknown) => setError(err instanceof ApiError ? explain(err.code, err.details) : String(err)));
  }, []);

  return (
    <section aria-labelledby="catalog-heading">
      <h2 id="catalog-heading">Catalog</h2>
      {message && <Notice kind="success">{message}</Notice>}
      {error && <Notice kind="error">{error}</Notice>}
      {!products && !error && <p>Loading products…</p>}
      {products && products.length === 0 && <p>No products yet.</p>}
      {products && (
        <ul class="products">
          {products.map((p) => (
            <ProductCard
              key={p.sku}
              product={p}
              session={session}
              onAdded={(text) => {
                setMessage(text);
                onCartChanged();
              }}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

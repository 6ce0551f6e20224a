/** The storefront's shell: who is signed in, the navigation, and the page the URL fragment names. */
import { useEffect, useState } from 'preact/hooks';
import { request, type Cart, type Session } from './api';
import { CartPage } from './cart';
import { CatalogPage } from './catalog';
import { OrderPage, OrdersPage } from './orders';
import { SellerPage } from './seller';
import { loadSession, saveSession } from './session';
import { SignInPage } from './signin';

function currentRoute(): string {
  return location.hash.replace(/^#/, '') || '/';
}

export function App() {
  const [session, setSession] = useState<Session | undefined>(loadSession);
  const [route, setRoute] = useState(currentRoute);
  const [cartCount, setCartCount] = useState<number>();

  useEffect(() => {
    const onHash = (): void => {
      setRoute(currentRoute());
      window.scrollTo(0, 0);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  function refreshCartCount(): void {
    if (session?.user.role !== 'buyer') return setCartCount(undefined);
    request<Cart>('GET', '/v1/cart', { token: session.token }).then(
      (res) => setCartCount(res.body.items.reduce((n, i) => n + i.quantity, 0)),
      () => setCartCount(undefined),
    );
  }
  useEffect(refreshCartCount, [session]);

  function signIn(next: Session): void {
    saveSession(next);
    setSession(next);
    location.hash = next.user.role === 'seller' ? '#/seller' : '#/';
  }

  function signOut(): void {
    saveSession(undefined);
    setSession(undefined);
    location.hash = '#/signin';
  }

  const role = session?.user.role;
  let page;
  const order = /^\/orders\/([A-Za-z0-9_-]{1,64})$/.exec(route);
  if (route === '/signin' || (!session && route !== '/')) page = <SignInPage onSignedIn={signIn} />;
  else if (route === '/cart' && session) page = <CartPage key={session.user.userId} session={session} onCartChanged={refreshCartCount} />;
  else if (route === '/orders' && session) page = <OrdersPage session={session} />;
  else if (order?.[1] && session) page = <OrderPage key={order[1]} session={session} orderId={order[1]} />;
  else if (route === '/seller' && session) page = <SellerPage session={session} />;
  else page = <CatalogPage session={session} onCartChanged={refreshCartCount} />;

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <h1>
          <a href="#/">Marketplace</a>
        </h1>
        <nav aria-label="Main">
          <ul>
            <li>
              <a href="#/">Catalog</a>
            </li>
            {role === 'buyer' && (
              <li>
                <a href="#/cart">Cart{cartCount !== undefined ? ` (${cartCount})` : ''}</a>
              </li>
            )}
            {role === 'buyer' && (
              <li>
                <a href="#/orders">Orders</a>
              </li>
            )}
            {role === 'seller' && (
              <li>
                <a href="#/seller">Parcels</a>
              </li>
            )}
          </ul>
        </nav>
        <div class="who">
          {session ? (
            <>
              <span>
                Signed in as <strong>{session.user.label}</strong>
              </span>{' '}
              <button type="button" class="secondary" onClick={signOut}>
                Sign out
              </button>
            </>
          ) : (
            <a href="#/signin">Sign in</a>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </>
  );
}

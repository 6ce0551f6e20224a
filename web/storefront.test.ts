/**
 * The storefront in a real browser (Debian's chromium through playwright-core) against the real
 * API, worker, Temporal, Postgres, Redis and PSP simulator (api/test-support.ts startStack): the
 * seed journey ($77.22 with three sellers and three vouchers, refusals in words), a seller
 * shipping and the buyer confirming, the partial-stock dialog, a declined card, an asynchronous
 * payment, and a double click followed by a reload placing one order. Every step leaves a
 * screenshot in test-output/storefront/; any console error or uncaught exception fails the test.
 */
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { createScenario, startStack, waitFor, type Scenario, type Stack } from '../api/test-support';
import type { DevUser } from '../api/routes/dev';
import { uniqueId } from '../test/support/env';
import { buildStorefront } from './build';
import { launchBrowser, openPage, type WatchedPage } from './browser';

interface OrderBody {
  orderId: string;
  status: string;
  pricing: { totals: { grandTotal: number } } | null;
  parcels: { sellerId: string; status: string }[];
}

describe('storefront in a browser @integration', function () {
  this.timeout(60_000);
  let stack: Stack;
  let scenario: Scenario;
  let browser: Browser;
  /** The dev sign-in's users: filled once the scenario's sellers exist (read per request). */
  const users: DevUser[] = [];
  const pages: WatchedPage[] = [];
  let journeyOrderId: string | undefined;

  const buyer = (name: string): DevUser => {
    const user: DevUser = { userId: uniqueId(`web-${name}`), role: 'buyer', label: `Buyer (${name})` };
    users.push(user);
    return user;
  };
  const h = (): Stack['harness'] => stack.harness;
  const admin = (): string => h().token('admin', 'web-admin');
  const shopUrl = (): string => `${h().url}/?sellers=${[scenario.sellers.x, scenario.sellers.y, scenario.sellers.z].join(',')}`;

  before(async () => {
    await buildStorefront({ ifStale: true, quiet: true });
    // The saga's 2 s wait (the API default) answers a card payment at once; a bank payment
    // confirmed 3 s later is answered 202 and shows the pending state.
    stack = await startStack({ config: { checkoutWaitMs: 2000, devUsers: users }, psp: { asyncDelayMs: 3000 } });
    scenario = await createScenario(stack.harness, { stock: 20 });
    users.push({ userId: uniqueId('web-seller-x'), role: 'seller', sellerId: scenario.sellers.x, label: 'Seller X' });
    browser = await launchBrowser();
  });

  afterEach(function () {
    // Console errors of every page this test opened fail it.
    const errors = pages.splice(0).flatMap((p) => p.errors);
    if (this.currentTest?.state === 'passed') assert.deepEqual(errors, [], 'console errors or uncaught exceptions in the browser');
  });

  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  async function open(): Promise<WatchedPage> {
    const watched = await openPage(browser, h().url);
    pages.push(watched);
    return watched;
  }

  /** Opens the shop (narrowed to the scenario's sellers) and signs in as `user` with the picker. */
  async function signIn(user: DevUser): Promise<WatchedPage> {
    const watched = await open();
    const { page } = watched;
    await page.goto(`${shopUrl()}#/signin`);
    await page.getByLabel('Sign in as').selectOption(user.userId);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText(`Signed in as ${user.label}`).waitFor();
    return watched;
  }

  async function addToCart(page: Page, name: string, quantity = 1): Promise<void> {
    if (quantity !== 1) await page.getByLabel(`Quantity of ${name}`).fill(String(quantity));
    await page.getByRole('button', { name: `Add ${name} to cart` }).click();
    await page.getByText(`Added ${quantity} × ${name} to your cart.`).waitFor();
  }

  async function applyVoucher(page: Page, code: string): Promise<void> {
    await page.getByLabel('Voucher code').fill(code);
    await page.getByRole('button', { name: 'Apply voucher' }).click();
  }

  async function ordersOf(userId: string): Promise<OrderBody[]> {
    const res = await h().request('GET', '/v1/orders?limit=100', { token: h().token('buyer', userId) });
    assert.equal(res.status, 200, res.text);
    return (res.body as { orders: OrderBody[] }).orders;
  }

  it('the seed journey: three sellers, three vouchers, $77.22, refusals in words, one paid order', async () => {
    const user = buyer('journey');
    const { page, shot } = await signIn(user);
    await page.getByRole('heading', { name: 'Catalog' }).waitFor();
    await shot('01-catalog');
    for (const name of ['Earbuds', 'T-shirt', 'Novel']) await addToCart(page, name);
    await page.getByRole('link', { name: 'Cart (3)' }).click();
    await page.getByRole('heading', { name: 'Your cart' }).waitFor();
    // Grouped by seller, each with its shipping fee.
    for (const [seller, fee] of [['Seller X', '$3.00'], ['Seller Y', '$3.00'], ['Seller Z', '$5.00']] as const) {
      await page.getByRole('heading', { name: `From ${seller} · shipping ${fee}` }).waitFor();
    }
    await shot('02-cart-without-vouchers');

    // Refusals in words: an unknown code, then (after the three) a second platform voucher.
    await applyVoucher(page, 'NOSUCHCODE');
    await page.getByText('There is no voucher “NOSUCHCODE”. Check the spelling.').waitFor();
    for (const code of [scenario.vouchers.x2off, scenario.vouchers.platform10, scenario.vouchers.freeship]) {
      await applyVoucher(page, code);
      await page.getByText(`Voucher “${code}” applied.`).waitFor();
    }
    const second = uniqueId('P5').toUpperCase().replace(/-/g, '_');
    const put = await h().request('PUT', `/v1/admin/vouchers/${second}`, { token: admin(), body: { scope: 'platform', type: 'percent', rateBps: 500 } });
    assert.equal(put.status, 200, put.text);
    await applyVoucher(page, second);
    await page.getByText(`The voucher “${second}” cannot be used on this cart: another voucher of the same kind is already applied`).waitFor();
    await shot('03-voucher-refused-in-words');

    // The breakdown: per line (X's $2 voucher funded by the seller, 10 % funded by the platform),
    // per seller (X's parcel $7.92 with free shipping) and the grand total.
    const lineA = page.getByTestId(`line-${scenario.skus.a}`);
    await lineA.getByText(`Voucher ${scenario.vouchers.x2off} (funded by the seller)`).waitFor();
    assert.match(await lineA.innerText(), /Voucher .* \(funded by the seller\)\s+−\$2\.00[\s\S]*funded by the platform\)\s+−\$0\.80[\s\S]*After discounts\s+\$7\.20[\s\S]*Tax\s+\$0\.72/);
    const sellerX = await page.getByTestId(`seller-total-${scenario.sellers.x}`).innerText();
    assert.match(sellerX, /Shipping\s+\$3\.00[\s\S]*Shipping discount \(funded by the platform\)\s+−\$3\.00[\s\S]*Parcel total\s+\$7\.92/);
    assert.match(await page.getByTestId('grand-total').innerText(), /Grand total\s+\$77\.22/);
    const totals = await page.locator('.totals').innerText();
    assert.match(totals, /Items\s+\$80\.00[\s\S]*\(funded by the seller\)\s+−\$2\.00[\s\S]*\(funded by the platform\)\s+−\$7\.80[\s\S]*Shipping\s+\$11\.00\s+Shipping discount: Voucher .* \(funded by the platform\)\s+−\$11\.00\s+Tax\s+\$7\.02/);
    assert.doesNotMatch(await page.locator('body').innerText(), /Loading the storefront/);
    await shot('04-cart-priced-77.22');

    await page.getByRole('button', { name: /^Place order · \$77\.22$/ }).click();
    const result = page.locator('#checkout-result');
    await result.getByText('is placed and paid').waitFor();
    await shot('05-order-placed');
    const orders = await ordersOf(user.userId);
    assert.equal(orders.length, 1);
    assert.equal(orders[0]!.status, 'COMPLETED');
    assert.equal(orders[0]!.pricing?.totals.grandTotal, 7722);
    journeyOrderId = orders[0]!.orderId;

    await result.getByRole('link', { name: journeyOrderId }).click();
    await page.getByRole('heading', { name: `Order ${journeyOrderId}` }).waitFor();
    assert.equal(await page.locator('[data-parcel] .parcel-status[data-status="HELD"]').count(), 3);
    await shot('06-order-page');
  });

  it('a seller ships from its parcel page and the buyer confirms receipt', async () => {
    assert.ok(journeyOrderId, 'the journey test made the order');
    const sellerUser = users.find((u) => u.role === 'seller')!;
    const seller = await signIn(sellerUser);
    await seller.page.getByRole('heading', { name: 'Parcels of Seller X' }).waitFor();
    const row = seller.page.locator(`tr[data-order="${journeyOrderId}"]`);
    // What X will be paid for the parcel: 800 - 40 commission + 300 shipping.
    assert.equal((await row.getByTestId('payout').innerText()).trim(), '$10.60');
    await seller.shot('07-seller-parcels');
    await row.getByRole('button', { name: `Ship order ${journeyOrderId}` }).click();
    await seller.page.getByText(`Parcel of order ${journeyOrderId} marked as shipped.`).waitFor();
    await seller.page.locator(`tr[data-order="${journeyOrderId}"][data-status="SHIPPED"]`).waitFor();
    await seller.shot('08-seller-shipped');

    const buyerUser = users.find((u) => u.label === 'Buyer (journey)')!;
    const { page, shot } = await signIn(buyerUser);
    await page.goto(`${shopUrl()}#/orders`);
    await page.getByRole('link', { name: journeyOrderId }).click();
    const parcel = page.locator(`[data-parcel="${scenario.sellers.x}"]`);
    await parcel.locator('.parcel-status[data-status="SHIPPED"]').waitFor();
    // Keyboard: focus the button and press Enter.
    const confirm = parcel.getByRole('button', { name: 'Confirm receipt of the parcel from Seller X' });
    await confirm.focus();
    await page.keyboard.press('Enter');
    await parcel.locator('.parcel-status[data-status="RELEASED"]').waitFor();
    await shot('09-buyer-confirmed');
    const order = await h().request('GET', `/v1/orders/${journeyOrderId}`, { token: admin() });
    assert.equal((order.body as OrderBody).parcels.find((p) => p.sellerId === scenario.sellers.x)?.status, 'RELEASED');
  });

  it('partial stock: "Only 3 available. Update quantity?" updates the cart in one click, then the order goes through', async () => {
    const sku = uniqueId('sku_scarce');
    const put = await h().request('PUT', `/v1/admin/products/${sku}`, {
      token: admin(),
      body: { sellerId: scenario.sellers.y, name: 'Scarce scarf', category: 'clothing', unitPrice: 1500, currency: 'USD', stock: 3 },
    });
    assert.equal(put.status, 200, put.text);
    const user = buyer('stock');
    const { page, shot } = await signIn(user);
    await addToCart(page, 'Scarce scarf', 5);
    await page.goto(`${shopUrl()}#/cart`);
    await page.getByRole('button', { name: /^Place order/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Only 3 available. Update quantity?').waitFor();
    await shot('10-partial-stock-dialog');
    await dialog.getByRole('button', { name: 'Update Scarce scarf to 3' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await page.getByLabel('Quantity of Scarce scarf').inputValue(), '3');
    await shot('11-quantity-updated');
    await page.getByRole('button', { name: /^Place order/ }).click();
    await page.locator('#checkout-result').getByText('is placed and paid').waitFor();
    const stock = await h().request('GET', `/v1/admin/products/${sku}`, { token: admin() });
    assert.deepEqual((stock.body as { stock: unknown }).stock, { onHand: 0, reserved: 0, sold: 3, available: 0 });
  });

  it('a declined card is explained and leaves the cart as it was', async () => {
    const user = buyer('declined');
    const { page, shot } = await signIn(user);
    await addToCart(page, 'Novel');
    await page.goto(`${shopUrl()}#/cart`);
    await page.getByLabel('Payment method').selectOption('tok_chargeDeclined');
    await page.getByRole('button', { name: /^Place order/ }).click();
    await page.locator('#checkout-error').getByText('Your payment was declined. Nothing was charged').waitFor();
    await shot('12-card-declined');
    assert.equal(await page.getByLabel('Quantity of Novel').inputValue(), '1');
    const orders = await ordersOf(user.userId);
    assert.deepEqual(orders.map((o) => o.status), ['FAILED']);
  });

  it('an asynchronous payment shows a pending state that turns into the result without a reload', async () => {
    const user = buyer('async');
    const { page, shot } = await signIn(user);
    await addToCart(page, 'T-shirt');
    await page.goto(`${shopUrl()}#/cart`);
    await page.getByLabel('Payment method').selectOption('tok_async');
    let navigations = 0;
    page.on('framenavigated', () => navigations++);
    await page.getByRole('button', { name: /^Place order/ }).click();
    await page.locator('#checkout-pending').getByText('Waiting for your payment to be confirmed…').waitFor();
    await shot('13-async-pending');
    await page.locator('#checkout-result').getByText('is placed and paid').waitFor({ timeout: 15_000 });
    await shot('14-async-completed');
    assert.equal(navigations, 0, 'the page was reloaded');
    assert.deepEqual((await ordersOf(user.userId)).map((o) => o.status), ['COMPLETED']);
  });

  it('a double click and a reload in the middle of the checkout place one order', async () => {
    const user = buyer('double');
    const { page, shot } = await signIn(user);
    await addToCart(page, 'Earbuds');
    await page.goto(`${shopUrl()}#/cart`);
    await page.getByRole('button', { name: /^Place order/ }).dblclick();
    // The same attempt (Idempotency-Key) survives the reload and is sent again.
    await page.reload();
    await page.locator('#checkout-result').getByText('is placed and paid').waitFor();
    await shot('15-double-click-one-order');
    const orders = await waitFor(() => ordersOf(user.userId), (list) => list.every((o) => o.status === 'COMPLETED'));
    assert.equal(orders.length, 1, JSON.stringify(orders.map((o) => o.orderId)));
    assert.equal(orders[0]!.status, 'COMPLETED');
  });
});

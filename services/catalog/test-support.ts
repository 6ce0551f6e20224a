/**
 * Test fixtures for the catalog, cart, inventory and voucher tests: uniquely named sellers and
 * products created through the catalog service (tests share one database and never truncate).
 */
import assert from 'node:assert/strict';
import { type AppError, BusinessError, ValidationError } from '../../lib/errors';
import { uniqueId } from '../../test/support/env';
import type { CatalogService } from './index';

export async function makeSeller(catalog: CatalogService, shippingFee = 300): Promise<string> {
  const sellerId = uniqueId('seller');
  await catalog.upsertSeller(sellerId, { name: `Seller ${sellerId}`, shippingFee });
  return sellerId;
}

export interface ProductSpec {
  sellerId: string;
  unitPrice?: number;
  currency?: string;
  category?: string;
  stock?: number;
}

export async function makeProduct(catalog: CatalogService, spec: ProductSpec): Promise<string> {
  const sku = uniqueId('sku');
  await catalog.upsertProduct(sku, {
    sellerId: spec.sellerId,
    name: `Product ${sku}`,
    category: spec.category ?? 'general',
    unitPrice: spec.unitPrice ?? 1000,
    currency: spec.currency ?? 'USD',
    stock: spec.stock ?? 100,
  });
  return sku;
}

/** Awaits a rejection and returns it as the expected error type. */
export async function rejectsWith<T extends AppError>(promise: Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof type, `expected ${type.name}, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    return err;
  }
  assert.fail(`expected ${type.name}, but the call succeeded`);
}

export async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<BusinessError> {
  const err = await rejectsWith(promise, BusinessError);
  assert.equal(err.code, code, err.message);
  return err;
}

export async function rejectsValidation(promise: Promise<unknown>, path?: string): Promise<ValidationError> {
  const err = await rejectsWith(promise, ValidationError);
  if (path !== undefined) {
    assert.ok(
      err.issues.some((i) => i.path === path),
      `expected an issue at ${path}, got ${JSON.stringify(err.issues)}`,
    );
  }
  return err;
}

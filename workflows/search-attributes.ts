/**
 * The project's custom search attributes. The stack manager registers them in the namespace, and
 * the workflows set them, so the Temporal Web UI and `temporal workflow list --query` can find, for
 * example, all failed checkouts of a buyer:
 *   temporal workflow list --query "BuyerId='u1' AND CheckoutStatus='FAILED'"
 * Workflow-safe: this module imports only @temporalio/common.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const searchAttributes = {
  orderId: defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD),
  buyerId: defineSearchAttributeKey('BuyerId', SearchAttributeType.KEYWORD),
  checkoutStatus: defineSearchAttributeKey('CheckoutStatus', SearchAttributeType.KEYWORD),
  sellerIds: defineSearchAttributeKey('SellerIds', SearchAttributeType.KEYWORD_LIST),
  grandTotalMinor: defineSearchAttributeKey('GrandTotalMinor', SearchAttributeType.INT),
} as const;

export const allSearchAttributeKeys = Object.values(searchAttributes);

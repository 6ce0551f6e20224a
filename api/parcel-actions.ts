/**
 * Where a parcel action goes. Orders placed on `orderWorkflow` hold their parcels in
 * `checkout:<orderId>` (the `parcelAction` Update, naming the seller); orders placed before it have
 * one legacy escrow workflow per parcel, `parcel:<orderId>:<sellerId>`, with one Update per action.
 * The parcel's row says which (`escrowWorkflowId`), so no extra call to Temporal is needed to find out.
 */
import type { Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { ParcelRecord } from '../services/orders';
import {
  checkoutWorkflowId,
  confirmReceiptUpdate,
  deliverUpdate,
  parcelActionUpdate,
  parcelWorkflowId,
  refundUpdate,
  shipUpdate,
  type ParcelAction,
  type ParcelActionInput,
  type ParcelState,
} from '../workflows/contract';

const legacyUpdates: Record<ParcelAction, UpdateDefinition<ParcelState, [ParcelActionInput]>> = {
  ship: shipUpdate,
  deliver: deliverUpdate,
  confirmReceipt: confirmReceiptUpdate,
  refund: refundUpdate,
};

/** The workflow id that holds a parcel. */
export function escrowWorkflowIdOf(orderId: string, parcel: Pick<ParcelRecord, 'sellerId' | 'escrowWorkflowId'>): string {
  return parcel.escrowWorkflowId ?? parcelWorkflowId(orderId, parcel.sellerId);
}

export async function sendParcelAction(
  client: Client,
  orderId: string,
  parcel: Pick<ParcelRecord, 'sellerId' | 'escrowWorkflowId'>,
  action: ParcelAction,
  input: ParcelActionInput,
): Promise<ParcelState> {
  const workflowId = escrowWorkflowIdOf(orderId, parcel);
  const handle = client.workflow.getHandle(workflowId);
  if (workflowId === checkoutWorkflowId(orderId)) {
    return handle.executeUpdate(parcelActionUpdate, { args: [{ ...input, sellerId: parcel.sellerId, action }] });
  }
  return handle.executeUpdate(legacyUpdates[action], { args: [input] });
}

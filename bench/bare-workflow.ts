// The bare reference: what Temporal alone costs for a workflow of a checkout's shape — three
// activities in a row, with the checkout's own activity options — and nothing else (no codec,
// no database, no child workflows). Bundled on its own by bench/bare-worker.ts, never with workflows/.
import { proxyActivities } from "@temporalio/workflow";
import { notificationActivityOptions, orderActivityOptions, paymentActivityOptions } from "../workflows/retry-policies.ts";
import type { BareActivities } from "./bare-activities.ts";

export async function bareCheckout(paymentRetryWindowSeconds: number): Promise<void> {
  const order = proxyActivities<BareActivities>(orderActivityOptions);
  const payment = proxyActivities<BareActivities>(paymentActivityOptions(paymentRetryWindowSeconds));
  const notification = proxyActivities<BareActivities>(notificationActivityOptions);
  await order.createOrder();
  await payment.initiatePayment();
  await notification.sendNotification();
}

export { archiveCheckoutHistory } from "./archive.ts";
export { archiveClosedRuns } from "./archive-batch.ts";
export { checkout } from "./checkout.ts";
export { customerRisk } from "./customer-risk.ts";
export { relayEvents } from "./event-relay.ts";
export { deliverEventBatch, publishEvent } from "./events.ts";
export { order } from "./order.ts";
export { refund } from "./refund.ts";
export { transfer } from "./transfer.ts";

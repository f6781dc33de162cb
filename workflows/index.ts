export { checkout } from "./checkout.ts";
export { publishEvent } from "./events.ts";
export { refund } from "./refund.ts";

export { checkout } from "./checkout.ts";
export { refund } from "./refund.ts";

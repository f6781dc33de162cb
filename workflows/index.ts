export { checkout } from "./checkout.ts";

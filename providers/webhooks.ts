// The replay window of signed webhooks: a delivery whose signed time is further than this from now
// (either way) is refused. Stripe's recommendation, used for every provider that signs a time
// (Stripe, PayPal, Mercado Pago, the sandbox). Razorpay signs no time: its replays are caught by
// their event id. This service's own deliveries follow Standard Webhooks, whose libraries keep the
// same five minutes (webhooks/signing.ts).

export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** Whether a signed time (milliseconds since the epoch) is within the tolerance of `now`. */
export function withinTolerance(signedAtMs: number, now = Date.now()): boolean {
  return Math.abs(now - signedAtMs) <= WEBHOOK_TOLERANCE_SECONDS * 1000;
}

// PAYMENT_RETRY_WINDOW_SECONDS must stay below the key retention of every configured provider:
// a retry within the window then always reaches a provider that still remembers the key.
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../config.ts";
import { createGatewayRegistry } from "../../providers/index.ts";

const sandbox = { enabled: true, url: "http://127.0.0.1:1/sandbox", webhookSecret: "whsec_x" };
/** Next to a real provider the sandbox is refused (test/unit/config.test.ts). */
const noSandbox = { enabled: false, webhookSecret: "" };
const stripe = { STRIPE_SECRET_KEY: "sk_test_1", STRIPE_WEBHOOK_SECRET: "whsec_1", RETURN_URL: "https://shop.example/r" };
const paypal = { PAYPAL_CLIENT_ID: "id", PAYPAL_CLIENT_SECRET: "secret", PAYPAL_WEBHOOK_ID: "wh" };

describe("the payment retry window against the providers' key retention", () => {
  it("is free with the sandbox alone, which never forgets a key", () => {
    expect(createGatewayRegistry({}, sandbox, 7 * 24 * 3600).has("sandbox")).toBe(true);
  });

  it("must stay below Stripe's day", () => {
    expect(createGatewayRegistry(stripe, noSandbox, 24 * 3600 - 1).has("stripe")).toBe(true);
    expect(() => createGatewayRegistry(stripe, noSandbox, 24 * 3600)).toThrow(ConfigError);
    expect(() => createGatewayRegistry(stripe, noSandbox, 24 * 3600)).toThrow(/PAYMENT_RETRY_WINDOW_SECONDS \(86400\).*stripe/);
  });

  it("and below the shortest of several: PayPal's six hours", () => {
    expect(() => createGatewayRegistry({ ...stripe, ...paypal }, noSandbox, 6 * 3600)).toThrow(
      /PAYMENT_RETRY_WINDOW_SECONDS \(21600\) must be below 21600: paypal/,
    );
    expect(createGatewayRegistry({ ...stripe, ...paypal }, noSandbox, 900).has("paypal")).toBe(true);
  });
});

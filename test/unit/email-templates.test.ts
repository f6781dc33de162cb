import { describe, expect, it } from "vitest";
import { renderEmail } from "../../activities/email-templates.ts";
import type { NotificationRequest } from "../../workflows/types.ts";

const request = (overrides: Partial<NotificationRequest> = {}): NotificationRequest => ({
  checkoutId: "chk_0123456789abcdef0123456789abcdef",
  template: "order-paid",
  recipient: "ada@example.com",
  order: { orderId: "ord_42", totalAmount: 5198, currency: "USD" },
  items: [
    { sku: "tee", name: "T-shirt", quantity: 2, unitAmount: 1999 },
    { sku: "mug", name: "Mug", quantity: 1, unitAmount: 1200 },
  ],
  ...overrides,
});

const TAG = /<[a-z/][^>]*>/i;

describe("renderEmail", () => {
  it("order-paid: subject with the total, each item with its line total, and the total, in both parts", () => {
    const mail = renderEmail(request());
    expect(mail.subject).toBe("Payment received: $51.98");

    expect(mail.text).toContain("2 × T-shirt  $39.98");
    expect(mail.text).toContain("1 × Mug  $12.00");
    expect(mail.text).toContain("Total  $51.98");
    expect(mail.text).toContain("ord_42");
    expect(mail.text).toContain("chk_0123456789abcdef0123456789abcdef");
    expect(mail.text).not.toMatch(TAG);

    expect(mail.html).toContain('<tr><td>2 × T-shirt</td><td align="right">$39.98</td></tr>');
    expect(mail.html).toContain('<tr><td>1 × Mug</td><td align="right">$12.00</td></tr>');
    expect(mail.html).toContain("<strong>$51.98</strong>");
    expect(mail.html).toContain("ord_42");
  });

  it("uses the order's currency and its minor units", () => {
    const mail = renderEmail(
      request({
        order: { orderId: "ord_1", totalAmount: 3600, currency: "JPY" },
        items: [{ sku: "mug", name: "Mug", quantity: 3, unitAmount: 1200 }],
      }),
    );
    expect(mail.subject).toBe("Payment received: ¥3,600");
    expect(mail.text).toContain("3 × Mug  ¥3,600");
  });

  it("payment-failed: names the amount and the reason, and says nothing was charged", () => {
    const mail = renderEmail(request({ template: "payment-failed", reason: "Your card has expired." }));
    expect(mail.subject).toBe("Your payment of $51.98 did not go through");
    expect(mail.text).toContain("Reason: Your card has expired.");
    expect(mail.text).toContain("You have not been charged.");
    expect(mail.text).not.toMatch(TAG);
    expect(mail.html).toContain("<p>Reason: Your card has expired.</p>");
    expect(mail.html).toContain("<strong>$51.98</strong>");
  });

  it("payment-failed without a reason gives a generic one", () => {
    const mail = renderEmail(request({ template: "payment-failed" }));
    expect(mail.text).toContain("Reason: The payment could not be completed.");
    expect(mail.html).toContain("Reason: The payment could not be completed.");
  });

  it("checkout-cancelled: says the order was cancelled before payment", () => {
    const mail = renderEmail(request({ template: "checkout-cancelled" }));
    expect(mail.subject).toBe("Your order was cancelled");
    expect(mail.text).toContain("Your order of $51.98 was cancelled before any payment was taken.");
    expect(mail.text).toContain("ord_42");
    expect(mail.text).not.toMatch(TAG);
    expect(mail.html).toContain("<strong>$51.98</strong>");
    expect(mail.html).toContain("ord_42");
  });

  it("checkout-failed: no order to name, only the checkout; the reason, and that nothing was charged", () => {
    const mail = renderEmail(
      request({
        template: "checkout-failed",
        order: { orderId: "", totalAmount: 5198, currency: "USD" },
        reason: "We could not record your order, so no payment was taken.",
      }),
    );
    expect(mail.subject).toBe("We could not take your order");
    expect(mail.text).toContain("We could not take your order: We could not record your order, so no payment was taken.");
    expect(mail.text).toContain("You have not been charged.");
    expect(mail.text).toContain("Checkout chk_0123456789abcdef0123456789abcdef");
    expect(mail.text).not.toContain("Order ");
    expect(mail.text).not.toMatch(TAG);
  });

  it.each(["order-paid", "payment-failed", "checkout-cancelled", "checkout-failed"] as const)(
    "%s has a subject, a text part and an HTML part",
    (template) => {
      const mail = renderEmail(request({ template }));
      expect(mail.subject.length).toBeGreaterThan(0);
      expect(mail.text.trim().length).toBeGreaterThan(0);
      expect(mail.html).toMatch(/^<p>.*<\/p>$/s);
      expect(mail.text).not.toBe(mail.html);
    },
  );

  it("escapes HTML in item names and reasons, and leaves the text part as written", () => {
    const evil = '<script>alert("x")</script> & <b>bold</b>';
    const mail = renderEmail(
      request({
        template: "order-paid",
        items: [{ sku: "x", name: evil, quantity: 1, unitAmount: 5198 }],
      }),
    );
    expect(mail.html).not.toContain("<script>");
    expect(mail.html).not.toContain("<b>");
    expect(mail.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;");
    expect(mail.text).toContain(evil);

    const failed = renderEmail(request({ template: "payment-failed", reason: "<img src=x onerror='alert(1)'>" }));
    expect(failed.html).not.toContain("<img");
    expect(failed.html).toContain("&lt;img src=x onerror=&#39;alert(1)&#39;&gt;");
  });
});

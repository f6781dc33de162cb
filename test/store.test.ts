// The storefront (/store) in headless Chromium (Debian's package, driven by playwright-core), on
// the real stack: a newcomer buys T-shirts and watches the checkout's status change, pays again
// after a decline, authenticates on the sandbox bank's 3-D Secure page, sees the order delivered
// by the timer, cancels a paid order and sees its refund, and finds the past orders again after a
// reload. Every assertion on the page has its twin on the server (the checkout with the secret
// key, the sandbox's charges: one successful charge per purchase), and the page calls the API with
// the publishable key only. An API not handed a key for the store has no /store. Screenshots of
// each scenario (how it ended, passed or not) are kept in test-results/store/ (git-ignored).
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../config.ts";
import { CHROMIUM_ARGS, findChromium } from "./support/chromium.ts";
import { call, chargesFor } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

const chromiumPath = findChromium("store.test.ts");

const artifacts = path.join(projectRoot, "test-results", "store");
const uniqueCustomer = (name: string) => `cus_${name}_${randomBytes(4).toString("hex")}`;

// Each takes a few seconds; the margin is for a busy machine (each wait below has its own bound).
describe.skipIf(!chromiumPath)("the storefront", { timeout: 90_000 }, () => {
  /** Pays again within 15 minutes; no delivery timer, so that a paid order stays paid until cancelled. */
  let shop: TestStack;
  /** Delivers a paid order 2 s after its payment. */
  let delivering: TestStack;
  /** As any API but npm start's: not handed a key for the store. */
  let plain: TestStack;
  let browser: Browser;

  beforeAll(async () => {
    [shop, delivering, plain, browser] = await Promise.all([
      startTestStack({ store: true, env: { PAY_AGAIN_WINDOW_SECONDS: "900" } }),
      startTestStack({ store: true, env: { FULFILMENT_AUTO_DELIVER_SECONDS: "2" } }),
      startTestStack({ startWorker: false }),
      chromium.launch({
        executablePath: chromiumPath,
        headless: true,
        args: CHROMIUM_ARGS,
      }),
    ]);
    await mkdir(artifacts, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([shop?.stop(), delivering?.stop(), plain?.stop()]);
  });

  /** A browser of its own (its own localStorage), in en-US, remembering every Authorization header the page sent. */
  async function customerBrowser() {
    const context = await browser.newContext({ locale: "en-US", viewport: { width: 1200, height: 1000 } });
    const authorizations = new Set<string>();
    context.on("request", (request) => {
      const header = request.headers().authorization;
      if (header) authorizations.add(header);
    });
    return { context, authorizations };
  }

  /** Runs a scenario on a page of the store, keeping a screenshot of how it ended (passed or not). */
  async function onStore(context: BrowserContext, stack: TestStack, name: string, scenario: (page: Page) => Promise<void>) {
    const page = await context.newPage();
    try {
      await page.goto(`${stack.url}/store`);
      await page.locator("body[data-ready=true]").waitFor({ timeout: 10_000 });
      await scenario(page);
    } finally {
      await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true }).catch(() => {});
    }
  }

  /** Fills the form and clicks Pay; resolves with the checkout id the page shows. */
  async function buy(page: Page, order: { customerId: string; items: Record<string, number>; scenario: string }) {
    await page.fill("#email", "ada.store@example.com");
    await page.fill("#customer-id", order.customerId);
    for (const [sku, quantity] of Object.entries(order.items)) await page.fill(`#qty-${sku}`, String(quantity));
    await page.check(`#scenario-${order.scenario}`);
    const before = await text(page, "#checkout-id"); // the page's earlier checkout, if any
    await page.click("#pay");
    await expect
      .poll(() => text(page, "#checkout-id"), { timeout: 10_000 })
      .toSatisfy((id: string) => /^chk_/.test(id) && id !== before);
    return text(page, "#checkout-id");
  }

  const text = async (page: Page, selector: string) => ((await page.locator(selector).textContent()) ?? "").trim();
  const checkoutStatus = (page: Page) => text(page, "#checkout-status");
  const history = async (page: Page) =>
    (await page.locator("#status-history li").allTextContents()).map((s) => s.split(" ").pop());

  /** The server's own view, with the stack's secret key. */
  async function serverCheckout(stack: TestStack, id: string) {
    const res = await call(stack.url, "GET", `/checkouts/${id}`);
    expect(res.status).toBe(200);
    return res.json;
  }

  it("buys two T-shirts: the status shows live, the total is formatted, and the order is delivered by the timer", async () => {
    const { context, authorizations } = await customerBrowser();
    let checkoutId = "";
    await onStore(context, delivering, "delivered", async (page) => {
      const customerId = uniqueCustomer("delivered");
      await page.fill("#qty-tee-black", "2");
      await expect.poll(() => text(page, "#basket-total")).toBe("$39.98");
      checkoutId = await buy(page, { customerId, items: { "tee-black": 2 }, scenario: "approve" });
      await expect.poll(() => checkoutStatus(page), { timeout: 20_000 }).toBe("COMPLETED");
      expect(await text(page, "#checkout-message")).toContain("Paid");
      const orderId = await text(page, "#order-id");
      expect(orderId).not.toBe("");
      await expect.poll(() => text(page, "#order-status"), { timeout: 30_000 }).toBe("DELIVERED");
      const row = page.locator(`#order-${orderId}`);
      expect(await row.locator(".order-total").textContent()).toBe("$39.98");
      expect(await row.locator(".order-status").textContent()).toBe("DELIVERED");
    });
    const checkout = await serverCheckout(delivering, checkoutId);
    expect(checkout).toMatchObject({ status: "COMPLETED", order: { status: "DELIVERED", totalAmount: 3998, currency: "USD" } });
    expect(checkout.metadata).toEqual({ source: "store" });
    const charges = await chargesFor(delivering.url, checkoutId);
    expect(charges.map((c) => [c.status, c.amount, c.currency])).toEqual([["SUCCEEDED", 3998, "USD"]]);
    // The page called the API with the stack's publishable key and nothing else.
    expect([...authorizations]).toEqual([`Bearer ${delivering.publishableKey}`]);
    await context.close();
  });

  it("after a decline, offers another card and pays again: one successful charge", async () => {
    const { context } = await customerBrowser();
    let checkoutId = "";
    await onStore(context, shop, "decline-then-pay-again", async (page) => {
      checkoutId = await buy(page, { customerId: uniqueCustomer("declined"), items: { hoodie: 1 }, scenario: "decline" });
      await expect.poll(() => checkoutStatus(page), { timeout: 20_000 }).toBe("REQUIRES_PAYMENT_METHOD");
      expect(await text(page, "#checkout-message")).toContain("declined");
      await page.locator("#pay-again-form").waitFor({ state: "visible" });
      await page.check("#pay-again-scenario-approve");
      await page.click("#pay-again");
      await expect.poll(() => checkoutStatus(page), { timeout: 20_000 }).toBe("COMPLETED");
      expect(await page.locator("#pay-again-form").isHidden()).toBe(true);
      const seen = await history(page);
      expect(seen.indexOf("REQUIRES_PAYMENT_METHOD")).toBeLessThan(seen.indexOf("COMPLETED"));
      await expect.poll(() => text(page, "#order-status"), { timeout: 10_000 }).toBe("PAID");
    });
    const checkout = await serverCheckout(shop, checkoutId);
    expect(checkout).toMatchObject({ status: "COMPLETED", order: { status: "PAID", totalAmount: 4500 } });
    const charges = await chargesFor(shop.url, checkoutId);
    expect(charges.map((c) => c.status).sort()).toEqual(["DECLINED", "SUCCEEDED"]);
    await context.close();
  });

  it("asks for 3-D Secure: the bank's page opens, the customer approves there, and the checkout completes", async () => {
    const { context } = await customerBrowser();
    let checkoutId = "";
    await onStore(context, shop, "3ds", async (page) => {
      checkoutId = await buy(page, { customerId: uniqueCustomer("3ds"), items: { "tee-white": 1, socks: 3 }, scenario: "3ds" });
      await expect.poll(() => checkoutStatus(page), { timeout: 20_000 }).toBe("REQUIRES_ACTION");
      const link = page.locator("#action-link");
      await link.waitFor({ state: "visible" });
      expect(await link.getAttribute("href")).toMatch(/\/sandbox\/charges\/[^/]+\/authenticate$/);
      const [bank] = await Promise.all([context.waitForEvent("page"), link.click()]);
      try {
        await bank.waitForLoadState();
        await bank.getByRole("button", { name: "Approve" }).click();
        await expect.poll(() => text(bank, "#result"), { timeout: 10_000 }).toContain("Done");
        await bank.screenshot({ path: path.join(artifacts, "3ds-bank.png") });
      } finally {
        await bank.close();
      }
      await expect.poll(() => checkoutStatus(page), { timeout: 20_000 }).toBe("COMPLETED");
      expect(await page.locator("#action").isHidden()).toBe(true);
      expect(await history(page)).toContain("REQUIRES_ACTION");
    });
    expect(await serverCheckout(shop, checkoutId)).toMatchObject({ status: "COMPLETED", order: { totalAmount: 1799 + 3 * 599 } });
    expect((await chargesFor(shop.url, checkoutId)).map((c) => c.status)).toEqual(["SUCCEEDED"]);
    await context.close();
  });

  it("cancels a paid order from the past orders and shows its refund", async () => {
    const { context } = await customerBrowser();
    let checkoutId = "";
    let orderId = "";
    let refundText = "";
    await onStore(context, shop, "cancel-refund", async (page) => {
      checkoutId = await buy(page, { customerId: uniqueCustomer("cancel"), items: { "tee-black": 1 }, scenario: "approve" });
      await expect.poll(() => checkoutStatus(page), { timeout: 20_000 }).toBe("COMPLETED");
      orderId = await text(page, "#order-id");
      const row = page.locator(`#order-${orderId}`);
      await expect.poll(() => row.locator(".order-status").textContent(), { timeout: 10_000 }).toBe("PAID");
      await page.click(`#cancel-${orderId}`);
      await expect.poll(() => row.locator(".order-status").textContent(), { timeout: 30_000 }).toBe("CANCELLED");
      refundText = await text(page, `#order-${orderId} .order-refund`);
      expect(refundText).toMatch(/^Refunded in full \(\S+\)$/);
      expect(await text(page, "#orders-message")).toContain("cancelled: refund");
      expect(await page.locator(`#cancel-${orderId}`).count()).toBe(0);
    });
    const order = await call(shop.url, "GET", `/orders/${orderId}`);
    expect(order.json.status).toBe("CANCELLED");
    expect(refundText).toBe(`Refunded in full (${order.json.cancellation.refundId})`);
    const refunds = await call(shop.url, "GET", `/checkouts/${checkoutId}/refunds`);
    expect(refunds.json.data.map((r: any) => [r.id, r.status, r.amount])).toEqual([
      [order.json.cancellation.refundId, "SUCCEEDED", 1999],
    ]);
    const charges = await chargesFor(shop.url, checkoutId);
    expect(charges.map((c: any) => [c.status, c.amount, c.refundedAmount])).toEqual([["SUCCEEDED", 1999, 1999]]);
    await context.close();
  });

  it("lists the past orders of this browser's customer after a reload, and keeps only the publishable key", async () => {
    const { context, authorizations } = await customerBrowser();
    const customerId = uniqueCustomer("past");
    const ids: string[] = [];
    await onStore(context, shop, "past-orders", async (page) => {
      // A slow payment shows RUNNING first.
      ids.push(await buy(page, { customerId, items: { socks: 2 }, scenario: "slow" }));
      await expect.poll(() => history(page), { timeout: 10_000 }).toContain("RUNNING");
      await expect.poll(() => checkoutStatus(page), { timeout: 20_000 }).toBe("COMPLETED");
      await page.fill("#qty-socks", "0");
      ids.push(await buy(page, { customerId, items: { hoodie: 2 }, scenario: "approve" }));
      await expect.poll(() => checkoutStatus(page), { timeout: 20_000 }).toBe("COMPLETED");

      await page.reload();
      await page.locator("body[data-ready=true]").waitFor();
      expect(await page.inputValue("#customer-id")).toBe(customerId);
      const rows = page.locator("#orders-body tr");
      await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(2);
      // Newest first, amounts formatted from minor units.
      expect(await rows.locator(".order-total").allTextContents()).toEqual(["$90.00", "$11.98"]);
      expect(await rows.locator(".order-status").allTextContents()).toEqual(["PAID", "PAID"]);
      await page.screenshot({ path: path.join(artifacts, "past-orders-listed.png"), fullPage: true });
      // The last checkout is shown again as it ended.
      await expect.poll(() => checkoutStatus(page)).toBe("COMPLETED");
      expect(await text(page, "#checkout-id")).toBe(ids[1]);

      const stored = await page.evaluate(() => JSON.stringify(localStorage));
      expect(stored).toContain(customerId);
      expect(stored).not.toContain("sk_");
      expect(await page.content()).not.toContain(shop.secretKey);

      // Another customer id has no orders from this browser.
      await page.fill("#customer-id", uniqueCustomer("nobody"));
      await page.click("#refresh-orders");
      await expect.poll(() => text(page, "#orders-message")).toMatch(/^No orders from this browser/);
      expect(await page.locator("#orders").isHidden()).toBe(true);
    });
    const listed = await call(shop.url, "GET", `/customers/${customerId}/orders`);
    expect(listed.json.data.map((o: any) => o.checkoutId)).toEqual([ids[1], ids[0]]);
    for (const id of ids) expect((await chargesFor(shop.url, id)).map((c) => c.status)).toEqual(["SUCCEEDED"]);
    expect([...authorizations]).toEqual([`Bearer ${shop.publishableKey}`]);
    await context.close();
  });

  it("hands the page its stack's publishable key; an API not given one has no store and exposes no key", async () => {
    const config = await call(shop.url, "GET", "/store/config.json", undefined, { authorization: "" });
    expect(config.status).toBe(200);
    expect(config.json).toEqual({ publishableKey: shop.publishableKey });
    for (const file of ["/store", "/store/store.js", "/store/store.css", "/store/config.json"]) {
      const res = await call(plain.url, "GET", file, undefined, { authorization: "" });
      expect(res.status, file).toBe(404);
      expect(res.text).not.toContain("pk_");
    }
  });
});

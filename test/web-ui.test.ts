// The Temporal Web UI tells a checkout's story: in headless Chromium (Debian's package, driven by
// playwright-core), the workflow list finds a completed checkout by a search attribute, and its
// page shows the three steps and the checkout's input, the payloads (encrypted on the server)
// decoded through the codec server, as `npm start` wires it. The test runs its own dev server,
// whose Web UI URL it knows.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type CodecServer, startCodecServer } from "../codec/server.ts";
import { projectRoot } from "../config.ts";
import { freePort } from "../infra/free-port.ts";
import { type DevServer, startTemporalDevServer } from "../infra/temporal-dev-server.ts";
import { CHROMIUM_ARGS, findChromium } from "./support/chromium.ts";
import { startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { runCodec, startTestStack, type TestStack } from "./support/stack.ts";

const chromiumPath = findChromium("web-ui.test.ts");

const screenshot = path.join(projectRoot, "test-results", "web-ui-checkout.png");

describe.skipIf(!chromiumPath)("the Temporal Web UI", () => {
  let dev: DevServer;
  let codec: CodecServer;
  let stack: TestStack;
  let profile: string;
  let browser: BrowserContext;

  beforeAll(async () => {
    // As start.ts does: the codec server first, answering the UI's origin; the UI is given its endpoint.
    const uiPort = await freePort();
    codec = await startCodecServer({
      codec: runCodec(),
      token: randomBytes(24).toString("hex"),
      corsOrigins: [`http://127.0.0.1:${uiPort}`],
      host: "127.0.0.1",
      port: 0,
    });
    dev = await startTemporalDevServer({
      cli: inject("temporalCli"),
      port: await freePort(),
      uiPort,
      namespace: "default",
      codecEndpoint: codec.uiEndpoint,
    });
    stack = await startTestStack({ temporalAddress: dev.address });
    profile = await mkdtemp(path.join(tmpdir(), "checkout-chromium-"));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 1000 },
    });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await dev?.stop();
    await codec?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it("lists the completed checkout by CheckoutStatus and shows its three steps and its input, decoded", async () => {
    const email = "ada.webui@example.com";
    const id = await startCheckout(stack.url, validCheckout("tok_approve", { customer: { id: "cus_1", email } }));
    expect((await waitForCheckout(stack.url, id)).status).toBe("COMPLETED");
    const workflowId = `checkout-${id}`;
    const page = await browser.newPage();
    try {
      // The list, filtered by a search attribute (once visibility has caught up with the status).
      const query = 'CheckoutStatus="COMPLETED"';
      await expect.poll(() => listed(stack, query), { timeout: 15_000 }).toContain(workflowId);
      await page.goto(`${dev.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
      const row = page.locator(`a[href*="/workflows/${workflowId}/"]`).first();
      await row.waitFor({ timeout: 15_000 });
      await expect.poll(() => pageText(page)).toContain('CheckoutStatus = "COMPLETED"');
      // The event-publishing child workflows (also completed) carry no CheckoutStatus: the query leaves them out.
      expect(await page.locator('a[href*="/workflows/event-"]').count()).toBe(0);

      await row.click();
      await page.waitForURL(new RegExp(`/workflows/${workflowId}/[^/]+/`));
      // The timeline names each activity with its summary; the order step, a local activity (a
      // marker), by its name.
      const steps = [
        "createOrder",
        "initiatePayment • charge 3998 USD via sandbox",
        "sendNotification • email order-paid to the customer",
      ];
      await expect
        .poll(() => pageText(page), { timeout: 15_000 })
        .toSatisfy((text: string) => steps.every((step) => text.includes(step)));
      // The summaries above and the input below are encrypted on the server: the page shows them
      // because the UI decoded them through the codec server (its endpoint, token in the path).
      await expect.poll(() => pageText(page), { timeout: 15_000 }).toContain(email);
    } finally {
      await mkdir(path.dirname(screenshot), { recursive: true });
      await page.screenshot({ path: screenshot, fullPage: true });
      await page.close();
    }
    expect(existsSync(screenshot)).toBe(true);
  });
});

/** The page's text, whitespace collapsed. */
async function pageText(page: Page): Promise<string> {
  return ((await page.locator("body").textContent()) ?? "").replace(/\s+/g, " ");
}

/** Workflow ids the server lists for a visibility query. */
async function listed(stack: TestStack, query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const workflow of stack.temporal.workflow.list({ query })) ids.push(workflow.workflowId);
  return ids;
}

// The search attributes are defined once (workflows/definitions.ts); the worker registers them on
// servers that lack them, and the real `temporal` CLI then sees them and finds checkouts by them.
// Every activity carries a summary, so the history (and the Web UI) reads as a story.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { Connection } from "@temporalio/client";
import { defaultPayloadConverter } from "@temporalio/common";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { fetchDecodedHistory } from "../codec/history.ts";
import { ensureSearchAttributes } from "../infra/search-attributes.ts";
import { searchAttributes } from "../workflows/definitions.ts";
import { stepTypeOf } from "./support/history-steps.ts";
import { startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";
import { listWorkflowIds } from "./support/workflow-list.ts";

const run = promisify(execFile);

it("registers missing search attributes once, visible to the temporal CLI", async () => {
  const address = inject("temporalAddress");
  const namespace = `ns-${randomBytes(4).toString("hex")}`;
  await run(inject("temporalCli"), ["operator", "namespace", "create", "--namespace", namespace, "--address", address]);
  const connection = await Connection.connect({ address });
  try {
    const names = Object.values(searchAttributes).map((k) => k.name);
    expect((await ensureSearchAttributes(connection, namespace)).sort()).toEqual([...names].sort());
    expect(await ensureSearchAttributes(connection, namespace)).toEqual([]);

    const { stdout } = await run(inject("temporalCli"), [
      "operator",
      "search-attribute",
      "list",
      "--namespace",
      namespace,
      "--address",
      address,
      "-o",
      "json",
    ]);
    const expected = Object.fromEntries(Object.values(searchAttributes).map((k) => [k.name, `INDEXED_VALUE_TYPE_${k.type}`]));
    expect(JSON.parse(stdout).customAttributes).toEqual(expected);
  } finally {
    await connection.close();
  }
});

describe("a checkout's search attributes and activity summaries", () => {
  let stack: TestStack;
  const customerId = `cus_sa_${randomBytes(4).toString("hex")}`;
  const body = (token: string) => validCheckout(token, { customer: { id: customerId, email: "ada@example.com" } });
  let failed: string;
  let completed: string;

  beforeAll(async () => {
    stack = await startTestStack();
    [failed, completed] = await Promise.all([
      startCheckout(stack.url, body("tok_decline")),
      startCheckout(stack.url, body("tok_approve")),
    ]);
    expect((await waitForCheckout(stack.url, failed)).status).toBe("FAILED");
    expect((await waitForCheckout(stack.url, completed)).status).toBe("COMPLETED");
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const listIds = (query: string, expected: string[]) => listWorkflowIds(query, stack.taskQueue, expected);

  it("the temporal CLI finds the failed one by status and provider", async () => {
    expect(await listIds('CheckoutStatus="FAILED" AND PaymentProvider="sandbox"', [`checkout-${failed}`])).toEqual([
      `checkout-${failed}`,
    ]);
    expect(await listIds('CheckoutStatus="COMPLETED"', [`checkout-${completed}`])).toEqual([`checkout-${completed}`]);
  });

  it("the temporal CLI finds both by customer, by order total range and by risk level", async () => {
    const both = [`checkout-${failed}`, `checkout-${completed}`].sort();
    expect(await listIds(`CustomerId="${customerId}"`, both)).toEqual(both);
    expect(await listIds("OrderTotal >= 3998 AND OrderTotal < 4000", both)).toEqual(both);
    expect(await listIds('RiskLevel="LOW"', both)).toEqual(both);
    expect(await listIds('RiskLevel="HIGH"', [])).toEqual([]);

    const { typedSearchAttributes } = await stack.temporal.workflow.getHandle(`checkout-${completed}`).describe();
    expect(typedSearchAttributes.get(searchAttributes.RiskLevel)).toBe("LOW");
    expect(typedSearchAttributes.get(searchAttributes.OrderTotal)).toBe(3998);
    expect(typedSearchAttributes.get(searchAttributes.Country)).toBeUndefined(); // the request carries none yet
  });

  it("every activity in the history has a readable summary without an email address", async () => {
    expect(await activitySummaries(completed)).toEqual([
      ["createOrder", "create order"],
      ["initiatePayment", "charge 3998 USD via sandbox"],
      ["sendNotification", "email order-paid to the customer"],
    ]);
    expect(await activitySummaries(failed)).toEqual([
      ["createOrder", "create order"],
      ["initiatePayment", "charge 3998 USD via sandbox"],
      ["markPaymentFailed", "mark the order payment failed (card_declined)"],
      // Every decline is reported (a no-op while RISK_MAX_FAILED_PAYMENTS is 0, as in these tests).
      ["reportPaymentFailure", `report the decline to customer ${customerId}'s risk check`],
      ["sendNotification", "email payment-failed to the customer"],
    ]);
  });

  /**
   * [activity type, summary] of each ActivityTaskScheduled event and each local activity's marker
   * (the order step); no summary may hold an "@".
   */
  async function activitySummaries(checkoutId: string): Promise<Array<[string, string]>> {
    const history = await fetchDecodedHistory(stack.temporal, `checkout-${checkoutId}`);
    const summaries = (history.events ?? []).flatMap((e): Array<[string, string]> => {
      const type = stepTypeOf(e);
      return type === undefined ? [] : [[type, defaultPayloadConverter.fromPayload<string>(e.userMetadata?.summary ?? {})]];
    });
    for (const [, summary] of summaries) expect(summary).not.toContain("@");
    return summaries;
  }
});

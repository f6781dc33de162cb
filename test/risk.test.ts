// Unusual activity: declined payments of one customer (2 within 60 s here) hold their new
// checkouts for a while (4 s here) with 429 and Retry-After. The customer's risk workflow
// (customer-risk-<id>) decides; each decision, the hold and its end stand in its history.
import { randomBytes } from "node:crypto";
import { defaultPayloadConverter, WorkflowNotFoundError } from "@temporalio/common";
import type { temporal } from "@temporalio/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchDecodedHistory } from "../codec/history.ts";
import type { customerRisk } from "../workflows/customer-risk.ts";
import { customerRiskWorkflowId, searchAttributes } from "../workflows/definitions.ts";
import { emptyRiskState, type RiskState } from "../workflows/risk-rules.ts";
import type { CheckoutInput, RiskDecision } from "../workflows/types.ts";
import { call, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";
import { listWorkflowIds } from "./support/workflow-list.ts";

const HOLD_SECONDS = 4;

describe("unusual activity", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      env: { RISK_MAX_FAILED_PAYMENTS: "2", RISK_WINDOW_SECONDS: "60", RISK_HOLD_SECONDS: String(HOLD_SECONDS) },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const newCustomer = () => `cus_risk_${randomBytes(4).toString("hex")}`;
  const bodyFor = (customerId: string, token: string) =>
    validCheckout(token, { customer: { id: customerId, email: "ada@example.com" } });
  const post = (body: unknown, key: string) => call(stack.url, "POST", "/checkouts", body, { "idempotency-key": key });
  const key = (name: string) => `risk-${randomBytes(6).toString("hex")}-${name}`;
  const riskLevelOf = async (workflowId: string) =>
    (await stack.temporal.workflow.getHandle(workflowId).describe()).typedSearchAttributes.get(searchAttributes.RiskLevel);

  /** Starts a checkout that the sandbox declines and waits until it has FAILED (and been reported). */
  async function decline(customerId: string): Promise<string> {
    const id = await startCheckout(stack.url, bodyFor(customerId, "tok_decline"), key("decline"));
    expect((await waitForCheckout(stack.url, id)).status).toBe("FAILED");
    return id;
  }

  it("holds a customer's new checkouts after 2 declines, with 429 and Retry-After, then lets them through", async () => {
    const customerId = newCustomer();
    const riskWorkflowId = customerRiskWorkflowId(stack.merchantId, customerId);
    const earlierKey = key("earlier");
    const earlier = await startCheckout(stack.url, bodyFor(customerId, "tok_approve"), earlierKey);
    expect((await waitForCheckout(stack.url, earlier)).status).toBe("COMPLETED");
    expect(await riskLevelOf(`checkout-${earlier}`)).toBe("LOW");

    const first = await decline(customerId);
    expect(await riskLevelOf(riskWorkflowId)).toBe("MEDIUM");
    const second = await decline(customerId);
    expect(await riskLevelOf(`checkout-${second}`)).toBe("MEDIUM"); // one decline was on record when it started

    // The third is held: 429, Retry-After, the shared error shape, and no workflow.
    const heldKey = key("held");
    const heldBody = bodyFor(customerId, "tok_approve");
    const held = await post(heldBody, heldKey);
    const heldAt = Date.now(); // Retry-After counts from the answer
    expect(held.status, held.text).toBe(429);
    const retryAfter = Number(held.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(HOLD_SECONDS);
    expect(held.json.error).toMatchObject({
      code: "customer_on_hold",
      fields: [{ field: "customer.id", reason: expect.stringMatching(/^on hold until \d{4}-\d\d-\d\dT/) }],
    });
    expect(held.json.error.message).toMatch(
      /^Too many declined payments: 2 declined payments since \S+; new checkouts are held until \S+\.$/,
    );
    const heldId = (
      await stack.db.idempotencyKey.findUniqueOrThrow({
        where: { merchantId_key: { merchantId: stack.merchantId, key: heldKey } },
      })
    ).checkoutId;
    await expect(stack.temporal.workflow.getHandle(`checkout-${heldId}`).describe()).rejects.toBeInstanceOf(
      WorkflowNotFoundError,
    );

    // While held: a retried POST of an earlier checkout gets that checkout, another customer is
    // not affected, and the risk workflow shows HIGH (to the SDK and to the temporal CLI).
    const [retried, other, level, listed] = await Promise.all([
      post(bodyFor(customerId, "tok_approve"), earlierKey),
      post(bodyFor(newCustomer(), "tok_approve"), key("other")),
      riskLevelOf(riskWorkflowId),
      listIds(`WorkflowType="customerRisk" AND RiskLevel="HIGH" AND CustomerId="${customerId}"`, [riskWorkflowId]),
    ]);
    expect(retried.status, retried.text).toBe(202);
    expect(retried.json.id).toBe(earlier);
    expect(other.status, other.text).toBe(202);
    expect(level).toBe("HIGH");
    expect(listed).toEqual([riskWorkflowId]);

    // Once Retry-After has passed, the same request goes through and completes.
    await sleep(retryAfter * 1000 - (Date.now() - heldAt));
    const after = await post(heldBody, heldKey);
    expect(after.status, after.text).toBe(202);
    expect(after.json.id).toBe(heldId);
    expect((await waitForCheckout(stack.url, heldId)).status).toBe("COMPLETED");
    // The hold forgave the declines that caused it: the customer starts afresh.
    expect(await riskLevelOf(`checkout-${heldId}`)).toBe("LOW");
    expect((await checkoutInput(heldId)).risk).toEqual({
      level: "LOW",
      hold: false,
      holdUntil: null,
      failuresInWindow: 0,
      reason: expect.stringMatching(/^no declined payments since the hold ended at /),
    });

    // The risk workflow's history: each decline, each decision (input and answer), the hold and
    // its end (a timer, then RiskLevel back to LOW).
    await waitFor(async () => (await riskLevelOf(riskWorkflowId)) === "LOW");
    const holdUntil = /until (\S+)/.exec(held.json.error.fields[0].reason)?.[1];
    const story = await riskStory(riskWorkflowId);
    expect(story).toContain(`timer started lift the hold at ${holdUntil}`);
    const events = story.filter((line) => !line.startsWith("timer started"));
    expect(events.slice(0, 6)).toEqual([
      `signal paymentFailed ${first} card_declined`,
      "RiskLevel=MEDIUM",
      `update assessCheckout ${second} -> MEDIUM (1 declined payment)`,
      `signal paymentFailed ${second} card_declined`,
      "RiskLevel=HIGH",
      `update assessCheckout ${heldId} -> HIGH hold (2 declined payments)`,
    ]);
    // The last request came once Retry-After had passed, around when the hold's timer fired.
    const lifted = events.slice(6).filter((line) => !line.startsWith("update"));
    expect(lifted).toEqual(["timer fired", "RiskLevel=LOW"]);
    expect(events.slice(6)).toContain(`update assessCheckout ${heldId} -> LOW`);
    expect(events).toHaveLength(9);
  });

  it("fails open when the risk check cannot answer in time: the checkout goes through as MEDIUM", async () => {
    const customerId = newCustomer();
    await decline(customerId); // the customer now has a running risk workflow
    await stack.stopWorker();
    try {
      const started = Date.now();
      const res = await post(bodyFor(customerId, "tok_approve"), key("unchecked"));
      expect(res.status, res.text).toBe(202);
      expect(Date.now() - started).toBeGreaterThanOrEqual(4_000); // it waited for the risk check's deadline
      expect(await riskLevelOf(`checkout-${res.json.id}`)).toBe("MEDIUM");
      expect((await checkoutInput(res.json.id)).risk).toMatchObject({
        level: "MEDIUM",
        hold: false,
        reason: expect.stringContaining("the risk check was unavailable"),
      });
    } finally {
      await stack.startWorker();
    }
  });

  it("a customer whose risk workflow has ended has nothing on record: LOW", async () => {
    const customerId = newCustomer();
    await decline(customerId);
    await stack.temporal.workflow
      .getHandle(customerRiskWorkflowId(stack.merchantId, customerId))
      .terminate("test: the record ended");
    const id = await startCheckout(stack.url, bodyFor(customerId, "tok_approve"), key("after-end"));
    expect((await checkoutInput(id)).risk).toEqual({
      level: "LOW",
      hold: false,
      holdUntil: null,
      failuresInWindow: 0,
      reason: "no declined payments on record",
    });
  });

  it("a hold carried over by continue-as-new ends on time; a quiet window then ends the workflow, LOW (asked only for a customer with a decline on record)", async () => {
    const customerId = newCustomer();
    const since = new Date(Date.now() - 1_000).toISOString();
    const until = new Date(Date.now() + 2_000).toISOString();
    const carried: RiskState = {
      declines: [
        { checkoutId: "chk_a", code: "card_declined", failedAt: since },
        { checkoutId: "chk_b", code: "card_declined", failedAt: since },
      ],
      hold: { until, failures: 2, since },
      forgivenThrough: null,
    };
    const handle = await stack.temporal.workflow.start<typeof customerRisk>("customerRisk", {
      workflowId: customerRiskWorkflowId(stack.merchantId, customerId),
      taskQueue: stack.taskQueue,
      args: [{ customerId, policy: { maxFailedPayments: 2, windowSeconds: 1, holdSeconds: 2 }, state: carried }],
    });
    // Not reported by a checkout: without the mark the decline report leaves, the API does not ask.
    const customer = { merchantId: stack.merchantId, externalId: customerId, email: "risk@example.com" };
    const unasked = await post(bodyFor(customerId, "tok_approve"), key("unreported"));
    expect(unasked.status, unasked.text).toBe(202);
    await stack.db.customer.upsert({
      where: { merchantId_externalId: { merchantId: customer.merchantId, externalId: customerId } },
      create: { ...customer, lastDeclineReportedAt: new Date(since) },
      update: { lastDeclineReportedAt: new Date(since) },
    });
    const held = await post(bodyFor(customerId, "tok_approve"), key("carried"));
    expect(held.status, held.text).toBe(429);
    expect(held.json.error.message).toContain(`new checkouts are held until ${until}`);

    expect(await handle.result()).toEqual(emptyRiskState());
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(until) + 1_000); // the hold, then a quiet second
    expect(await riskLevelOf(handle.workflowId)).toBe("LOW");
    expect((await riskStory(handle.workflowId)).filter((line) => !line.startsWith("update"))).toEqual([
      "RiskLevel=HIGH",
      `timer started lift the hold at ${until}`,
      "timer fired",
      "RiskLevel=LOW",
      "timer started end after 1 s without a declined payment",
      "timer fired",
    ]);
  });

  it("declares the 429 and its Retry-After in the OpenAPI document", async () => {
    const doc = await call(stack.url, "GET", "/openapi.json");
    const held = doc.json.paths["/checkouts"].post.responses["429"];
    expect(held.headers["Retry-After"].schema).toEqual({ type: "integer", minimum: 1 });
    expect(held.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
  });

  async function checkoutInput(checkoutId: string): Promise<CheckoutInput> {
    const history = await fetchDecodedHistory(stack.temporal, `checkout-${checkoutId}`);
    return decode(history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]) as CheckoutInput;
  }

  /** The risk workflow's history as lines: signals, updates with their decisions, RiskLevel changes, timers. */
  async function riskStory(workflowId: string): Promise<string[]> {
    const history = await fetchDecodedHistory(stack.temporal, workflowId);
    const requests = new Map<string, string>();
    const lines: string[] = [];
    for (const event of history.events ?? []) {
      const signal = event.workflowExecutionSignaledEventAttributes;
      const accepted = event.workflowExecutionUpdateAcceptedEventAttributes;
      const completed = event.workflowExecutionUpdateCompletedEventAttributes;
      const upsert = event.upsertWorkflowSearchAttributesEventAttributes;
      if (signal) {
        const report = decode(signal.input?.payloads?.[0]) as { checkoutId: string; code: string };
        lines.push(`signal ${signal.signalName} ${report.checkoutId} ${report.code}`);
      } else if (accepted) {
        const input = accepted.acceptedRequest?.input;
        const request = decode(input?.args?.payloads?.[0]) as { checkoutId: string };
        requests.set(accepted.acceptedRequest?.meta?.updateId ?? "", `update ${input?.name} ${request.checkoutId}`);
      } else if (completed) {
        const decision = decode(completed.outcome?.success?.payloads?.[0]) as RiskDecision;
        const failures = decision.failuresInWindow;
        lines.push(
          `${requests.get(completed.meta?.updateId ?? "")} -> ${decision.level}${decision.hold ? " hold" : ""}${
            failures ? ` (${failures} declined payment${failures === 1 ? "" : "s"})` : ""
          }`,
        );
      } else if (upsert?.searchAttributes?.indexedFields?.RiskLevel) {
        lines.push(`RiskLevel=${decode(upsert.searchAttributes.indexedFields.RiskLevel)}`);
      } else if (event.timerStartedEventAttributes) {
        lines.push(`timer started ${decode(event.userMetadata?.summary ?? undefined)}`);
      } else if (event.timerFiredEventAttributes) {
        lines.push("timer fired");
      }
    }
    return lines;
  }

  const listIds = (query: string, expected: string[]) => listWorkflowIds(query, stack.taskQueue, expected, 3_000);
});

function decode(payload: temporal.api.common.v1.IPayload | undefined): unknown {
  return payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await sleep(200);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

// The operator CLI (cli/checkout.ts), run as a real child process against the run's Temporal
// server and database: list agrees with `temporal workflow list --query`, show prints the steps,
// retry resets a failed checkout to just before its payment (alone and in a batch) and it
// completes with one charge, cancel waits for a worker, and an unknown id exits 1 naming it.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { checkoutWorkflowId } from "../workflows/definitions.ts";
import { cli, spawnCli } from "./support/cli-process.ts";
import { stepTypes } from "./support/history-steps.ts";
import { call, chargesFor, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";
import { temporalCli } from "./support/temporal-cli.ts";

async function setOutage(stack: TestStack, active: boolean) {
  const res = await call(stack.url, "PUT", "/sandbox/outage", { active });
  expect(res.status, res.text).toBe(200);
}

/** The switch lives in the shared database: never leave it on for the next test or file. */
async function outageOff(stack: TestStack | undefined) {
  await stack?.db.sandboxSetting.upsert({
    where: { key: "outage" },
    create: { key: "outage", value: false },
    update: { value: false },
  });
}

type History = Awaited<ReturnType<ReturnType<TestStack["temporal"]["workflow"]["getHandle"]>["fetchHistory"]>>;
const activityNames = (events: NonNullable<History["events"]>) =>
  events.flatMap((e) =>
    e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : [],
  );

describe("checkout CLI on a running stack", () => {
  let stack: TestStack;
  let failedId: string;
  let completedId: string;
  beforeAll(async () => {
    stack = await startTestStack();
    failedId = await startCheckout(stack.url, validCheckout("tok_decline"));
    completedId = await startCheckout(stack.url, validCheckout("tok_approve"));
    expect((await waitForCheckout(stack.url, failedId)).status).toBe("FAILED");
    expect((await waitForCheckout(stack.url, completedId)).status).toBe("COMPLETED");
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("lists by search attributes, as `temporal workflow list --query` does", async () => {
    const args = ["list", "--status", "FAILED", "--provider", "sandbox", "--limit", "10000", "--json"];
    let listing: any;
    // Visibility is eventually consistent: wait until the failed checkout's status is indexed.
    for (let tries = 0; tries < 50; tries++) {
      const run = await cli(args);
      expect(run.code, run.stderr).toBe(0);
      listing = JSON.parse(run.stdout);
      if (listing.checkouts.some((c: any) => c.id === failedId)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const ids = listing.checkouts.map((c: any) => c.id);
    expect(ids).toContain(failedId);
    expect(ids).not.toContain(completedId);
    expect(listing.checkouts.find((c: any) => c.id === failedId)).toMatchObject({
      workflowId: checkoutWorkflowId(failedId),
      status: "FAILED",
      workflowStatus: "FAILED",
      provider: "sandbox",
      customerId: "cus_1",
      total: 3998,
      currency: "USD",
    });

    const raw = JSON.parse(
      await temporalCli(["workflow", "list", "--query", 'CheckoutStatus="FAILED" AND PaymentProvider="sandbox"', "-o", "json"]),
    ) as Array<{ execution: { workflowId: string; runId: string } }>;
    const runs = (rows: Array<{ workflowId: string; runId: string }>) => rows.map((r) => `${r.workflowId}/${r.runId}`).sort();
    expect(runs(listing.checkouts)).toEqual(runs(raw.map((r) => r.execution)));

    // The text form: one line per checkout with its status, provider, total and start time.
    const text = await cli(["list", "--status", "failed", "--provider", "sandbox", "--limit", "10000"]);
    expect(text.code, text.stderr).toBe(0);
    const line = text.stdout.split("\n").find((l) => l.startsWith(failedId));
    expect(line).toMatch(new RegExp(`^${failedId}\\s+FAILED\\s+sandbox\\s+39\\.98 USD\\s+\\d{4}-\\d\\d-\\d\\dT`));
    expect(text.stdout).not.toContain(completedId);
  });

  it("quotes filter values, so a value cannot change the query", async () => {
    const run = await cli(["list", "--customer", 'nobody" OR CheckoutStatus="FAILED', "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const listing = JSON.parse(run.stdout);
    expect(listing.query).toBe('WorkflowType="checkout" AND CustomerId="nobody\\" OR CheckoutStatus=\\"FAILED"');
    expect(listing.checkouts).toEqual([]);

    const bad = await cli(["list", "--min-total", "ten"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--min-total");
  });

  it("shows the audit timeline of a completed checkout", async () => {
    const run = await cli(["show", completedId]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Checkout ${completedId}: COMPLETED`);
    for (const step of ["createOrder", "initiatePayment", "sendNotification"]) {
      expect(run.stdout).toMatch(new RegExp(`step\\s+${step} completed \\(1 attempt`));
    }
    expect(run.stdout).toMatch(/attempt\s+initiatePayment #1 via sandbox/);
    expect(run.stdout).toMatch(/ended\s+COMPLETED/);

    const json = await cli(["show", `checkout-${completedId}`, "--json"]);
    expect(json.code, json.stderr).toBe(0);
    const timeline = JSON.parse(json.stdout);
    expect(timeline.checkout).toMatchObject({ id: completedId, status: "COMPLETED", executionStatus: "COMPLETED" });
    expect(timeline.steps.map((s: any) => s.activityType)).toEqual(
      expect.arrayContaining(["createOrder", "initiatePayment", "sendNotification"]),
    );

    // Without a database: the history alone, and the CLI says so.
    const bare = await cli(["show", completedId], { DATABASE_URL: undefined });
    expect(bare.code, bare.stderr).toBe(0);
    expect(bare.stderr).toContain("DATABASE_URL is not set");
    for (const step of ["createOrder", "initiatePayment", "sendNotification"]) {
      expect(bare.stdout).toMatch(new RegExp(`step\\s+${step} completed \\(1 attempt`));
    }
    expect(bare.stdout).toMatch(/ended\s+COMPLETED/);
    expect(bare.stdout).not.toMatch(/attempt\s+initiatePayment #1/); // the attempts live in the database
  });

  it("records a checkout's history for the replay corpus, replays it (a tampered copy fails), and replays the archive", async () => {
    const recorded = await cli(["history", completedId]);
    expect(recorded.code, recorded.stderr).toBe(0);
    const { workflowId, history } = JSON.parse(recorded.stdout);
    expect(workflowId).toBe(`checkout-${completedId}`);
    expect(history.events[0].eventType).toBe("EVENT_TYPE_WORKFLOW_EXECUTION_STARTED");

    const dir = await mkdtemp(path.join(tmpdir(), "replay-"));
    try {
      const file = path.join(dir, "completed.json");
      await writeFile(file, recorded.stdout);
      const replayed = await cli(["replay", file]);
      expect(replayed.code, replayed.stderr).toBe(0);
      expect(replayed.stdout.trim()).toBe("1 of 1 histories replay against the current workflows");

      // The same history with another step in it: the current code no longer matches it.
      const tampered = path.join(dir, "tampered.json");
      const scheduled = history.events.find(
        (e: any) => e.activityTaskScheduledEventAttributes?.activityType?.name === "initiatePayment",
      );
      scheduled.activityTaskScheduledEventAttributes.activityType.name = "chargeSomethingElse";
      await writeFile(tampered, JSON.stringify({ workflowId, history }));
      const refused = await cli(["replay", file, tampered]);
      expect(refused.code).toBe(1);
      expect(refused.stdout.trim()).toBe("1 of 2 histories replay against the current workflows");
      expect(refused.stderr).toMatch(new RegExp(`${workflowId}: .*[Nn]ondeterminism`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    // The archive of this installation (the completed checkout's run is in it once it closed).
    await expect
      .poll(async () => stack.db.historyArchive.count({ where: { checkoutId: completedId } }), { timeout: 15_000 })
      .toBeGreaterThan(0);
    const archive = await cli(["replay", "--archive", "--limit", "20"]);
    expect(archive.code, archive.stderr).toBe(0);
    expect(archive.stdout).toMatch(/^(\d+) of \1 histories replay/);
  });

  it("exits 1 naming an unknown checkout, and refuses to retry what did not fail for want of a provider", async () => {
    const unknown = `chk_${"0".repeat(32)}`;
    for (const command of [
      ["show", unknown],
      ["retry", unknown],
      ["cancel", unknown],
      ["show", unknown, "--json"],
    ]) {
      const run = await cli(command);
      expect(run.code, `${command.join(" ")}: ${run.stdout}${run.stderr}`).toBe(1);
      expect(run.stderr).toContain(`Unknown checkout ${unknown}`);
      expect(run.stdout).toBe("");
    }

    const completed = await cli(["retry", completedId]);
    expect(completed.code).toBe(1);
    expect(completed.stderr).toContain(`checkout ${completedId} is COMPLETED; only a FAILED one can be retried`);

    const declined = await cli(["retry", failedId]);
    expect(declined.code).toBe(1);
    expect(declined.stderr).toMatch(/was declined .*--include-declined/);

    const usage = await cli(["frobnicate"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Unknown command "frobnicate"');
  });
});

describe("checkout retry after a provider outage", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ paymentRetryWindowSeconds: 5 });
  });
  afterEach(async () => {
    await outageOff(stack);
  });
  afterAll(async () => {
    await outageOff(stack);
    await stack?.stop();
  });

  /** Checkouts that fail because the sandbox stays down past the 5 s retry window. */
  async function failedByOutage(count: number, customerId = "cus_1"): Promise<string[]> {
    await setOutage(stack, true);
    try {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        ids.push(
          await startCheckout(
            stack.url,
            validCheckout("tok_approve", { customer: { id: customerId, email: "ada@example.com" } }),
          ),
        );
      }
      for (const id of ids) {
        const done = await waitForCheckout(stack.url, id, undefined, 40_000);
        expect(done.status).toBe("FAILED");
        expect(done.lastError).toMatchObject({ type: "PaymentUnavailable" });
      }
      return ids;
    } finally {
      await setOutage(stack, false);
    }
  }

  it("resets a failed checkout to before its payment and follows it to COMPLETED, charged once", async () => {
    const [id] = await failedByOutage(1);
    const workflowId = checkoutWorkflowId(id);
    const failedRun = (await stack.temporal.workflow.getHandle(workflowId).describe()).runId;

    // The reset point as the README finds it with the plain CLI: the WorkflowTaskCompleted event
    // named by the first initiatePayment's ActivityTaskScheduled.
    const shown = JSON.parse(await temporalCli(["workflow", "show", "-w", workflowId, "-o", "json"]));
    const resetPoint = shown.events.find(
      (e: any) => e.activityTaskScheduledEventAttributes?.activityType?.name === "initiatePayment",
    ).activityTaskScheduledEventAttributes.workflowTaskCompletedEventId;

    const run = await cli(["retry", id, "--reason", "sandbox back up"]);
    expect(run.code, `${run.stdout}${run.stderr}`).toBe(0);
    expect(run.stdout.trim()).toBe(`${id} COMPLETED`);
    expect(run.stderr).toContain(`reset run ${failedRun} to event ${resetPoint} (before its payment step)`);

    const seen = await call(stack.url, "GET", `/checkouts/${id}`);
    expect(seen.json).toMatchObject({ status: "COMPLETED", order: { status: "PAID" }, payment: { status: "SUCCEEDED" } });
    const charges = await chargesFor(stack.url, id);
    expect(charges.map((c) => c.status)).toEqual(["SUCCEEDED"]);
    expect(charges[0].idempotencyKey).toBe(`${workflowId}:payment`);
    expect(await stack.db.order.count({ where: { checkoutId: id } })).toBe(1);

    // The new run: the failed run's events up to the reset point, then the reset, then the
    // payment again. The order step is a local activity in the same workflow task as the first
    // charge: it runs again after the reset, and finds the order it made (one order, above).
    const current = await stack.temporal.workflow.getHandle(workflowId).describe();
    expect(current.runId).not.toBe(failedRun);
    const events = (await stack.temporal.workflow.getHandle(workflowId, current.runId).fetchHistory()).events ?? [];
    const resetAt = events.findIndex((e) => e.workflowTaskFailedEventAttributes?.baseRunId === failedRun);
    expect(resetAt).toBeGreaterThan(0);
    expect(events[resetAt].workflowTaskFailedEventAttributes?.failure?.message).toContain("sandbox back up");
    expect(activityNames(events.slice(0, resetAt))).toEqual([]);
    expect(stepTypes(events.slice(resetAt))).toEqual(["createOrder", "initiatePayment", "sendNotification"]);

    // Each run is archived as a record of its own: the failed one, then the one that paid.
    await expect
      .poll(
        async () =>
          (await stack.db.historyArchive.findMany({ where: { workflowId }, orderBy: { seq: "asc" } })).map((r) => [
            r.runId,
            r.status,
          ]),
        {
          timeout: 20_000,
        },
      )
      .toEqual([
        [failedRun, "FAILED"],
        [current.runId, "COMPLETED"],
      ]);

    // Retrying again is refused: it is no longer failed.
    const again = await cli(["retry", id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("is COMPLETED; only a FAILED one can be retried");
  });

  it("retries a batch matched by a query: each completes with one charge", async () => {
    const customer = `cus_batch_${randomBytes(4).toString("hex")}`;
    const ids = await failedByOutage(2, customer);
    const query = `CustomerId="${customer}"`;

    // Visibility is eventually consistent: wait until both failures are indexed.
    for (let tries = 0; tries < 50; tries++) {
      const listed = JSON.parse((await cli(["list", "--status", "FAILED", "--query", query, "--json"])).stdout);
      if (listed.checkouts.length === 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }

    // Without --yes (and no terminal to ask on), nothing is retried.
    const unconfirmed = await cli(["retry", "--query", query]);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stdout).toContain("2 failed checkout(s) to retry");
    expect(unconfirmed.stderr).toContain("add --yes");
    for (const id of ids) expect((await call(stack.url, "GET", `/checkouts/${id}`)).json.status).toBe("FAILED");

    const run = await cli(["retry", "--query", query, "--yes"]);
    expect(run.code, `${run.stdout}${run.stderr}`).toBe(0);
    for (const id of ids) expect(run.stdout).toContain(`${id} COMPLETED`);
    expect(run.stdout).toContain("Retried 2 of 2: 2 COMPLETED.");

    for (const id of ids) {
      const seen = await call(stack.url, "GET", `/checkouts/${id}`);
      expect(seen.json.status).toBe("COMPLETED");
      expect((await chargesFor(stack.url, id)).map((c) => c.status)).toEqual(["SUCCEEDED"]);
    }

    // The failed runs are still listed (as Temporal lists them), marked as retried; a second
    // batch finds nothing left to do.
    const listed = JSON.parse((await cli(["list", "--status", "FAILED", "--query", query, "--json"])).stdout);
    expect(listed.checkouts.map((c: any) => c.supersededBy?.status)).toEqual(["COMPLETED", "COMPLETED"]);
    const second = await cli(["retry", "--query", query, "--yes"]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain("No failed checkouts to retry");
  });
});

describe("checkout cancel", () => {
  let stack: TestStack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it("cancels a checkout no worker has picked up yet, once one does", async () => {
    stack = await startTestStack({ startWorker: false });
    const id = await startCheckout(stack.url, validCheckout("tok_approve"));

    const cancelling = spawnCli(["cancel", id, "--reason", "changed my mind"]);
    cancelling.done.catch(() => {}); // awaited below
    // The CLI says so once its update has waited a while in the server for a worker.
    const deadline = Date.now() + 30_000;
    while (!cancelling.stderr().includes("Waiting for a worker") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(cancelling.stderr()).toContain(`Waiting for a worker to take the cancel of ${id}`);
    await stack.startWorker();

    const run = await cancelling.done;
    expect(run.code, `${run.stdout}${run.stderr}`).toBe(0);
    expect(run.stdout.trim()).toBe(`${id} CANCELLED`);
    const seen = await call(stack.url, "GET", `/checkouts/${id}`);
    expect(seen.json).toMatchObject({ status: "CANCELLED", order: { status: "CANCELLED" }, payment: { status: "CANCELLED" } });
    expect(await chargesFor(stack.url, id)).toEqual([]);

    const again = await cli(["cancel", id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`checkout ${id} has already ended (CANCELLED)`);
  });
});

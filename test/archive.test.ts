// The archive of closed histories, on the real stack: closed checkouts are archived by the
// archiving schedule (archive/schedule.ts), each run once whether or not its own archiver (the
// child a run still starts) got there too, however it closed, a backlog in bounded batches, from
// a watermark that outlives the worker. The record has no secrets; GET /audit and `checkout show`
// tell its story from the archive after the real `temporal workflow delete` (and GET
// /checkouts/{id} and a retried POST still find it), the table refuses changes, and `checkout
// verify-archive` names the first record that an attacker with the database's superuser rights
// changed or removed.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { WorkflowNotFoundError } from "@temporalio/client";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { AuditTimeline } from "../api/schemas.ts";
import { archiveClosedBatch } from "../archive/batch.ts";
import { closedRunsQuery } from "../archive/closed-runs.ts";
import { deleteArchiveSchedule, ensureArchiveSchedule } from "../archive/schedule.ts";
import { advanceWatermark, readWatermark } from "../archive/watermark.ts";
import type { ArchiveClosedRunsResult } from "../workflows/archive-batch.ts";
import type { checkout } from "../workflows/checkout.ts";
import { archiveScheduleId, archiveWorkflowId, checkoutWorkflowId, orderWorkflowId } from "../workflows/definitions.ts";
import type { CheckoutInput } from "../workflows/types.ts";
import { cli } from "./support/cli-process.ts";
import { call, chargesFor, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";
import { temporalCli } from "./support/temporal-cli.ts";

const run = promisify(execFile);

async function sql<T = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: inject("databaseUrl") });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Runs a statement with triggers off, as only a superuser can: what tampering looks like. */
async function asSuperuser(statement: string, values: unknown[]) {
  const client = new pg.Client({ connectionString: inject("databaseUrl") });
  await client.connect();
  try {
    await client.query("BEGIN");
    await client.query("SET LOCAL session_replication_role = replica");
    await client.query(statement, values);
    await client.query("COMMIT");
  } finally {
    await client.end();
  }
}

async function archivedRecord(stack: TestStack, workflowId: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const record = await stack.db.historyArchive.findFirst({ where: { workflowId } });
    if (record) return record;
    await new Promise((r) => setTimeout(r, 200));
  }
  const schedule = await stack.temporal.schedule
    .getHandle(archiveScheduleId(stack.taskQueue))
    .describe()
    .then((d) => ({ actions: d.info.numActionsTaken, running: d.info.runningActions.length }))
    .catch((err) => (err as Error).message);
  const watermark = await readWatermark(stack.db, stack.taskQueue);
  throw new Error(
    `${workflowId} was not archived in ${timeoutMs} ms; the schedule: ${JSON.stringify(schedule)}, watermark ${watermark?.toISOString()}`,
  );
}

/** Runs `work` with the stack's archiving schedule paused and no batch of it in flight. */
async function withArchivingPaused(stack: TestStack, work: () => Promise<void>) {
  const schedule = stack.temporal.schedule.getHandle(archiveScheduleId(stack.taskQueue));
  await schedule.pause("a test tampers with the archive");
  try {
    await expect.poll(async () => (await schedule.describe()).info.runningActions.length, { timeout: 20_000 }).toBe(0);
    await work();
  } finally {
    await schedule.unpause();
  }
}

/** Waits until the queue's watermark has passed `closeTime`: a batch has gone over every run closed before it. */
async function watermarkPasses(stack: TestStack, closeTime: Date) {
  await expect
    .poll(async () => (await readWatermark(stack.db, stack.taskQueue))?.getTime() ?? 0, { timeout: 20_000, interval: 200 })
    .toBeGreaterThanOrEqual(closeTime.getTime());
}

const newCheckoutId = () => `chk_${randomBytes(16).toString("hex")}`;

/**
 * Starts a checkout run straight on the queue (what the API starts, without the API), to close it
 * before any worker has run it: such a run never starts its own archiver.
 */
async function startRun(stack: TestStack, taskQueue = stack.taskQueue, options: { workflowExecutionTimeout?: string } = {}) {
  const checkoutId = newCheckoutId();
  const input: CheckoutInput = {
    checkoutId,
    merchantId: stack.merchantId,
    customer: { id: "cus_1", email: "ada@example.com" },
    items: [{ sku: "tee", name: "T-shirt", quantity: 2, unitAmount: 1999 }],
    currency: "USD",
    totalAmount: 3998,
    payment: { provider: "sandbox", token: "tok_3ds", method: "card" },
    paymentRetryWindowSeconds: 300,
    requestedAt: new Date().toISOString(),
  };
  return stack.temporal.workflow.start<typeof checkout>("checkout", {
    workflowId: checkoutWorkflowId(checkoutId),
    taskQueue,
    args: [input],
    ...options,
  });
}

/** Starts runs on the queue and terminates them unworked; resolves once visibility lists them all closed. */
async function closedUnworkedRuns(stack: TestStack, count: number, taskQueue = stack.taskQueue) {
  const handles = [];
  for (let i = 0; i < count; i++) {
    const handle = await startRun(stack, taskQueue);
    await handle.terminate("a backlog for the archiver");
    handles.push(handle);
  }
  const query = `${closedRunsQuery(taskQueue)} AND WorkflowId IN (${handles.map((h) => `"${h.workflowId}"`).join(", ")})`;
  await expect.poll(async () => (await stack.temporal.workflow.count(query)).count, { timeout: 15_000 }).toBe(count);
  return Promise.all(handles.map((h) => h.describe()));
}

/**
 * What the retention does, done now with the real CLI (--yes: it asks otherwise). The server
 * deletes a closed run asynchronously: this dev server took about 35 s.
 */
async function deleteFromTemporal(stack: TestStack, workflowId: string) {
  await run(inject("temporalCli"), [
    ...["workflow", "delete", "--workflow-id", workflowId, "--yes", "--address", inject("temporalAddress")],
  ]);
  await expect
    .poll(
      () =>
        stack.temporal.workflow
          .getHandle(workflowId)
          .describe()
          .catch((err) => err),
      { timeout: 100_000, interval: 1_000 },
    )
    .toBeInstanceOf(WorkflowNotFoundError);
}

/** Every JSON payload of the archived history, decoded: what a reader of the archive can see. */
function decodedPayloads(history: string): string {
  const texts: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (typeof o.data === "string" && o.metadata) texts.push(Buffer.from(o.data, "base64").toString("utf8"));
      Object.values(o).forEach(walk);
    }
  };
  walk(JSON.parse(history));
  return texts.join("\n");
}

describe("the archive of closed histories", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("is written when a checkout closes, without the email or the token, and serves /audit after the workflow is deleted", async () => {
    const token = "tok_flaky";
    const idempotencyKey = `archive-${Date.now()}-${Math.random()}`;
    const id = await startCheckout(stack.url, validCheckout(token), idempotencyKey);
    expect((await waitForCheckout(stack.url, id)).status).toBe("COMPLETED");
    const workflowId = checkoutWorkflowId(id);
    const record = await archivedRecord(stack, workflowId);
    const description = await stack.temporal.workflow.getHandle(workflowId).describe();
    expect(record).toMatchObject({
      checkoutId: id,
      runId: description.runId,
      workflowType: "checkout",
      status: "COMPLETED",
      closedAt: description.closeTime,
    });
    expect(record.hash).toMatch(/^[0-9a-f]{64}$/);
    const payloads = decodedPayloads(record.history);
    expect(record.history).toContain(`"activityType":{"name":"initiatePayment"}`); // the history is really there…
    expect(payloads).toContain('"customer":{"id":"cus_1","email":"[redacted]"}');
    for (const secret of ["ada@example.com", token]) {
      expect(record.history).not.toContain(secret); // …without its secrets
      expect(payloads).not.toContain(secret);
    }

    const live = AuditTimeline.parse((await call(stack.url, "GET", `/checkouts/${id}/audit`)).json);
    expect(live.source).toEqual({ kind: "temporal", archive: null });

    await deleteFromTemporal(stack, workflowId);

    const res = await call(stack.url, "GET", `/checkouts/${id}/audit`);
    expect(res.status, res.text).toBe(200);
    expect(res.text).not.toContain("ada@example.com");
    const archived = AuditTimeline.parse(res.json);
    expect(archived.source).toEqual({
      kind: "archive",
      archive: { seq: record.seq, hash: record.hash, archivedAt: record.archivedAt.toISOString() },
    });
    // The same story as Temporal told it: steps with their failures, every attempt, the outcome.
    const { source: _live, ...liveStory } = live;
    const { source: _archived, ...archivedStory } = archived;
    expect(archivedStory).toEqual(liveStory);
    expect(archived.attempts.filter((a) => a.outcome !== "succeeded").length).toBeGreaterThanOrEqual(2);

    const shown = await cli(["show", id]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`from the archive (Temporal no longer has it): record ${record.seq}`);
    expect(shown.stdout).toMatch(/initiatePayment completed/);

    // The checkout itself outlives its workflow: its state from the archive, its rows from the
    // database; a retried POST under its key gets it back and starts (and charges) nothing.
    const checkout = await call(stack.url, "GET", `/checkouts/${id}`);
    expect(checkout.status, checkout.text).toBe(200);
    expect(checkout.json).toMatchObject({ status: "COMPLETED", step: "DONE", payment: { status: "SUCCEEDED", attempts: 3 } });
    expect(checkout.json.order.status).toBe("PAID");
    const retried = await call(stack.url, "POST", "/checkouts", validCheckout(token), { "idempotency-key": idempotencyKey });
    expect(retried.status, retried.text).toBe(202);
    expect(retried.json.id).toBe(id);
    const other = await call(stack.url, "POST", "/checkouts", validCheckout("tok_approve"), {
      "idempotency-key": idempotencyKey,
    });
    expect(other.status).toBe(422);
    await expect(stack.temporal.workflow.getHandle(workflowId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect(await chargesFor(stack.url, id)).toHaveLength(1);
    expect((await call(stack.url, "GET", `/checkouts/${id}/refunds`)).status).toBe(200);

    // Gone from both: a 404, not a 500.
    expect((await call(stack.url, "GET", "/checkouts/chk_00000000000000000000000000000000/audit")).status).toBe(404);
  }, 180_000);

  it("archives a paid order's own workflow under its checkout, without the recipient; /audit tells the order's story from there once Temporal deletes it", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_approve"));
    expect((await waitForCheckout(stack.url, id)).status).toBe("COMPLETED");
    const orderId = (await call(stack.url, "GET", `/checkouts/${id}`)).json.order.id;
    const shipped = await call(stack.url, "POST", `/orders/${orderId}/shipment`, { carrier: "UPS", tracking: "1Z999" });
    expect(shipped.status, shipped.text).toBe(200);
    expect((await call(stack.url, "POST", `/orders/${orderId}/delivery`)).status).toBe(200);
    const workflowId = orderWorkflowId(orderId);
    await stack.temporal.workflow.getHandle(workflowId).result();

    const record = await archivedRecord(stack, workflowId);
    expect(record).toMatchObject({ checkoutId: id, workflowType: "order", status: "COMPLETED" });
    expect(record.history).toContain(`"activityType":{"name":"recordShipment"}`);
    expect(record.history).not.toContain("ada@example.com");
    expect(decodedPayloads(record.history)).not.toContain("ada@example.com");

    const live = (await call(stack.url, "GET", `/checkouts/${id}/audit`)).json.order;
    expect(live.updates.map((u: { name: string }) => u.name)).toEqual(["ship", "deliver"]);
    await deleteFromTemporal(stack, workflowId);
    const fromArchive = await call(stack.url, "GET", `/checkouts/${id}/audit`);
    expect(fromArchive.status, fromArchive.text).toBe(200);
    expect(fromArchive.json.order).toEqual(live);
  }, 180_000);

  it("refuses changes, and verify-archive names the first record changed or removed behind the trigger's back", async () => {
    const id = await startCheckout(stack.url, validCheckout());
    await waitForCheckout(stack.url, id);
    const target = await archivedRecord(stack, checkoutWorkflowId(id));
    const intact = await cli(["verify-archive"]);
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.stdout).toMatch(/^Archive intact: \d+ record\(s\); head hash [0-9a-f]{64}/);

    // Append-only for everyone who goes through the table.
    await expect(sql(`UPDATE "HistoryArchive" SET status = 'FAILED' WHERE seq = $1`, [target.seq])).rejects.toThrow(
      /append-only: UPDATE refused/,
    );
    await expect(sql(`DELETE FROM "HistoryArchive" WHERE seq = $1`, [target.seq])).rejects.toThrow(/append-only: DELETE refused/);
    await expect(sql(`TRUNCATE "HistoryArchive"`)).rejects.toThrow(/append-only: TRUNCATE refused/);

    try {
      // A superuser rewrites history: the record's content no longer matches its hash.
      await asSuperuser(`UPDATE "HistoryArchive" SET history = replace(history, 'COMPLETED', 'FAILED') WHERE seq = $1`, [
        target.seq,
      ]);
      const changed = await cli(["verify-archive"]);
      expect(changed.code).toBe(1);
      expect(changed.stderr).toContain(
        `Archive broken at record ${target.seq} (${target.workflowId}, run ${target.runId}): its content does not match its hash`,
      );
    } finally {
      await asSuperuser(`UPDATE "HistoryArchive" SET history = $2 WHERE seq = $1`, [target.seq, target.history]);
    }
    expect((await cli(["verify-archive"])).code).toBe(0);

    // Removing a record breaks the chain at the one after it (archive/chain.ts checks links too).
    const next = await archivedRecord(stack, checkoutWorkflowId(await startCheckout(stack.url, validCheckout())));
    const removed = await stack.db.historyArchive.findFirstOrThrow({ where: { seq: next.seq - 1 } });
    // Paused meanwhile: the schedule would archive the removed run again, as a record of its own.
    await withArchivingPaused(stack, async () => {
      try {
        await asSuperuser(`DELETE FROM "HistoryArchive" WHERE seq = $1`, [removed.seq]);
        const gap = await cli(["verify-archive", "--json"]);
        expect(gap.code).toBe(1);
        expect(JSON.parse(gap.stdout).broken).toEqual({
          seq: next.seq,
          workflowId: next.workflowId,
          runId: next.runId,
          problem: `it comes after record ${removed.seq - 1}: record ${removed.seq} is missing`,
        });
      } finally {
        const { seq, workflowId, runId, checkoutId, workflowType, status, closedAt, archivedAt, history, prevHash, hash } =
          removed;
        await asSuperuser(
          `INSERT INTO "HistoryArchive" (seq, "workflowId", "runId", "checkoutId", "workflowType", status, "closedAt", "archivedAt", history, "prevHash", hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          [seq, workflowId, runId, checkoutId, workflowType, status, closedAt, archivedAt, history, prevHash, hash],
        );
      }
    });
    expect((await cli(["verify-archive"])).code).toBe(0);
  });

  it("archives a run an operator terminated, which started no archiver of its own; its own archiver (`checkout archive`) then finds that one record", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_3ds"));
    await waitForCheckout(stack.url, id, (c) => c.status === "REQUIRES_ACTION");
    const workflowId = checkoutWorkflowId(id);
    const running = await cli(["archive", id], { TEMPORAL_TASK_QUEUE: stack.taskQueue });
    expect(running.code).toBe(1);
    expect(running.stderr).toContain("still running; it is archived once it closes");

    await run(inject("temporalCli"), [
      "workflow",
      "terminate",
      "-w",
      workflowId,
      "--reason",
      "test",
      "--address",
      inject("temporalAddress"),
    ]);
    const { runId } = await stack.temporal.workflow.getHandle(workflowId).describe();
    const record = await archivedRecord(stack, workflowId);
    expect(record).toMatchObject({ runId, checkoutId: id, status: "TERMINATED" });
    // The schedule's batch wrote it: the run never started its own archiver.
    await expect(stack.temporal.workflow.getHandle(archiveWorkflowId(workflowId, runId)).describe()).rejects.toBeInstanceOf(
      WorkflowNotFoundError,
    );

    // The run's own archiver (the child of the runs that still start one), started by the CLI for
    // that run, and again as part of a query: the same record, nothing appended.
    const archived = await cli(["archive", id], { TEMPORAL_TASK_QUEUE: stack.taskQueue });
    expect(archived.code, archived.stderr).toBe(0);
    expect(archived.stdout).toContain(`${id} run ${runId}: archived as record ${record.seq}, hash ${record.hash}`);
    const again = await cli(["archive", "--customer", "cus_1", "--query", `WorkflowId="${workflowId}"`], {
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`archived as record ${record.seq},`);
    expect(await stack.db.historyArchive.count({ where: { workflowId } })).toBe(1);
    expect((await cli(["verify-archive"])).code).toBe(0);
  });

  it("archives checkouts however they closed, each run once, whether or not its own archiver did too", async () => {
    const completed = await startCheckout(stack.url, validCheckout());
    const declined = await startCheckout(stack.url, validCheckout("tok_decline"));
    const [cancelled, terminated] = await Promise.all([1, 2].map(() => startCheckout(stack.url, validCheckout("tok_3ds"))));
    for (const id of [cancelled, terminated]) await waitForCheckout(stack.url, id, (c) => c.status === "REQUIRES_ACTION");
    await stack.temporal.workflow.getHandle(checkoutWorkflowId(cancelled)).cancel();
    await stack.temporal.workflow.getHandle(checkoutWorkflowId(terminated)).terminate("test");
    // Closed by the server while it waits for the customer: its code never gets to start an archiver.
    const timedOut = await startRun(stack, stack.taskQueue, { workflowExecutionTimeout: "3 seconds" });

    const workflowIds = [completed, declined, cancelled, terminated].map(checkoutWorkflowId);
    workflowIds.push(timedOut.workflowId);
    const handles = workflowIds.map((workflowId) => stack.temporal.workflow.getHandle(workflowId));
    await Promise.all(handles.map((h) => h.result().catch(() => {})));
    const runs = await Promise.all(handles.map((h) => h.describe()));
    expect(runs.map((r) => r.status.name).sort()).toEqual(["CANCELLED", "COMPLETED", "FAILED", "TERMINATED", "TIMED_OUT"].sort());

    // Once a batch has gone past the last of them, each run has one record, of its own status.
    await watermarkPasses(stack, new Date(Math.max(...runs.map((r) => r.closeTime?.getTime() ?? Number.POSITIVE_INFINITY))));
    for (const r of runs) {
      const records = await stack.db.historyArchive.findMany({ where: { workflowId: r.workflowId, runId: r.runId } });
      expect(records, r.workflowId).toHaveLength(1);
      expect(records[0]).toMatchObject({ status: r.status.name, closedAt: r.closeTime, workflowType: "checkout" });
      expect(records[0].checkoutId).toBe(r.workflowId.replace(/^checkout-/, ""));
    }
    // The two that never started an archiver of their own were archived by the schedule alone.
    for (const r of runs.filter((r) => ["TERMINATED", "TIMED_OUT"].includes(r.status.name))) {
      await expect(stack.temporal.workflow.getHandle(archiveWorkflowId(r.workflowId, r.runId)).describe()).rejects.toBeInstanceOf(
        WorkflowNotFoundError,
      );
    }
    expect((await cli(["verify-archive"])).code).toBe(0);
  });
});

describe("the archiving schedule", () => {
  let stack: TestStack;
  beforeAll(async () => {
    // Batches of two, and no worker yet: closed runs pile up as after an outage.
    stack = await startTestStack({ startWorker: false, env: { ARCHIVE_BATCH_SIZE: "2" } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  /** The results of the queue's archiving runs that have finished. */
  async function finishedArchivingRuns(): Promise<ArchiveClosedRunsResult[]> {
    const results: ArchiveClosedRunsResult[] = [];
    const query = `WorkflowType = "archiveClosedRuns" AND TaskQueue = "${stack.taskQueue}" AND ExecutionStatus = "Completed"`;
    for await (const info of stack.temporal.workflow.list({ query })) {
      results.push(await stack.temporal.workflow.getHandle(info.workflowId, info.runId).result());
    }
    return results;
  }

  it("drains a backlog larger than a batch, in batches of ARCHIVE_BATCH_SIZE at most, each run once", async () => {
    const backlog = await closedUnworkedRuns(stack, 5);
    await stack.startWorker();
    for (const r of backlog) await archivedRecord(stack, r.workflowId);
    await expect
      .poll(async () => (await finishedArchivingRuns()).flatMap((r) => r.batches).reduce((a, b) => a + b, 0), { timeout: 20_000 })
      .toBe(5);
    const batches = (await finishedArchivingRuns()).flatMap((r) => r.batches);
    expect(Math.max(...batches)).toBe(2);
    expect(batches.filter((n) => n > 0).length).toBeGreaterThanOrEqual(3);
    for (const r of backlog) expect(await stack.db.historyArchive.count({ where: { workflowId: r.workflowId } })).toBe(1);
    await watermarkPasses(stack, new Date(Math.max(...backlog.map((r) => r.closeTime?.getTime() ?? 0))));
  });

  it("keeps its watermark across a restart: a new worker goes on from it", async () => {
    const before = await readWatermark(stack.db, stack.taskQueue);
    expect(before).toBeInstanceOf(Date);
    await stack.stopWorker();
    const [late] = await closedUnworkedRuns(stack, 1);
    expect(await readWatermark(stack.db, stack.taskQueue)).toEqual(before); // nothing ran meanwhile

    await stack.startWorker();
    await archivedRecord(stack, late.workflowId);
    await watermarkPasses(stack, late.closeTime as Date);
    expect((await readWatermark(stack.db, stack.taskQueue))?.getTime()).toBeGreaterThan(before?.getTime() ?? 0);
    expect(await stack.db.historyArchive.count({ where: { workflowId: late.workflowId } })).toBe(1);
  });

  it("lists from the stored watermark, less a margin that still catches a run whose visibility record landed late", async () => {
    // A queue no schedule serves: each call below is a batch of its own, as a new activity would run it.
    const taskQueue = `archive-direct-${randomBytes(4).toString("hex")}`;
    const [late] = await closedUnworkedRuns(stack, 1, taskQueue);
    const closeTime = late.closeTime as Date;
    // What an earlier batch leaves when it listed before this run's visibility record landed.
    await advanceWatermark(stack.db, taskQueue, new Date(closeTime.getTime() + 1_000));
    const batch = (marginMs?: number) =>
      archiveClosedBatch(stack.temporal, stack.db, { taskQueue, batchSize: 10, ...(marginMs === undefined ? {} : { marginMs }) });

    // Without a margin the run is below the watermark, so not listed: the batch went on from it.
    expect(await batch(0)).toMatchObject({ archived: 0, more: false });
    expect(await stack.db.historyArchive.count({ where: { workflowId: late.workflowId } })).toBe(0);
    // With the margin it is found and archived, once; the watermark does not go back.
    expect(await batch()).toMatchObject({
      archived: 1,
      more: false,
      watermark: new Date(closeTime.getTime() + 1_000).toISOString(),
    });
    expect(await batch()).toMatchObject({ archived: 0, more: false });
    const record = await stack.db.historyArchive.findUniqueOrThrow({
      where: { workflowId_runId: { workflowId: late.workflowId, runId: late.runId } },
    });
    expect(record.status).toBe("TERMINATED");
  });

  it("is a schedule the temporal CLI shows, made sure of idempotently: created, left alone, updated", async () => {
    const scheduleId = archiveScheduleId(stack.taskQueue);
    const shown = JSON.parse(await temporalCli(["schedule", "describe", "--schedule-id", scheduleId, "-o", "json"]));
    expect(shown.schedule.spec.interval).toEqual([expect.objectContaining({ interval: "1s" })]);
    expect(shown.schedule.action.startWorkflow).toMatchObject({
      workflowType: { name: "archiveClosedRuns" },
      taskQueue: { name: stack.taskQueue },
    });
    expect(shown.schedule.policies.overlapPolicy).toBe("SCHEDULE_OVERLAP_POLICY_SKIP");

    const settings = { taskQueue: stack.taskQueue, intervalSeconds: 1, batchSize: 2 };
    expect(await ensureArchiveSchedule(stack.temporal, settings)).toBe("unchanged");
    expect(await ensureArchiveSchedule(stack.temporal, { ...settings, intervalSeconds: 7 })).toBe("updated");
    const updated = JSON.parse(await temporalCli(["schedule", "describe", "--schedule-id", scheduleId, "-o", "json"]));
    expect(updated.schedule.spec.interval).toEqual([expect.objectContaining({ interval: "7s" })]);
    expect(await ensureArchiveSchedule(stack.temporal, settings)).toBe("updated");

    const other = { ...settings, taskQueue: `archive-other-${randomBytes(4).toString("hex")}` };
    try {
      expect(await ensureArchiveSchedule(stack.temporal, other)).toBe("created");
      expect(await ensureArchiveSchedule(stack.temporal, other)).toBe("unchanged");
    } finally {
      await deleteArchiveSchedule(stack.temporal, other.taskQueue);
    }
  });
});

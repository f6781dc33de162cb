// The archive of closed histories, on the real stack: a checkout's history is archived when it
// closes (secrets removed), GET /audit and `checkout show` tell its story from the archive after
// the real `temporal workflow delete` (and GET /checkouts/{id} and a retried POST still find it), the table refuses changes, and `checkout verify-archive`
// names the first record that an attacker with the database's superuser rights changed or removed.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { WorkflowNotFoundError } from "@temporalio/client";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { AuditTimeline } from "../api/schemas.ts";
import { archiveWorkflowId, checkoutWorkflowId } from "../workflows/definitions.ts";
import { cli } from "./support/cli-process.ts";
import { call, chargesFor, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

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
  const { runId } = await stack.temporal.workflow.getHandle(workflowId).describe();
  const archiver = await stack.temporal.workflow
    .getHandle(archiveWorkflowId(workflowId, runId))
    .describe()
    .then((d) => ({ status: d.status.name, pending: d.raw.pendingActivities?.map((a) => a.lastFailure?.message) }))
    .catch((err) => (err as Error).message);
  throw new Error(`${workflowId} was not archived in ${timeoutMs} ms; its archiver: ${JSON.stringify(archiver)}`);
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
    expect(record.history).toContain(`"activityType":{"name":"createOrder"}`); // the history is really there…
    expect(payloads).toContain('"customer":{"id":"cus_1","email":"[redacted]"}');
    for (const secret of ["ada@example.com", token]) {
      expect(record.history).not.toContain(secret); // …without its secrets
      expect(payloads).not.toContain(secret);
    }

    const live = AuditTimeline.parse((await call(stack.url, "GET", `/checkouts/${id}/audit`)).json);
    expect(live.source).toEqual({ kind: "temporal", archive: null });

    // What the retention does, done now (--yes: the CLI asks otherwise). The server deletes a
    // closed run asynchronously: this dev server took about 35 s.
    await run(inject("temporalCli"), [
      "workflow",
      "delete",
      "--workflow-id",
      workflowId,
      "--yes",
      "--address",
      inject("temporalAddress"),
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
      const { seq, workflowId, runId, checkoutId, workflowType, status, closedAt, archivedAt, history, prevHash, hash } = removed;
      await asSuperuser(
        `INSERT INTO "HistoryArchive" (seq, "workflowId", "runId", "checkoutId", "workflowType", status, "closedAt", "archivedAt", history, "prevHash", hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [seq, workflowId, runId, checkoutId, workflowType, status, closedAt, archivedAt, history, prevHash, hash],
      );
    }
    expect((await cli(["verify-archive"])).code).toBe(0);
  });

  it("`checkout archive` copies a run that was terminated, which could not archive itself", async () => {
    const id = await startCheckout(stack.url, validCheckout("tok_3ds"));
    await waitForCheckout(stack.url, id, (c) => c.status === "REQUIRES_ACTION");
    const workflowId = checkoutWorkflowId(id);
    const running = await cli(["archive", id], { TEMPORAL_TASK_QUEUE: stack.taskQueue });
    expect(running.code).toBe(1);
    expect(running.stderr).toContain("still running; it archives itself when it closes");

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
    await expect(stack.temporal.workflow.getHandle(archiveWorkflowId(workflowId, runId)).describe()).rejects.toBeInstanceOf(
      WorkflowNotFoundError,
    );

    const archived = await cli(["archive", id], { TEMPORAL_TASK_QUEUE: stack.taskQueue });
    expect(archived.code, archived.stderr).toBe(0);
    const record = await stack.db.historyArchive.findUniqueOrThrow({ where: { workflowId_runId: { workflowId, runId } } });
    expect(record.status).toBe("TERMINATED");
    expect(archived.stdout).toContain(`${id} run ${runId}: archived as record ${record.seq}, hash ${record.hash}`);

    // Again, and as part of a batch: the same record, nothing appended.
    const again = await cli(["archive", "--customer", "cus_1", "--query", `WorkflowId="${workflowId}"`], {
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`archived as record ${record.seq},`);
    expect(await stack.db.historyArchive.count({ where: { workflowId } })).toBe(1);
    expect((await cli(["verify-archive"])).code).toBe(0);
  });
});

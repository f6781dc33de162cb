// How a batch finds the closed runs the archive lacks, against an in-memory visibility store and
// archive (the real ones are in test/archive.test.ts): however long or crowded the backlog, each
// batch lists a bounded number of runs, oldest unarchived first, and batch after batch, each
// moving the watermark as the schedule's does, every run is found and none is left behind.
import type { Client } from "@temporalio/client";
import { describe, expect, it } from "vitest";
import { nextWatermark } from "../../archive/batch.ts";
import { findUnarchived } from "../../archive/closed-runs.ts";
import type { Db } from "../../prisma/client.ts";

interface Run {
  workflowId: string;
  runId: string;
  closeTime: Date;
}

/** A visibility store that counts and lists CloseTime windows (newest first, as the real one does), counting what it sends. */
function visibility(runs: Run[]) {
  const store = { listed: 0, client: undefined as unknown as Client };
  const sorted = [...runs].sort((a, b) => a.closeTime.getTime() - b.closeTime.getTime());
  /** The index of the first run closed at or after `time`. */
  const firstFrom = (time: number) => {
    let [lo, hi] = [0, sorted.length];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid].closeTime.getTime() < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const inWindow = (query: string) => {
    const from = /CloseTime >= "([^"]+)"/.exec(query)?.[1];
    const to = /CloseTime < "([^"]+)"/.exec(query)?.[1];
    return sorted.slice(from ? firstFrom(Date.parse(from)) : 0, to ? firstFrom(Date.parse(to)) : sorted.length);
  };
  const count = async (query: string) => ({ count: inWindow(query).length });
  const list = ({ query }: { query: string }) =>
    (async function* () {
      for (const r of inWindow(query).reverse()) {
        store.listed++;
        yield { ...r, type: "checkout", status: { name: "TERMINATED" } };
      }
    })();
  store.client = { workflow: { list, count } } as unknown as Client;
  return store;
}

function archiveOf(archived: Set<string>): Db {
  const findMany = async ({ where }: { where: { workflowId: { in: string[] } } }) =>
    where.workflowId.in.filter((id) => archived.has(id)).map((workflowId) => ({ workflowId, runId: `${workflowId}-run` }));
  return { historyArchive: { findMany } } as unknown as Db;
}

const MINUTE = 60_000;
function runsOver(count: number, startMs: number, spanMs: number, prefix: string): Run[] {
  return Array.from({ length: count }, (_, i) => ({
    workflowId: `checkout-${prefix}${i}`,
    runId: `checkout-${prefix}${i}-run`,
    closeTime: new Date(startMs + Math.floor((i * spanMs) / count)),
  }));
}

/** Batches as the schedule runs them, from no watermark; what each one listed. */
async function drain(runs: Run[], archived: Set<string>, batchSize: number) {
  const store = visibility(runs);
  const listedPerBatch: number[] = [];
  let watermark: Date | undefined;
  for (let batch = 0; batch < 1000; batch++) {
    const before = store.listed;
    const found = await findUnarchived(store.client, archiveOf(archived), { taskQueue: "q", from: watermark, enough: batchSize });
    listedPerBatch.push(store.listed - before);
    const taken = found.runs.slice(0, batchSize);
    if (batch > 0) expect(taken.every((r) => r.closeTime >= (watermark as Date))).toBe(true);
    for (const r of taken) archived.add(r.workflowId);
    const next = nextWatermark(found, batchSize);
    if (next.closeTime && (!watermark || next.closeTime > watermark)) watermark = next.closeTime;
    if (!next.more) return listedPerBatch;
  }
  throw new Error("the backlog never drained");
}

describe("finding the runs a batch archives", () => {
  const now = Date.now();

  it("crosses three days of runs already archived in bounded steps, and finds the few that are not", async () => {
    const runs = runsOver(45_000, now - 3 * 24 * 60 * MINUTE, 3 * 24 * 60 * MINUTE - MINUTE, "old");
    const missing = [runs[10], runs[22_000], runs[44_990]].map((r) => r.workflowId);
    const archived = new Set(runs.map((r) => r.workflowId).filter((id) => !missing.includes(id)));
    const listed = await drain(runs, archived, 200);
    expect(missing.every((id) => archived.has(id))).toBe(true);
    expect(listed.length).toBeGreaterThan(2);
    expect(Math.max(...listed)).toBeLessThanOrEqual(25_000);
  });

  it("narrows a crowded window: a burst of runs in one minute is archived batch by batch, oldest first", async () => {
    const runs = [...runsOver(12_000, now - 30 * MINUTE, MINUTE, "burst"), ...runsOver(50, now - 5 * MINUTE, MINUTE, "late")];
    const archived = new Set<string>();
    const store = visibility(runs);
    const first = await findUnarchived(store.client, archiveOf(archived), { taskQueue: "q", enough: 200 });
    expect(first.runs.length).toBeGreaterThanOrEqual(200);
    expect(first.runs.length).toBeLessThanOrEqual(5_000);
    expect(first.runs[0].workflowId).toBe("checkout-burst0");
    expect(first.listedUpTo).toBeInstanceOf(Date);

    const listed = await drain(runs, archived, 200);
    expect(runs.filter((r) => !archived.has(r.workflowId))).toEqual([]);
    expect(Math.max(...listed)).toBeLessThanOrEqual(25_000);
  });

  it("lists once from a recent watermark when nothing waits, and ends with the watermark in the future", async () => {
    const runs = runsOver(20, now - 2 * MINUTE, MINUTE, "recent");
    const store = visibility(runs);
    const archived = new Set(runs.map((r) => r.workflowId));
    const found = await findUnarchived(store.client, archiveOf(archived), {
      taskQueue: "q",
      from: new Date(now - 7 * MINUTE),
      enough: 200,
    });
    expect(found).toEqual({ runs: [], latestClose: runs[19].closeTime });
    expect(store.listed).toBe(20);
    // A watermark ahead of this machine's clock (the server's close times are not ours): one listing, no loop.
    const ahead = await findUnarchived(store.client, archiveOf(archived), {
      taskQueue: "q",
      from: new Date(now + MINUTE),
      enough: 200,
    });
    expect(ahead.runs).toEqual([]);
  });
});

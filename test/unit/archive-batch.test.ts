// The archiving schedule's batch, as pure functions: the visibility query of a queue's closed
// checkouts (values quoted, either end of the window open), and where the watermark may go once a
// batch is archived: never past a run left for the next batch.
import { describe, expect, it } from "vitest";
import { nextWatermark } from "../../archive/batch.ts";
import { closedRunsQuery } from "../../archive/closed-runs.ts";
import type { ClosedRun } from "../../archive/copy-run.ts";

const run = (n: number, closeTime: string): ClosedRun => ({
  workflowId: `checkout-chk_${n}`,
  runId: `run-${n}`,
  checkoutId: `chk_${n}`,
  workflowType: "checkout",
  status: "COMPLETED",
  closeTime: new Date(closeTime),
});

describe("the visibility query of a batch", () => {
  it("asks for the queue's closed checkout runs in the window, its values quoted", () => {
    expect(closedRunsQuery("checkout", new Date("2026-12-01T10:00:00.120Z"), new Date("2026-12-01T10:10:00.120Z"))).toBe(
      '(WorkflowType = "checkout" OR WorkflowType = "order" OR WorkflowType = "transfer") AND ExecutionStatus != "Running" AND TaskQueue = "checkout"' +
        ' AND CloseTime >= "2026-12-01T10:00:00.120Z" AND CloseTime < "2026-12-01T10:10:00.120Z"',
    );
    expect(closedRunsQuery('q" OR WorkflowType = "x')).toBe(
      '(WorkflowType = "checkout" OR WorkflowType = "order" OR WorkflowType = "transfer") AND ExecutionStatus != "Running" AND TaskQueue = "q\\" OR WorkflowType = \\"x"',
    );
  });
});

describe("the watermark after a batch", () => {
  const runs = [run(1, "2026-12-01T10:00:01Z"), run(2, "2026-12-01T10:00:02Z"), run(3, "2026-12-01T10:00:02Z")];

  it("stops at the first run left for the next batch, even one closed at the same moment as the last archived", () => {
    expect(nextWatermark({ runs, latestClose: runs[2].closeTime }, 1)).toEqual({ closeTime: runs[1].closeTime, more: true });
    expect(nextWatermark({ runs, latestClose: runs[2].closeTime }, 2)).toEqual({ closeTime: runs[2].closeTime, more: true });
  });

  it("goes as far as a bounded listing went when the batch took every run it found, and says more may follow", () => {
    const listedUpTo = new Date("2026-12-01T10:10:00Z");
    expect(nextWatermark({ runs, listedUpTo, latestClose: runs[2].closeTime }, 3)).toEqual({ closeTime: listedUpTo, more: true });
  });

  it("goes to the newest close seen when the listing reached now, archived before or not", () => {
    const latestClose = new Date("2026-12-01T10:05:00Z");
    expect(nextWatermark({ runs, latestClose }, 200)).toEqual({ closeTime: latestClose, more: false });
    expect(nextWatermark({ runs: [] }, 200)).toEqual({ closeTime: undefined, more: false });
  });
});

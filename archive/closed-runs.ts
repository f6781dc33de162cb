// The closed checkout runs of a task queue that the archive lacks, found from Temporal's visibility
// store: listed window by window from the watermark (less a margin, for visibility records that
// land late), each page checked against HistoryArchive, until there are enough for a batch. The
// store lists in no order a query can choose, so the runs found are sorted here, oldest first.
import type { Client, WorkflowExecutionInfo } from "@temporalio/client";
import { quote } from "../cli/query.ts";
import type { Db } from "../prisma/client.ts";
import { checkoutIdOfWorkflow } from "../workflows/definitions.ts";
import type { ClosedRun } from "./copy-run.ts";

/** How late a run's visibility record may land after its close and still be found. */
export const VISIBILITY_MARGIN_MS = 5 * 60_000;
/** The first window listed after the watermark; each next one is twice as long, up to now. */
const FIRST_WINDOW_MS = 10 * 60_000;
const PAGE_SIZE = 1000;

/** The visibility query of a queue's checkout runs closed in [from, to) (either end open when absent). */
export function closedRunsQuery(taskQueue: string, from?: Date, to?: Date): string {
  return [
    `WorkflowType = "checkout"`,
    `ExecutionStatus != "Running"`,
    `TaskQueue = ${quote(taskQueue)}`,
    ...(from ? [`CloseTime >= "${from.toISOString()}"`] : []),
    ...(to ? [`CloseTime < "${to.toISOString()}"`] : []),
  ].join(" AND ");
}

export interface Unarchived {
  /** Not in the archive, oldest close first (ties by workflow and run ID). */
  runs: ClosedRun[];
  /**
   * How far the listing went: every run that closed before this was listed. Absent when it went
   * up to now; then `latestClose` is the newest close it saw, archived or not.
   */
  listedUpTo?: Date;
  latestClose?: Date;
}

/**
 * Lists from `from` (everything retained when absent) until at least `enough` runs the archive
 * lacks are found or the listing reaches now.
 */
export async function findUnarchived(
  client: Client,
  db: Db,
  options: { taskQueue: string; from?: Date; enough: number },
): Promise<Unarchived> {
  const found: ClosedRun[] = [];
  let latestClose: Date | undefined;
  const listWindow = async (from?: Date, to?: Date) => {
    let page: ClosedRun[] = [];
    const flush = async () => {
      found.push(...(await notArchived(db, page)));
      page = [];
    };
    const query = closedRunsQuery(options.taskQueue, from, to);
    for await (const info of client.workflow.list({ query, pageSize: PAGE_SIZE })) {
      const run = closedRun(info);
      if (!run) continue;
      if (!latestClose || run.closeTime > latestClose) latestClose = run.closeTime;
      page.push(run);
      if (page.length >= PAGE_SIZE) await flush();
    }
    await flush();
  };

  const now = Date.now();
  let from = options.from;
  for (let span = FIRST_WINDOW_MS; ; span *= 2) {
    // The last window (or the only one, from the start of retention) has no upper bound.
    const to = from && from.getTime() + span < now ? new Date(from.getTime() + span) : undefined;
    await listWindow(from, to);
    if (!to) return { runs: sortByClose(found), latestClose };
    if (found.length >= options.enough) return { runs: sortByClose(found), listedUpTo: to, latestClose };
    from = to;
  }
}

function closedRun(info: WorkflowExecutionInfo): ClosedRun | undefined {
  if (!info.closeTime) return undefined; // the query asks for closed runs; a record mid-update is taken next time
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    checkoutId: checkoutIdOfWorkflow(info.workflowId),
    workflowType: info.type,
    status: info.status.name,
    closeTime: info.closeTime,
  };
}

/** The runs of a page that HistoryArchive has no record of (one query, by workflow ID). */
async function notArchived(db: Db, runs: ClosedRun[]): Promise<ClosedRun[]> {
  if (runs.length === 0) return [];
  const archived = await db.historyArchive.findMany({
    where: { workflowId: { in: [...new Set(runs.map((r) => r.workflowId))] } },
    select: { workflowId: true, runId: true },
  });
  const known = new Set(archived.map((r) => `${r.workflowId}/${r.runId}`));
  return runs.filter((r) => !known.has(`${r.workflowId}/${r.runId}`));
}

const sortByClose = (runs: ClosedRun[]) =>
  runs.sort(
    (a, b) =>
      a.closeTime.getTime() - b.closeTime.getTime() || a.workflowId.localeCompare(b.workflowId) || a.runId.localeCompare(b.runId),
  );

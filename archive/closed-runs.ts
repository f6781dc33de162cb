// The closed runs of a task queue's audited workflows (the checkouts, and the orders' later lives)
// that the archive lacks, found from Temporal's visibility
// store: listed window by window of close time from the watermark (less a margin, for visibility
// records that land late), each page checked against HistoryArchive, until there are enough for a
// batch. Windows grow while they are sparse and are narrowed when crowded, so one batch lists a
// bounded number of runs however long the backlog. The store lists in no order a query can
// choose, so the runs found are sorted here, oldest first.
import type { Client, WorkflowExecutionInfo } from "@temporalio/client";
import { quote } from "../cli/query.ts";
import type { Db } from "../prisma/client.ts";
import { checkoutIdOfWorkflow } from "../workflows/definitions.ts";
import type { ClosedRun } from "./copy-run.ts";

/** How late a run's visibility record may land after its close and still be found. */
export const VISIBILITY_MARGIN_MS = 5 * 60_000;
/** The first window listed after the watermark; a window with few runs makes the next one twice as long. */
const FIRST_WINDOW_MS = 10 * 60_000;
/**
 * Runs one window may hold: a window with more is narrowed before it is listed (the store lists
 * in no order, so a window listed in part says nothing of where the rest is).
 */
const WINDOW_LIMIT = 5_000;
/** Runs one batch lists at most, archived ones included: a backlog of archived runs is crossed in steps too. */
const LIST_LIMIT = 20_000;
const MIN_WINDOW_MS = 1000;
const PAGE_SIZE = 1000;
/** Where a queue with no watermark yet starts: every run Temporal still keeps is listed. */
const BEGINNING = new Date(0);

/** The workflows whose histories are the audit trail: a checkout's, its paid order's (workflows/order.ts), a transfer's. */
export const ARCHIVED_WORKFLOW_TYPES = ["checkout", "order", "transfer"] as const;

/** The visibility query of a queue's audited runs closed in [from, to) (either end open when absent). */
export function closedRunsQuery(taskQueue: string, from?: Date, to?: Date): string {
  return [
    `(${ARCHIVED_WORKFLOW_TYPES.map((type) => `WorkflowType = ${quote(type)}`).join(" OR ")})`,
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
 * Lists window after window from `from` (the beginning when absent) until at least `enough` runs
 * the archive lacks are found, LIST_LIMIT runs were listed, or the listing reaches now.
 */
export async function findUnarchived(
  client: Client,
  db: Db,
  options: { taskQueue: string; from?: Date; enough: number },
): Promise<Unarchived> {
  const found: ClosedRun[] = [];
  let listed = 0;
  let latestClose: Date | undefined;
  const now = Date.now();
  let from = options.from ?? BEGINNING;
  // No watermark yet: the whole retention at once, if it is not crowded.
  let span = options.from ? FIRST_WINDOW_MS : now - BEGINNING.getTime();
  for (;;) {
    // The window that reaches now has no upper bound.
    const to = from.getTime() + span < now ? new Date(from.getTime() + span) : undefined;
    const query = closedRunsQuery(options.taskQueue, from, to);
    // Counted first (the server counts without sending a run): a crowded window is narrowed, in
    // proportion, before any run of it is listed; a window of a second is listed whatever it holds.
    const { count } = await client.workflow.count(query);
    if (count > WINDOW_LIMIT && span > MIN_WINDOW_MS) {
      const width = to ? span : now - from.getTime();
      span = Math.max(MIN_WINDOW_MS, Math.floor((width * WINDOW_LIMIT) / count / 2));
      continue;
    }
    const window = count === 0 ? { unarchived: [], listed: 0, latestClose: undefined } : await listWindow(client, db, query);
    found.push(...window.unarchived);
    listed += window.listed;
    if (window.latestClose && (!latestClose || window.latestClose > latestClose)) latestClose = window.latestClose;
    if (!to) return { runs: sortByClose(found), latestClose };
    if (found.length >= options.enough || listed >= LIST_LIMIT) return { runs: sortByClose(found), listedUpTo: to, latestClose };
    if (window.listed < WINDOW_LIMIT / 4) span *= 2;
    from = to;
  }
}

/** One window's runs the archive lacks, checked a page at a time. */
async function listWindow(client: Client, db: Db, query: string) {
  const unarchived: ClosedRun[] = [];
  let listed = 0;
  let latestClose: Date | undefined;
  let page: ClosedRun[] = [];
  for await (const info of client.workflow.list({ query, pageSize: PAGE_SIZE })) {
    const run = closedRun(info);
    if (!run) continue;
    listed++;
    if (!latestClose || run.closeTime > latestClose) latestClose = run.closeTime;
    page.push(run);
    if (page.length >= PAGE_SIZE) {
      unarchived.push(...(await notArchived(db, page)));
      page = [];
    }
  }
  unarchived.push(...(await notArchived(db, page)));
  return { unarchived, listed, latestClose };
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

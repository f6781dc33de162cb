// One closed run into the archive: its history fetched and decrypted with the client's codec
// (codec/history.ts), its secrets removed (archive/redact.ts), appended to the chain
// (archive/chain.ts). The one copy both archivers use: the run's own child (activities/archive.ts
// archiveHistory) and the schedule's batches (archive/batch.ts). A run already in the archive is
// left as it is, whoever archived it, so the two together still make one record.
import type { Client } from "@temporalio/client";
import { fetchDecodedHistory } from "../codec/history.ts";
import type { Db } from "../prisma/client.ts";
import { type ArchiveRecord, appendToArchive } from "./chain.ts";
import { historyToText } from "./history-json.ts";
import { redactHistory } from "./redact.ts";

/** A closed run, as its description or a visibility listing tells it. */
export interface ClosedRun {
  workflowId: string;
  runId: string;
  checkoutId: string | null;
  workflowType: string;
  /** COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, CONTINUED_AS_NEW. */
  status: string;
  closeTime: Date;
}

/** The `checkoutId` of the run's input (a checkout's, an order's), when it has one. */
function checkoutIdInInput(history: Awaited<ReturnType<typeof fetchDecodedHistory>>): string | null {
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  try {
    const input = payload?.data ? JSON.parse(Buffer.from(payload.data).toString("utf8")) : undefined;
    return typeof input?.checkoutId === "string" ? input.checkoutId : null;
  } catch {
    return null; // not JSON: no checkout to name
  }
}

export async function copyRunToArchive(client: Client, db: Db, run: ClosedRun): Promise<ArchiveRecord> {
  const { workflowId, runId } = run;
  // Checked first so a run already archived costs no history fetch; appendToArchive checks again
  // under its lock, for two archivers that get here at once.
  const existing = await db.historyArchive.findUnique({ where: { workflowId_runId: { workflowId, runId } } });
  if (existing) return existing;
  // Decrypted first: the redaction reads the JSON payloads, and the archive outlives any key.
  const decoded = await fetchDecodedHistory(client, workflowId, runId);
  const history = redactHistory(historyToText(decoded));
  return appendToArchive(db, {
    workflowId,
    runId,
    // An order's workflow is named after the order: its input names the checkout.
    checkoutId: run.checkoutId ?? checkoutIdInInput(decoded),
    workflowType: run.workflowType,
    status: run.status,
    closedAt: run.closeTime,
    history,
  });
}

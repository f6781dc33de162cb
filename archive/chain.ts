// The history archive's hash chain. Every record's hash covers its fields and the hash of the
// record before it (the first one follows GENESIS), so changing, inserting or removing any record
// breaks every link after it. Appends are serialized by a transaction-scoped advisory lock: two
// workers archiving at once still build one chain.
import { createHash } from "node:crypto";
import type { Db } from "../prisma/client.ts";

export const GENESIS = "0".repeat(64);
/** pg_advisory_xact_lock key of the archive: any fixed number no other code uses. */
const APPEND_LOCK = 7_244_391_001;

export interface ArchiveEntry {
  workflowId: string;
  runId: string;
  checkoutId: string | null;
  workflowType: string;
  status: string;
  closedAt: Date;
  /** The history's JSON text, secrets removed (archive/redact.ts). */
  history: string;
}

export interface ArchiveRecord extends ArchiveEntry {
  seq: number;
  archivedAt: Date;
  prevHash: string;
  hash: string;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** The hash of a record: its fields in a fixed order, the history by its own digest. */
export function recordHash(record: Omit<ArchiveRecord, "hash">): string {
  return sha256(
    JSON.stringify([
      record.seq,
      record.workflowId,
      record.runId,
      record.checkoutId,
      record.workflowType,
      record.status,
      record.closedAt.toISOString(),
      record.archivedAt.toISOString(),
      sha256(record.history),
      record.prevHash,
    ]),
  );
}

/** Appends the run's history, or returns the record already there for that run (a retried activity). */
export async function appendToArchive(db: Db, entry: ArchiveEntry): Promise<ArchiveRecord> {
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${APPEND_LOCK}::bigint)`;
    const existing = await tx.historyArchive.findUnique({
      where: { workflowId_runId: { workflowId: entry.workflowId, runId: entry.runId } },
    });
    if (existing) return existing;
    const last = await tx.historyArchive.findFirst({ orderBy: { seq: "desc" }, select: { seq: true, hash: true } });
    // Taken under the lock, so archive times follow the chain's order. JS dates hold milliseconds,
    // as TIMESTAMP(3) does: the hash can be recomputed from the row.
    const unhashed = { ...entry, seq: (last?.seq ?? 0) + 1, archivedAt: new Date(), prevHash: last?.hash ?? GENESIS };
    return tx.historyArchive.create({ data: { ...unhashed, hash: recordHash(unhashed) } });
  });
}

/** The newest archived run of a workflow (a reset leaves several runs), if any. */
export async function latestArchived(db: Db, workflowId: string): Promise<ArchiveRecord | null> {
  return db.historyArchive.findFirst({ where: { workflowId }, orderBy: { seq: "desc" } });
}

export interface ChainReport {
  /** Records checked, up to and including the first broken one. */
  checked: number;
  /** The last record's hash when the chain is intact: note it elsewhere to detect a cut-off tail. */
  headHash: string;
  broken?: { seq: number; workflowId: string; runId: string; problem: string };
}

/** Walks the chain from the first record; stops at the first one that does not hold. */
export async function verifyArchive(db: Db, pageSize = 200): Promise<ChainReport> {
  let expected = { seq: 1, prevHash: GENESIS };
  let checked = 0;
  for (;;) {
    const page = await db.historyArchive.findMany({
      where: { seq: { gte: expected.seq } },
      orderBy: { seq: "asc" },
      take: pageSize,
    });
    for (const record of page) {
      checked++;
      const problem = linkProblem(record, expected);
      if (problem) {
        const { seq, workflowId, runId } = record;
        return { checked, headHash: expected.prevHash, broken: { seq, workflowId, runId, problem } };
      }
      expected = { seq: record.seq + 1, prevHash: record.hash };
    }
    if (page.length < pageSize) return { checked, headHash: expected.prevHash };
  }
}

/** Why a record does not follow the one before it (which ended with `expected.prevHash`), if it does not. */
export function linkProblem(record: ArchiveRecord, expected: { seq: number; prevHash: string }): string | undefined {
  if (record.seq !== expected.seq) return `it comes after record ${expected.seq - 1}: ${missing(expected.seq, record.seq - 1)}`;
  if (record.prevHash !== expected.prevHash)
    return `it does not point at the record before it (prevHash ${record.prevHash.slice(0, 12)}…, expected ${expected.prevHash.slice(0, 12)}…)`;
  if (recordHash(record) !== record.hash) return "its content does not match its hash: it was changed after it was written";
  return undefined;
}

const missing = (from: number, to: number) =>
  from === to ? `record ${from} is missing` : `records ${from} to ${to} are missing`;

// The archiving schedule's watermark (ArchiveWatermark, one row per task queue): the close time
// before which every checkout run of the queue is archived. Kept in PostgreSQL, beside the archive
// it describes, so a new worker, or a new schedule, goes on from where the last batch stopped.
import type { Db } from "../prisma/client.ts";

/** The queue's watermark; undefined before its first batch (every retained run is then listed). */
export async function readWatermark(db: Db, taskQueue: string): Promise<Date | undefined> {
  const row = await db.archiveWatermark.findUnique({ where: { taskQueue } });
  return row?.closeTime;
}

/** Moves the watermark to `closeTime`, never back: two batches that overlap cannot undo each other. */
export async function advanceWatermark(db: Db, taskQueue: string, closeTime: Date): Promise<void> {
  await db.$executeRaw`
    INSERT INTO "ArchiveWatermark" ("taskQueue", "closeTime", "updatedAt") VALUES (${taskQueue}, ${closeTime}, now())
    ON CONFLICT ("taskQueue") DO UPDATE SET "closeTime" = GREATEST("ArchiveWatermark"."closeTime", EXCLUDED."closeTime"), "updatedAt" = now()`;
}

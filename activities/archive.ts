// PLACEHOLDER
import type { Db } from "../prisma/client.ts";

export interface ArchiveTarget {
  workflowId: string;
  runId: string;
  checkoutId: string;
}

export interface ArchivedRecord {
  seq: number;
  hash: string;
}

export function archiveActivities(_db: Db) {
  return {
    async archiveHistory(_target: ArchiveTarget): Promise<ArchivedRecord> {
      return { seq: 0, hash: "" };
    },
  };
}

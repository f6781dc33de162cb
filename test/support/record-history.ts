// Records a closed run into the replay corpus (test/histories/<file>), decoded, in the format
// `checkout history <id>` prints, when RECORD_HISTORIES=1: how the corpus's histories are made.
// Without it, nothing is written: the corpus changes only when someone means it to.
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { Client } from "@temporalio/client";
import { historyToText } from "../../archive/history-json.ts";
import { projectRoot } from "../../config.ts";
import { historyFromTemporal } from "../../history/sources.ts";

export async function recordHistory(temporal: Client, workflowId: string, file: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== "1") return;
  const source = await historyFromTemporal(temporal, workflowId);
  if (!source) throw new Error(`no history for ${workflowId}`);
  const text = `{"workflowId":${JSON.stringify(workflowId)},"history":${historyToText({ events: source.events })}}`;
  writeFileSync(path.join(projectRoot, "test", "histories", file), text);
}

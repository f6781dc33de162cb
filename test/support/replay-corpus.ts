// The replay corpus: closed histories recorded with earlier versions of the workflows
// (test/histories/*.json, each {"workflowId", "history"} as archive/history-json.ts writes it).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { historyFromText } from "../../archive/history-json.ts";
import { projectRoot } from "../../config.ts";

const historiesDir = path.join(projectRoot, "test", "histories");

export function recordedHistories() {
  return readdirSync(historiesDir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => {
      const { workflowId, history } = JSON.parse(readFileSync(path.join(historiesDir, file), "utf8"));
      return { file, workflowId: workflowId as string, history: historyFromText(JSON.stringify(history)) };
    });
}

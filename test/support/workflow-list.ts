// `temporal workflow list --query …` with the real CLI, on the run's server, scoped to one test
// stack's task queue.
import { temporalCli } from "./temporal-cli.ts";

/** The workflow IDs the CLI lists, polled until they are `expected` (visibility lags) or time is up. */
export async function listWorkflowIds(query: string, taskQueue: string, expected: string[], timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  const want = JSON.stringify([...expected].sort());
  for (;;) {
    const stdout = await temporalCli(["workflow", "list", "--query", `${query} AND TaskQueue="${taskQueue}"`, "-o", "json"]);
    const ids = parseList(stdout)
      .map((w) => w.execution.workflowId)
      .sort();
    if (JSON.stringify(ids) === want || Date.now() > deadline) return ids;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** One JSON object per workflow, or one array, depending on the CLI version. */
export function parseList(stdout: string): Array<{ execution: { workflowId: string } }> {
  const text = stdout.trim();
  if (!text) return [];
  return text.startsWith("[") ? JSON.parse(text) : text.split(/\n(?=\{)/).map((chunk) => JSON.parse(chunk));
}

// `checkout history <id>`: a checkout's history in the replay corpus's format ({workflowId,
// history}), to record it under test/histories/. `checkout replay <file>... | --archive`: replays
// recorded histories, or every history in a running installation's archive, against the current
// workflow code: a change to a running workflow's commands without patched() fails here, before
// it is deployed. Exit 1 when any history does not replay. Recorded histories are decoded (in
// clear), as the archive's are; one whose payloads are still encrypted replays with the keys
// (PAYLOAD_ENCRYPTION_KEYS), and without them says which key it needs.
import { readFile } from "node:fs/promises";
import { DefaultLogger, makeTelemetryFilterString, Runtime, Worker } from "@temporalio/worker";
import { historyFromText, historyToText } from "../archive/history-json.ts";
import { loadPayloadCodec } from "../codec/settings.ts";
import { loadPayloadEncryption } from "../config.ts";
import { historyFromArchive, historyFromTemporal } from "../history/sources.ts";
import { createDb } from "../prisma/client.ts";
import { dataConverter, workflowsPath } from "../wiring.ts";
import { checkoutWorkflowId } from "../workflows/definitions.ts";
import { CliError, checkoutIdOf, cliDeployment, type Temporal } from "./temporal.ts";

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

type Recorded = { workflowId: string; history: ReturnType<typeof historyFromText> };

export async function historyCommand(temporal: Temporal, arg: string, io: Io): Promise<number> {
  const workflowId = checkoutWorkflowId(checkoutIdOf(arg.trim()));
  const databaseUrl = process.env.DATABASE_URL;
  const db = databaseUrl ? createDb(databaseUrl) : undefined;
  try {
    const source =
      (await historyFromTemporal(temporal.client, workflowId)) ?? (db ? await historyFromArchive(db, workflowId) : undefined);
    if (!source) throw new CliError(`Unknown checkout ${workflowId}: not in Temporal${db ? " nor in the archive" : ""}.`);
    io.out(`{"workflowId":${JSON.stringify(workflowId)},"history":${historyToText({ events: source.events })}}`);
    return 0;
  } finally {
    await db?.$disconnect();
  }
}

export async function replayCommand(options: { files: string[]; archive: boolean; limit: number; io: Io }): Promise<number> {
  const recorded: Recorded[] = [];
  for (const file of options.files) {
    const { workflowId, history } = JSON.parse(await readFile(file, "utf8"));
    recorded.push({ workflowId, history: historyFromText(JSON.stringify(history)) });
  }
  if (options.archive) recorded.push(...(await archived(options.limit)));
  if (recorded.length === 0) throw new CliError("Nothing to replay: name history files, or --archive (with DATABASE_URL).");

  // The SDK's own warnings would repeat each failure below, unformatted.
  Runtime.install({
    logger: new DefaultLogger("ERROR"),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: "ERROR" }), forward: {} } },
  });
  // Optional: histories in clear need no key, and an encrypted one names the key it lacks.
  const { codec } = await loadPayloadCodec(loadPayloadEncryption(process.env), cliDeployment(process.env), { optional: true });
  let failed = 0;
  const replayOptions = { workflowsPath, replayName: "checkout replay", dataConverter: dataConverter(codec) };
  for await (const result of Worker.runReplayHistories(replayOptions, recorded)) {
    if (result.error) {
      failed++;
      options.io.err(`${result.workflowId}: ${result.error.message}`);
    }
  }
  options.io.out(`${recorded.length - failed} of ${recorded.length} histories replay against the current workflows`);
  return failed ? 1 : 0;
}

/** The archive's records, newest first: each run's history, with its workflow id. */
async function archived(limit: number): Promise<Recorded[]> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new CliError("Set DATABASE_URL to the service's PostgreSQL: the archive is kept there.");
  const db = createDb(databaseUrl);
  try {
    const rows = await db.historyArchive.findMany({
      orderBy: { seq: "desc" },
      take: limit,
      select: { workflowId: true, history: true },
    });
    return rows.map((row) => ({ workflowId: row.workflowId, history: historyFromText(row.history) }));
  } finally {
    await db.$disconnect();
  }
}

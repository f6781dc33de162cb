// `checkout verify-archive`: walks the history archive's hash chain (archive/chain.ts) and names
// the first record that does not hold. Exit 0 intact, 1 broken.
import { verifyArchive } from "../archive/chain.ts";
import { createDb } from "../prisma/client.ts";
import { CliError } from "./temporal.ts";

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export async function verifyArchiveCommand(options: { json: boolean; io: Io }): Promise<number> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new CliError("Set DATABASE_URL to the service's PostgreSQL: the archive is kept there.");
  const db = createDb(databaseUrl);
  try {
    const report = await verifyArchive(db);
    if (options.json) options.io.out(JSON.stringify(report, null, 2));
    if (report.broken) {
      const { seq, workflowId, runId, problem } = report.broken;
      options.io.err(`Archive broken at record ${seq} (${workflowId}, run ${runId}): ${problem}.`);
      options.io.err(`Records 1 to ${seq - 1} hold; every record from ${seq} on is unproven.`);
      return 1;
    }
    if (!options.json) options.io.out(`Archive intact: ${report.checked} record(s); head hash ${report.headHash}`);
    return 0;
  } finally {
    await db.$disconnect();
  }
}

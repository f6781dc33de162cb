// `npm run chaos`: the fault-injection suite. Brings the service up in its production shape
// (chaos/cluster.ts), and for each fault posts a batch of checkouts, strikes the fault 1.5 s in
// (once a slow charge is being processed) with about `concurrency` of them in flight, waits for
// every one to end, and checks them
// (chaos/verify.ts). One line per fault; exit 1 on any loss, double charge, order or email amiss,
// 500 answer, or process that died when nobody killed it.
//   CHAOS_CHECKOUTS (30), CHAOS_CONCURRENCY (10), CHAOS_FAULTS (all: power-cut,workers,api,temporal,postgres)
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createDb, type Db } from "../prisma/client.ts";
import { startCluster } from "./cluster.ts";
import { FAULTS } from "./faults.ts";
import { postCheckouts } from "./load.ts";
import { clean, type Verdict, verify } from "./verify.ts";

export interface FaultResult {
  fault: string;
  verdict: Verdict;
  /** From the fault to the last checkout's end. */
  recoverySeconds: number;
  unexpectedExits: string[];
}

export interface ChaosOptions {
  checkouts: number;
  concurrency: number;
  faults: string[];
  /** How long every checkout has to end after its fault. */
  boundSeconds?: number;
  log?: (line: string) => void;
}

export async function runChaos(options: ChaosOptions): Promise<FaultResult[]> {
  const log = options.log ?? (() => {});
  const dataDir = await mkdtemp(path.join(tmpdir(), "checkout-chaos-"));
  const cluster = await startCluster({ dataDir, sandboxSlowMs: 3_000, log });
  const db = createDb(cluster.databaseUrl);
  const results: FaultResult[] = [];
  try {
    for (const name of options.faults) {
      const fault = FAULTS.find((f) => f.name === name);
      if (!fault) throw new Error(`unknown fault "${name}"; there are ${FAULTS.map((f) => f.name).join(", ")}`);
      const exitsBefore = cluster.unexpectedExits().length;
      const load = postCheckouts({
        apiUrl: cluster.apiUrl,
        apiKey: cluster.apiKey,
        count: options.checkouts,
        concurrency: options.concurrency,
        keyPrefix: `chaos-${Date.now()}-${fault.name}`,
      });
      await inFlight(db, 1_500);
      const struckAt = Date.now();
      await fault.strike(cluster);
      const posted = await load;
      const verdict = await verify(posted, {
        apiUrl: cluster.apiUrl,
        apiKey: cluster.apiKey,
        db,
        mail: cluster.mail,
        deadline: struckAt + (options.boundSeconds ?? 180) * 1000,
      });
      const result = {
        fault: fault.name,
        verdict,
        recoverySeconds: (Date.now() - struckAt) / 1000,
        unexpectedExits: cluster.unexpectedExits().slice(exitsBefore),
      };
      results.push(result);
      log(describe(result));
    }
  } finally {
    await db.$disconnect();
    await cluster.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  return results;
}

/**
 * Waits `atLeastMs`, then until a slow sandbox charge is being processed (at most 5 s more): the
 * moment a crash hurts most, since the process answering that charge dies with it.
 */
async function inFlight(db: Db, atLeastMs: number): Promise<void> {
  await new Promise((r) => setTimeout(r, atLeastMs));
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline && (await db.sandboxCharge.count({ where: { status: "PROCESSING" } })) === 0) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function passed(result: FaultResult): boolean {
  return clean(result.verdict) && result.unexpectedExits.length === 0;
}

export function describe({ fault, verdict: v, recoverySeconds, unexpectedExits }: FaultResult): string {
  const line =
    `${passed({ fault, verdict: v, recoverySeconds, unexpectedExits }) ? "ok  " : "FAIL"} ${fault.padEnd(9)} ` +
    `${v.accepted} accepted, ${v.started} started, ${v.ended} ended, ${v.lost.length} lost, ` +
    `${v.doubleCharges.length} double charges, ${v.orderMismatches.length} order mismatches, ` +
    `${v.lostEmails.length} lost emails (${v.uncertainEmails.length} UNCERTAIN), ${v.wrongOutcomes.length} wrong outcomes, ` +
    `${v.serverErrors} 500s, ${unexpectedExits.length} unexpected exits; all ended ${recoverySeconds.toFixed(1)} s after the fault`;
  const details = [
    ...v.lost,
    ...v.doubleCharges,
    ...v.orderMismatches,
    ...v.lostEmails,
    ...v.uncertainEmails,
    ...v.wrongOutcomes,
    ...unexpectedExits,
  ];
  return [line, ...details.map((d) => `       ${d}`)].join("\n");
}

const positive = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number above 0`);
  return value;
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const faults = (process.env.CHAOS_FAULTS ?? FAULTS.map((f) => f.name).join(",")).split(",").map((f) => f.trim());
  runChaos({
    checkouts: positive("CHAOS_CHECKOUTS", 30),
    concurrency: positive("CHAOS_CONCURRENCY", 10),
    faults,
    log: (line) => console.log(line),
  }).then(
    (results) => process.exit(results.every(passed) ? 0 : 1),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

// `npm run bench`: the whole embedded stack (`npm start`'s start.ts, on free ports and a scratch
// data folder) under a load of sandbox checkouts. Reports how long POST /checkouts takes to
// answer, how long a checkout takes from POST to its workflow's end, the throughput, how long
// after its close a history is archived, and the service process's memory. Numbers, not
// verdicts: compare them across changes on the same machine.
//   BENCH_CHECKOUTS (default 100)  BENCH_CONCURRENCY (default 10)
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadPayloadCodec } from "../codec/settings.ts";
import { loadPayloadEncryption, projectRoot } from "../config.ts";
import { freePort } from "../infra/free-port.ts";
import { type DevelopmentKeys, developmentKeysFile } from "../merchants/development-keys.ts";
import { createDb } from "../prisma/client.ts";
import { connectClient } from "../wiring.ts";
import { checkoutWorkflowId } from "../workflows/definitions.ts";

const total = Number(process.env.BENCH_CHECKOUTS ?? 100);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 10);

const dataDir = await mkdtemp(path.join(tmpdir(), "checkout-bench-"));
const ports = {
  api: await freePort(),
  temporal: await freePort(),
  ui: await freePort(),
  pg: await freePort(),
  smtp: await freePort(),
};
const { TEMPORAL_ADDRESS, DATABASE_URL, SMTP_URL, ...env } = process.env;
const serviceEnv = {
  ...env,
  DATA_DIR: dataDir,
  PORT: String(ports.api),
  TEMPORAL_DEV_PORT: String(ports.temporal),
  TEMPORAL_DEV_UI_PORT: String(ports.ui),
  EMBEDDED_POSTGRES_PORT: String(ports.pg),
  SMTP_CATCHER_PORT: String(ports.smtp),
  CODEC_SERVER_PORT: "0",
};
const service = spawn(process.execPath, ["--import", "tsx", "start.ts"], {
  cwd: projectRoot,
  env: serviceEnv,
  stdio: ["ignore", "pipe", "pipe"],
});

try {
  const databaseUrl = await untilUp(service);
  const api = `http://127.0.0.1:${ports.api}`;
  const { secretKey } = JSON.parse(await readFile(developmentKeysFile(dataDir), "utf8")) as DevelopmentKeys;
  // The development key the service made in its data folder (or the PAYLOAD_ENCRYPTION_KEYS it was given).
  const { codec } = await loadPayloadCodec(loadPayloadEncryption(serviceEnv), "beside-dev-server");
  const { client: temporal, close } = await connectClient({
    address: `127.0.0.1:${ports.temporal}`,
    namespace: "default",
    codec,
  });
  const rssBefore = await rssOf(service.pid);

  const posted: number[] = [];
  const endToEnd: number[] = [];
  const ids: string[] = [];
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const t0 = performance.now();
        const res = await fetch(`${api}/checkouts`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "idempotency-key": `bench-${randomBytes(8).toString("hex")}`,
            authorization: `Bearer ${secretKey}`,
          },
          body: JSON.stringify({
            customer: { id: `cus_bench_${next % 20}`, email: "bench@example.com" },
            items: [{ sku: "tee", name: "T-shirt", quantity: 2, unitAmount: 1999 }],
            currency: "USD",
            payment: { provider: "sandbox", token: "tok_approve" },
          }),
        });
        if (res.status !== 202) throw new Error(`POST /checkouts answered ${res.status}: ${await res.text()}`);
        const { id } = (await res.json()) as { id: string };
        posted.push(performance.now() - t0);
        await temporal.workflow.getHandle(checkoutWorkflowId(id)).result();
        endToEnd.push(performance.now() - t0);
        ids.push(id);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const rssAfter = await rssOf(service.pid);

  // Archive lag: from each run's close to its record.
  const db = createDb(databaseUrl);
  const workflowIds = ids.map(checkoutWorkflowId);
  const deadline = Date.now() + 120_000;
  while ((await db.historyArchive.count({ where: { workflowId: { in: workflowIds } } })) < ids.length && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 250));
  const records = await db.historyArchive.findMany({ where: { workflowId: { in: workflowIds } } });
  const archiveLag = records.map((r) => r.archivedAt.getTime() - r.closedAt.getTime());
  await db.$disconnect();
  await close();

  console.log(`\n${total} sandbox checkouts, ${concurrency} at a time, on the embedded stack\n`);
  console.table({
    "POST /checkouts answer (ms)": summary(posted),
    "POST to workflow end (ms)": summary(endToEnd),
    "close to archive record (ms)": { ...summary(archiveLag), n: records.length },
  });
  console.log(`throughput: ${(total / seconds).toFixed(1)} checkouts/s over ${seconds.toFixed(1)} s`);
  console.log(`service process RSS: ${rssBefore} MiB at rest, ${rssAfter} MiB after the load`);
} finally {
  service.kill("SIGTERM");
  await new Promise((resolve) => service.once("exit", resolve));
  await rm(dataDir, { recursive: true, force: true });
}

function summary(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN);
  return { p50: at(0.5), p95: at(0.95), max: at(1), n: sorted.length };
}

async function rssOf(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return Math.round(kib / 1024);
}

/** Resolves with the embedded database's URL once start.ts says it is up. */
function untilUp(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`the service did not come up in 120 s:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const url = /Database\s+(postgres\S+)/.exec(output)?.[1];
      if (output.includes("Checkout is up.") && url) {
        clearTimeout(timer);
        resolve(url);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`the service exited (${code}):\n${output}`)));
  });
}

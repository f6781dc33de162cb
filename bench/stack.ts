// The processes the bench measures: the service (`start.ts`, `npm start`'s embedded stack: the
// Temporal dev server, PostgreSQL, the SMTP catcher, worker and API in one node process) on free
// ports and a scratch data folder; the bare reference's worker (bench/bare-worker.ts); and, for
// the scale-out phase, more `worker.ts` processes on the same server, database, SMTP and sandbox.
// Secrets (payload keys, the webhook secret key, the sandbox's webhook secret) are the run's own,
// given to every process, so that a second worker reads what the first one wrote.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { formatKeys, generateKey } from "../codec/keys.ts";
import { projectRoot } from "../config.ts";
import { freePort } from "../infra/free-port.ts";
import type { BenchOptions } from "./options.ts";
import { readProcesses, tree } from "./proc.ts";

export interface NodeProcess {
  child: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

export interface Stack {
  apiUrl: string;
  temporalAddress: string;
  namespace: string;
  databaseUrl: string;
  checkoutQueue: string;
  bareQueue: string;
  /** The environment every checkout process was given (PAYLOAD_ENCRYPTION_KEYS for the bench's client too). */
  env: Record<string, string | undefined>;
  /** The service's API metrics (prom-client's, with the process's heap: the same process as its worker). */
  serviceMetricsUrl: string;
  /** Whether the Temporal server and PostgreSQL are the service's children (and so measured). */
  embedded: { temporal: boolean; postgres: boolean };
  service: NodeProcess;
  bareWorker: NodeProcess;
  extraWorkers: NodeProcess[];
  /** Starts `worker.ts` processes until there are `count` beside the service's own worker. */
  scaleExtraWorkers(count: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startStack(options: BenchOptions): Promise<Stack> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "checkout-bench-"));
  const run = randomBytes(3).toString("hex");
  const ports = {
    api: await freePort(),
    temporal: await freePort(),
    ui: await freePort(),
    pg: await freePort(),
    smtp: await freePort(),
    apiMetrics: await freePort(),
  };
  const apiUrl = `http://127.0.0.1:${ports.api}`;
  const temporalAddress = options.temporalAddress ?? `127.0.0.1:${ports.temporal}`;
  const checkoutQueue = `bench-checkout-${run}`;
  const bareQueue = `bench-bare-${run}`;
  // A developer's own service URLs must not leak in: whatever the bench is not told runs embedded,
  // and no broker is published to (the checkouts have no subscribers). The WORKER_* tuning
  // settings pass on to every worker, the bare one included.
  const { TEMPORAL_ADDRESS, DATABASE_URL, SMTP_URL, SANDBOX_URL, EVENTS_URL, ...inherited } = process.env;
  const shared = {
    ...inherited,
    TEMPORAL_TASK_QUEUE: checkoutQueue,
    PAYLOAD_ENCRYPTION_KEYS: process.env.PAYLOAD_ENCRYPTION_KEYS || formatKeys([generateKey(`bench-${run}`)]),
    WEBHOOK_SECRET_KEY: process.env.WEBHOOK_SECRET_KEY || randomBytes(32).toString("base64"),
    SANDBOX_WEBHOOK_SECRET: `whsec_bench_${randomBytes(12).toString("hex")}`,
    // npm start's development defaults would give each paid checkout an order workflow and its
    // delivery timer: the bench measures the checkout alone, as it always has.
    FULFILMENT_AUTO_DELIVER_SECONDS: inherited.FULFILMENT_AUTO_DELIVER_SECONDS || "off",
    PAY_AGAIN_WINDOW_SECONDS: inherited.PAY_AGAIN_WINDOW_SECONDS || "0",
  };
  const serviceEnv = {
    ...shared,
    DATA_DIR: dataDir,
    PORT: String(ports.api),
    TEMPORAL_DEV_PORT: String(ports.temporal),
    TEMPORAL_DEV_UI_PORT: String(ports.ui),
    EMBEDDED_POSTGRES_PORT: String(ports.pg),
    SMTP_CATCHER_PORT: String(ports.smtp),
    CODEC_SERVER_PORT: "0",
    // Metrics served as `npm start` serves them, on ports of the run's own (its defaults may be taken).
    API_METRICS_PORT: String(ports.apiMetrics),
    WORKER_METRICS_PORT: String(await freePort()),
    ...(options.temporalAddress ? { TEMPORAL_ADDRESS: options.temporalAddress } : {}),
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
  };

  const started: NodeProcess[] = [];
  const stopAll = async () => {
    for (const p of started.splice(0).reverse()) await p.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const profiled = options.profile
      ? { args: ["--import", "./bench/cpu-profile.mjs"], env: { BENCH_PROFILE_FILE: path.resolve(projectRoot, options.profile) } }
      : { args: [], env: {} };
    const service = await startNode(
      "the service (start.ts)",
      [...profiled.args, "start.ts"],
      { ...serviceEnv, ...profiled.env },
      "Checkout is up.",
      180_000,
    );
    started.push(service);
    const databaseUrl = options.databaseUrl ?? /Database\s+(postgres\S+)/.exec(service.output())?.[1];
    if (!databaseUrl) throw new Error(`start.ts did not print its database URL:\n${service.output()}`);
    const workerEnv = {
      ...shared,
      TEMPORAL_ADDRESS: temporalAddress,
      DATABASE_URL: databaseUrl,
      SMTP_URL: `smtp://127.0.0.1:${ports.smtp}`,
      SANDBOX_ENABLED: "true",
      SANDBOX_URL: `${apiUrl}/sandbox`,
    };
    const bareWorker = await startNode(
      "the bare worker",
      ["bench/bare-worker.ts"],
      { ...shared, TEMPORAL_ADDRESS: temporalAddress, BENCH_BARE_TASK_QUEUE: bareQueue },
      "bare worker polling",
    );
    started.push(bareWorker);
    const extraWorkers: NodeProcess[] = [];
    return {
      apiUrl,
      temporalAddress,
      namespace: process.env.TEMPORAL_NAMESPACE || "default",
      databaseUrl,
      checkoutQueue,
      bareQueue,
      env: serviceEnv,
      serviceMetricsUrl: `http://127.0.0.1:${ports.apiMetrics}/metrics`,
      embedded: { temporal: !options.temporalAddress, postgres: !options.databaseUrl },
      service,
      bareWorker,
      extraWorkers,
      async scaleExtraWorkers(count) {
        while (extraWorkers.length > count) await extraWorkers.pop()?.stop();
        while (extraWorkers.length < count) {
          const env = { ...workerEnv, WORKER_METRICS_PORT: String(await freePort()) }; // as the service's worker
          const worker = await startNode(`worker ${extraWorkers.length + 2}`, ["worker.ts"], env, "worker polling");
          extraWorkers.push(worker);
          started.push(worker);
        }
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function killTree(pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  for (const p of tree(await readProcesses(), pid).reverse()) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
}

/** A node process run as `npm start` runs one (tsx), ready once it prints `ready`. */
function startNode(
  name: string,
  args: string[],
  env: Record<string, string | undefined>,
  ready: string,
  timeoutMs = 120_000,
): Promise<NodeProcess & { output(): string }> {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: projectRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      // A process that does not stop in time is killed with everything under it: its own dev
      // server and PostgreSQL must not outlive the run.
      const timer = setTimeout(() => void killTree(child.pid), 60_000);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${name} was not up in ${timeoutMs / 1000} s:\n${output}`));
    }, timeoutMs);
    let up = false;
    let tail = "";
    const onData = (chunk: Buffer) => {
      // The start banner is kept for reading; after it, only a tail for a death's message.
      if (!up) output += chunk;
      tail = (tail + chunk).slice(-4000);
      if (!up && output.includes(ready)) {
        up = true;
        clearTimeout(timer);
        resolve({ child, pid: child.pid ?? 0, stop, output: () => output });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (!up) reject(new Error(`${name} exited (${code ?? signal}):\n${output}`));
      else if (!stopping) console.error(`[bench] ${name} exited (${code ?? signal}) on its own:\n${tail}`);
    });
  });
}

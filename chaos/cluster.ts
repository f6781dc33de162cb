// The service in its production shape, as separate processes that can be killed for real: the
// Temporal dev server (SQLite file), PostgreSQL (embedded binaries, data on disk), the API
// (`api/server.ts`, which also serves the sandbox provider) and two workers (`worker.ts`). The SMTP
// server stays up in this process: it stands for the mail server outside the box. Every process
// keeps its port and data across restarts. A process that exits when nobody killed it is counted.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { SCOPES } from "../api/caller.ts";
import { formatKeys, generateKey } from "../codec/keys.ts";
import { projectRoot } from "../config.ts";
import { type EmbeddedDatabase, startEmbeddedPostgres } from "../infra/embedded-postgres.ts";
import { freePort, isListening } from "../infra/free-port.ts";
import { type SmtpCatcher, startSmtpCatcher } from "../infra/smtp-catcher.ts";
import { findTemporalCli } from "../infra/temporal-cli.ts";
import { type DevServer, startTemporalDevServer } from "../infra/temporal-dev-server.ts";
import { createApiKey } from "../merchants/api-keys.ts";
import { DEFAULT_MERCHANT_ID } from "../merchants/merchants.ts";
import { createDb } from "../prisma/client.ts";
import { applyMigrations } from "../prisma/migrations.ts";

export type ServiceName = "postgres" | "temporal" | "api" | "worker-1" | "worker-2";
export const SERVICES: ServiceName[] = ["postgres", "temporal", "api", "worker-1", "worker-2"];

export interface Cluster {
  apiUrl: string;
  /** A secret key with every scope, for the load and the verdict. */
  apiKey: string;
  databaseUrl: string;
  mail: SmtpCatcher;
  /** SIGKILLs one service (an expected death). */
  kill(name: ServiceName): Promise<void>;
  /** Starts a killed service again, on the same port and data. */
  restart(name: ServiceName): Promise<void>;
  /** Exits nobody asked for, with what the process printed last. */
  unexpectedExits(): string[];
  stop(): Promise<void>;
}

export interface ClusterOptions {
  dataDir: string;
  /** How long the sandbox's tok_slow takes. */
  sandboxSlowMs?: number;
  log?: (line: string) => void;
}

interface NodeService {
  child: ChildProcess;
  killed: boolean;
  output: string;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const log = options.log ?? (() => {});
  const [pgPort, temporalPort, uiPort, apiPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const cli = await findTemporalCli({ log: () => {} });
  const mail = await startSmtpCatcher({ port: 0 });
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const unexpected: string[] = [];

  let postgres: EmbeddedDatabase | undefined;
  let temporal: DevServer | undefined;
  const nodes = new Map<ServiceName, NodeService>();

  const startPostgres = async () => {
    postgres = await startEmbeddedPostgres({ dataDir: options.dataDir, port: pgPort, database: "checkout", persistent: true });
  };
  const startTemporal = async () => {
    temporal = await startTemporalDevServer({
      cli,
      port: temporalPort,
      uiPort,
      namespace: "default",
      dbFile: path.join(options.dataDir, "temporal", "dev.sqlite"),
    });
  };
  await startPostgres();
  const databaseUrl = postgres!.url;
  await applyMigrations(databaseUrl);
  const keyDb = createDb(databaseUrl);
  const { key: apiKey } = await createApiKey(keyDb, { merchantId: DEFAULT_MERCHANT_ID, type: "secret", scopes: SCOPES });
  await keyDb.$disconnect();
  await startTemporal();

  const env: Record<string, string> = {
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    DATABASE_URL: databaseUrl,
    SMTP_URL: mail.url,
    PORT: String(apiPort),
    SANDBOX_ENABLED: "true",
    SANDBOX_URL: `${apiUrl}/sandbox`,
    SANDBOX_WEBHOOK_SECRET: `whsec_chaos_${randomBytes(12).toString("hex")}`,
    SANDBOX_SLOW_MS: String(options.sandboxSlowMs ?? 2000),
    RISK_MAX_FAILED_PAYMENTS: "0",
    // The load polls every checkout from one address: the faults are measured here, not the limits.
    RATE_LIMIT_PER_IP_PER_MINUTE: "0",
    // The API and the workers must share a key; the run's own, unless one is given.
    PAYLOAD_ENCRYPTION_KEYS: process.env.PAYLOAD_ENCRYPTION_KEYS || formatKeys([generateKey("chaos")]),
    WEBHOOK_SECRET_KEY: randomBytes(32).toString("base64"),
  };

  const startNode = (name: ServiceName) =>
    new Promise<void>((resolve, reject) => {
      const [script, ready] = name === "api" ? ["api/server.ts", "API on "] : ["worker.ts", "worker polling"];
      const child = spawn(process.execPath, ["--import", "tsx", script], {
        cwd: projectRoot,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const service: NodeService = { child, killed: false, output: "" };
      nodes.set(name, service);
      let started = false;
      const onData = (chunk: Buffer) => {
        service.output = (service.output + chunk.toString()).slice(-6000);
        if (!started && service.output.includes(ready)) {
          started = true;
          resolve();
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      child.once("exit", (code, signal) => {
        if (!service.killed) unexpected.push(`${name} exited (${code ?? signal}) on its own:\n${service.output.slice(-2000)}`);
        if (!started) reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${service.output}`));
      });
    });

  const start = async (name: ServiceName) => {
    if (name === "postgres") return startPostgres();
    if (name === "temporal") return startTemporal();
    return startNode(name);
  };

  const kill = async (name: ServiceName) => {
    if (name === "postgres") {
      // The postmaster's pid is the first line of postmaster.pid; its backends follow it down.
      const pid = Number((await readFile(path.join(options.dataDir, "postgres", "postmaster.pid"), "utf8")).split("\n")[0]);
      process.kill(pid, "SIGKILL");
      postgres = undefined;
      await until(async () => !(await isListening(pgPort)) && !alive(pid), `postgres (${pid}) to go`);
      await sleep(500); // its backends notice the postmaster's death and exit
      return;
    }
    if (name === "temporal") {
      const pid = temporal!.pid;
      process.kill(pid, "SIGKILL");
      temporal = undefined;
      await until(async () => !(await isListening(temporalPort)) && !alive(pid), `temporal (${pid}) to go`);
      return;
    }
    const service = nodes.get(name);
    if (!service || service.child.exitCode !== null || service.child.signalCode !== null) return;
    service.killed = true;
    const exited = new Promise((resolve) => service.child.once("exit", resolve));
    service.child.kill("SIGKILL");
    await exited;
  };

  for (const name of ["api", "worker-1", "worker-2"] as const) await startNode(name);
  log(`cluster up: API ${apiUrl}, Temporal 127.0.0.1:${temporalPort}, PostgreSQL 127.0.0.1:${pgPort}`);

  return {
    apiUrl,
    apiKey,
    databaseUrl,
    mail,
    kill,
    restart: start,
    unexpectedExits: () => [...unexpected],
    async stop() {
      for (const service of nodes.values()) {
        service.killed = true;
        if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill("SIGTERM");
      }
      await Promise.all(
        [...nodes.values()].map((s) =>
          s.child.exitCode === null && s.child.signalCode === null
            ? new Promise((resolve) => s.child.once("exit", resolve))
            : undefined,
        ),
      );
      await temporal?.stop();
      await postgres?.stop();
      await mail.stop();
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Runs `temporal server start-dev`: the real Temporal server with its Web UI, on SQLite, with
// the project's search attributes registered, and its Web UI reading payloads through the codec
// server when given one. Used by `npm start` and by the tests.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { Connection } from "@temporalio/client";
import { searchAttributes } from "../workflows/definitions.ts";
import { isListening } from "./free-port.ts";

export interface DevServerOptions {
  cli: string;
  port: number;
  uiPort: number;
  namespace: string;
  /** SQLite file that keeps workflows across restarts; in memory when absent. */
  dbFile?: string;
  /** The codec server the Web UI decodes payloads with (`--ui-codec-endpoint`; codec/server.ts). */
  codecEndpoint?: string;
  /**
   * `PRAGMA=VALUE` settings of the SQLite file (`--sqlite-pragma`): `npm start` asks for WAL with
   * synchronous=normal (TEMPORAL_DEV_SQLITE_PRAGMAS), which the README weighs against durability.
   */
  sqlitePragmas?: string[];
  log?: (line: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  /** The server's process id (the fault-injection suite kills it). */
  pid: number;
  stop(): Promise<void>;
}

const typeNames: Record<string, string> = {
  KEYWORD: "Keyword",
  INT: "Int",
  TEXT: "Text",
  DOUBLE: "Double",
  BOOL: "Bool",
  DATETIME: "Datetime",
  KEYWORD_LIST: "KeywordList",
};

export function searchAttributeFlags(): string[] {
  return Object.values(searchAttributes).flatMap((key) => ["--search-attribute", `${key.name}=${typeNames[key.type]}`]);
}

export async function startTemporalDevServer(opts: DevServerOptions): Promise<DevServer> {
  const address = `127.0.0.1:${opts.port}`;
  if (await isListening(opts.port)) {
    throw new Error(
      `Port ${opts.port} is taken: stop what runs there, or set TEMPORAL_DEV_PORT (or TEMPORAL_ADDRESS to use that server).`,
    );
  }
  if (opts.dbFile) await mkdir(path.dirname(opts.dbFile), { recursive: true });
  const args = [
    "server",
    "start-dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(opts.port),
    "--ui-port",
    String(opts.uiPort),
    "--namespace",
    opts.namespace,
    "--log-level",
    "warn",
    ...(opts.dbFile ? ["--db-filename", opts.dbFile] : []),
    ...(opts.dbFile ? (opts.sqlitePragmas ?? []).flatMap((pragma) => ["--sqlite-pragma", pragma]) : []),
    ...(opts.codecEndpoint ? ["--ui-codec-endpoint", opts.codecEndpoint] : []),
    ...searchAttributeFlags(),
  ];
  const child = spawn(opts.cli, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));

  const deadline = Date.now() + 60_000;
  for (;;) {
    const done = await Promise.race([exited.then(() => true), sleep(250).then(() => false)]);
    if (done) throw new Error(`temporal server start-dev exited early:\n${output}`);
    if (await canConnect(address)) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`temporal server start-dev did not answer on ${address} within 60 s:\n${output}`);
    }
  }
  opts.log?.(`Temporal dev server on ${address}, Web UI on http://127.0.0.1:${opts.uiPort}`);
  return {
    address,
    uiUrl: `http://127.0.0.1:${opts.uiPort}`,
    pid: child.pid ?? 0,
    stop: () => stopChild(child, exited),
  };
}

async function canConnect(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 1000 });
    try {
      await connection.healthService.check({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const stopped = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
  if (!stopped) {
    child.kill("SIGKILL");
    await exited;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

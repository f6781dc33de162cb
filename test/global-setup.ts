// One real Temporal dev server and one real PostgreSQL database per test run, the workflow
// bundle built once, and the run's payload encryption keys. TEMPORAL_ADDRESS / DATABASE_URL point
// the run at existing servers instead.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { bundleWorkflowCode } from "@temporalio/worker";
import type { TestProject } from "vitest/node";
import { formatKeys, generateKey } from "../codec/keys.ts";
import { type EmbeddedDatabase, startEmbeddedPostgres } from "../infra/embedded-postgres.ts";
import { freePort } from "../infra/free-port.ts";
import { findTemporalCli } from "../infra/temporal-cli.ts";
import { type DevServer, startTemporalDevServer } from "../infra/temporal-dev-server.ts";
import { applyMigrations } from "../prisma/migrations.ts";
import { workflowsPath } from "../wiring.ts";
import { createScratchDatabase, dropDatabase } from "./support/databases.ts";

declare module "vitest" {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalCli: string;
    databaseUrl: string;
    /** A server URL on which tests may create scratch databases of their own. */
    adminDatabaseUrl: string;
    workflowBundlePath: string;
    /** PAYLOAD_ENCRYPTION_KEYS for every client, worker and CLI of the run (an old key, then the one in use). */
    payloadEncryptionKeys: string;
  }
}

export default async function setup(project: TestProject) {
  // TEST_STACK=off: for suites that need no servers (unit and gateway-adapter tests).
  if (process.env.TEST_STACK === "off") return;
  const workDir = await mkdtemp(path.join(tmpdir(), "checkout-test-"));
  const cleanups: Array<() => Promise<unknown>> = [];

  const teardown = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err) => console.error(err));
    await rm(workDir, { recursive: true, force: true });
  };
  try {
    const temporalCli = await findTemporalCli({ log: () => {} });
    let temporalAddress = process.env.TEMPORAL_ADDRESS;
    if (!temporalAddress) {
      const dev: DevServer = await startTemporalDevServer({
        cli: temporalCli,
        port: await freePort(),
        uiPort: await freePort(),
        namespace: "default",
      });
      cleanups.push(dev.stop);
      temporalAddress = dev.address;
    }

    let adminDatabaseUrl = process.env.DATABASE_URL;
    if (!adminDatabaseUrl) {
      const embedded: EmbeddedDatabase = await startEmbeddedPostgres({
        dataDir: workDir,
        port: await freePort(),
        database: "checkout",
        persistent: false,
      });
      cleanups.push(embedded.stop);
      adminDatabaseUrl = embedded.url;
    }
    // A fresh database for this run, dropped at the end: runs never see each other's rows.
    const databaseUrl = await createScratchDatabase(adminDatabaseUrl, `checkout_test_${randomBytes(4).toString("hex")}`);
    cleanups.push(() => dropDatabase(adminDatabaseUrl, databaseUrl));
    await applyMigrations(databaseUrl);

    const bundle = await bundleWorkflowCode({ workflowsPath, logger: quietLogger });
    const workflowBundlePath = path.join(workDir, "workflow-bundle.js");
    await writeFile(workflowBundlePath, bundle.code);

    project.provide("temporalAddress", temporalAddress);
    project.provide("temporalCli", temporalCli);
    project.provide("databaseUrl", databaseUrl);
    project.provide("adminDatabaseUrl", adminDatabaseUrl);
    project.provide("workflowBundlePath", workflowBundlePath);
    project.provide("payloadEncryptionKeys", formatKeys([generateKey("test-old"), generateKey("test")]));
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}

const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error };

// The worker: builds the activities from their dependencies and polls the checkout task queue.
// `npm run worker` runs it alone against TEMPORAL_ADDRESS, DATABASE_URL and SMTP_URL;
// `npm start` runs it inside the embedded stack (start.ts).
import { createServer } from "node:http";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Connection } from "@temporalio/client";
import { NativeConnection, Worker, type WorkerOptions } from "@temporalio/worker";
import { createNatsPublisher } from "./activities/broker.ts";
import { type ActivityDeps, createActivities } from "./activities/index.ts";
import { smtpSender } from "./activities/smtp-sender.ts";
import { type Config, loadConfig, required } from "./config.ts";
import { ensureSearchAttributes } from "./infra/search-attributes.ts";
import { createDb } from "./prisma/client.ts";
import { createGatewayRegistry } from "./providers/index.ts";

export const workflowsPath = fileURLToPath(new URL("./workflows/index.ts", import.meta.url));

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A bundle built once (tests); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions["workflowBundle"];
  identity?: string;
}

export function createWorker(setup: WorkerSetup): Promise<Worker> {
  return Worker.create({
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    activities: createActivities(setup.deps),
    ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath }),
    ...(setup.identity ? { identity: setup.identity } : {}),
  });
}

export interface ActivityEndpoints {
  databaseUrl: string;
  smtpUrl: string;
  sandboxUrl?: string;
}

export function createActivityDeps(config: Config, endpoints: ActivityEndpoints): ActivityDeps {
  return {
    db: createDb(endpoints.databaseUrl),
    gateways: createGatewayRegistry(
      config.env,
      {
        enabled: config.sandbox.enabled,
        url: endpoints.sandboxUrl,
        webhookSecret: config.sandbox.webhookSecret,
      },
      config.paymentRetryWindowSeconds,
    ),
    mailer: { sender: smtpSender(endpoints.smtpUrl), from: config.mailFrom },
    // Connects on the first event; whoever runs the worker closes it once the worker stops.
    publisher: config.events.url
      ? createNatsPublisher(config.events.url, { stream: config.events.stream, subjectPrefix: config.events.subjectPrefix })
      : undefined,
    riskPolicy: config.risk,
  };
}

async function main() {
  const config = loadConfig();
  const address = required(config.temporal.address, "TEMPORAL_ADDRESS");
  const deps = createActivityDeps(config, {
    databaseUrl: required(config.databaseUrl, "DATABASE_URL"),
    smtpUrl: required(config.smtpUrl, "SMTP_URL"),
    sandboxUrl: config.sandbox.enabled ? required(config.sandbox.url, "SANDBOX_URL") : undefined,
  });
  const admin = await Connection.connect({ address });
  try {
    const added = await ensureSearchAttributes(admin, config.temporal.namespace);
    if (added.length) console.log(`registered search attributes: ${added.join(", ")}`);
  } catch (err) {
    // Temporal Cloud manages search attributes in its console; say so instead of stopping.
    console.warn(`could not register search attributes (${(err as Error).message}); register them as the README says`);
  } finally {
    await admin.close();
  }
  const connection = await NativeConnection.connect({ address });
  const worker = await createWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    deps,
  });
  console.log(`worker polling task queue "${config.temporal.taskQueue}" on ${address}`);
  // For a supervisor's health check (docker-compose, Kubernetes): 200 only while it polls.
  const health =
    config.workerHealthPort === undefined
      ? undefined
      : createServer((_req, res) => {
          const state = worker.getState();
          res.writeHead(state === "RUNNING" ? 200 : 503, { "content-type": "text/plain" }).end(state);
        }).listen(config.workerHealthPort, config.host);
  await worker.run(); // shuts down gracefully on SIGINT/SIGTERM; a fatal error rejects, and the process exits 1
  health?.close();
  await deps.publisher?.close();
  await deps.db.$disconnect();
  await connection.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

// The CLI's Temporal connection (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, and the payload keys:
// PAYLOAD_ENCRYPTION_KEYS, else those of `npm start`'s data folder when it talks to that dev
// server) and how it finds a checkout.
import { hostname } from "node:os";
import type { Client, Connection, WorkflowExecutionDescription, WorkflowHandle } from "@temporalio/client";
import { WorkflowNotFoundError } from "@temporalio/common";
import { type Deployment, loadPayloadCodec } from "../codec/settings.ts";
import { ConfigError, loadPayloadEncryption } from "../config.ts";
import { connectClient } from "../wiring.ts";
import type { checkout } from "../workflows/checkout.ts";
import { checkoutWorkflowId } from "../workflows/definitions.ts";

/** An error the CLI reports as one line (exit code 1), without a stack trace. */
export class CliError extends Error {
  override name = "CliError";
}

export interface Temporal {
  client: Client;
  connection: Connection;
  address: string;
  namespace: string;
  /** Who the server records as acting (resets, updates). */
  identity: string;
  close(): Promise<void>;
}

export async function connect(env: NodeJS.ProcessEnv = process.env): Promise<Temporal> {
  const address = env.TEMPORAL_ADDRESS || "127.0.0.1:7233";
  const namespace = env.TEMPORAL_NAMESPACE || "default";
  const identity = `checkout-cli ${process.pid}@${hostname()}`;
  const { codec } = await loadPayloadCodec(loadPayloadEncryption(env), cliDeployment(env)).catch((err) => {
    throw err instanceof ConfigError ? new CliError(err.message) : err;
  });
  try {
    const { client, connection, close } = await connectClient(
      { address, namespace, codec },
      { identity, connectTimeoutMs: 5_000 },
    );
    return { client, connection, address, namespace, identity, close };
  } catch (err) {
    throw new CliError(`Cannot reach Temporal at ${address} (set TEMPORAL_ADDRESS): ${(err as Error).message}`);
  }
}

/** Without TEMPORAL_ADDRESS the CLI talks to `npm start`'s dev server, whose data folder holds its key. */
export const cliDeployment = (env: NodeJS.ProcessEnv): Deployment => (env.TEMPORAL_ADDRESS ? "external" : "beside-dev-server");

/** Accepts a checkout id (`chk_…`) or its workflow ID (`checkout-chk_…`). */
export function checkoutIdOf(arg: string): string {
  return arg.startsWith("checkout-") ? arg.slice("checkout-".length) : arg;
}

export interface FoundCheckout {
  checkoutId: string;
  workflowId: string;
  handle: WorkflowHandle<typeof checkout>;
  /** The current (latest) run. */
  description: WorkflowExecutionDescription;
}

/** The checkout's current run; an unknown id is a CliError naming it. */
export async function findCheckout(temporal: Temporal, arg: string): Promise<FoundCheckout> {
  const checkoutId = checkoutIdOf(arg.trim());
  if (!checkoutId) throw new CliError("Give a checkout id (chk_…).");
  const workflowId = checkoutWorkflowId(checkoutId);
  const handle = temporal.client.workflow.getHandle<typeof checkout>(workflowId);
  let description: WorkflowExecutionDescription;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      throw new CliError(`Unknown checkout ${checkoutId}: no workflow ${workflowId} in namespace ${temporal.namespace}.`);
    }
    throw err;
  }
  if (description.type !== "checkout") {
    throw new CliError(`${workflowId} is a ${description.type} workflow, not a checkout.`);
  }
  return { checkoutId, workflowId, handle, description };
}

// Where a checkout's run stands, for every service that reads one: live in Temporal, or, once
// the namespace's retention deleted it, in the archive (its final state and memo) and the
// database (its rows). A checkout outlives its workflow's retention. Every lookup is scoped to
// the merchant: another merchant's checkout is, to the caller, a checkout that never was.
import type { Client, WorkflowExecutionDescription, WorkflowHandle } from "@temporalio/client";
import { WorkflowNotFoundError } from "@temporalio/common";
import { stateOfFailedRun } from "../../history/events.ts";
import type { Db } from "../../prisma/client.ts";
import type { checkout } from "../../workflows/checkout.ts";
import { checkoutWorkflowId, getStateQuery, isCheckoutId } from "../../workflows/definitions.ts";
import type { CheckoutState } from "../../workflows/types.ts";
import { notFound } from "../errors.ts";
import { type Metadata, metadataOf } from "../metadata.ts";
import { type ArchivedCheckout, archivedCheckout } from "./archived-checkout.ts";

type CheckoutRow = NonNullable<Awaited<ReturnType<Db["checkout"]["findUnique"]>>>;
/** Where the checkout stands, with its own row (whose it is, its client secret). */
type Found = { owner: CheckoutRow } & (
  | { live: WorkflowExecutionDescription; archived?: undefined }
  | { live?: undefined; archived?: ArchivedCheckout }
);

/** The run's side of a checkout's view. */
export interface RunView {
  workflowId: string;
  clientSecret: string;
  /** As given when the checkout started (its own row's). */
  metadata: Metadata;
  executionStatus: string;
  memo: Record<string, unknown>;
  state?: CheckoutState;
  pendingAttempts: number;
  lastAttemptError?: string;
}

export function checkoutRuns(temporal: Client, db: Db) {
  function handleFor(id: string): WorkflowHandle<typeof checkout> {
    if (!isCheckoutId(id)) throw notFound("checkout", id);
    return temporal.workflow.getHandle<typeof checkout>(checkoutWorkflowId(id));
  }

  /** The checkout's run as Temporal has it; undefined once Temporal has deleted it (retention). */
  async function liveDescription(id: string): Promise<WorkflowExecutionDescription | undefined> {
    try {
      return await handleFor(id).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /** The checkout's own row, when it is this merchant's. */
  async function owned(merchantId: string, id: string) {
    if (!isCheckoutId(id)) return undefined;
    const row = await db.checkout.findUnique({ where: { id } });
    return row?.merchantId === merchantId ? row : undefined;
  }

  /** The live run, else the archived one and the order row; undefined: the checkout never was (for this merchant). */
  async function find(merchantId: string, id: string): Promise<Found | undefined> {
    const owner = await owned(merchantId, id);
    if (!owner) return undefined;
    const live = await liveDescription(id);
    if (live) return { owner, live };
    const [archived, order] = await Promise.all([
      archivedCheckout(db, checkoutWorkflowId(id)),
      db.order.findUnique({ where: { checkoutId: id }, select: { id: true } }),
    ]);
    return archived || order ? { owner, archived } : undefined;
  }

  /** 404 only for a checkout that never was. */
  async function ensureExists(merchantId: string, id: string): Promise<void> {
    if (!(await find(merchantId, id))) throw notFound("checkout", id);
  }

  /** What Temporal tells of the checkout: its live run, or the archived one once Temporal deleted it. */
  async function runOf(merchantId: string, id: string): Promise<RunView> {
    const handle = handleFor(id);
    const workflowId = checkoutWorkflowId(id);
    const found = await find(merchantId, id);
    if (!found) throw notFound("checkout", id);
    const { clientSecret } = found.owner;
    const metadata = metadataOf(found.owner.metadata);
    const description = found.live;
    if (!description) {
      const { archived } = found;
      // Deleted without an archive (terminated, then retention): the database rows still tell.
      if (!archived) return { workflowId, clientSecret, metadata, executionStatus: "DELETED", memo: {}, pendingAttempts: 0 };
      const { executionStatus, memo, state } = archived;
      return { workflowId, clientSecret, metadata, executionStatus, memo, state, pendingAttempts: 0 };
    }
    let state: CheckoutState | undefined;
    let lastAttemptError: string | undefined;
    let pendingAttempts = 0;
    switch (description.status.name) {
      case "RUNNING": {
        state = await temporal.withDeadline(Date.now() + 3_000, () => handle.query(getStateQuery)).catch(() => undefined);
        // Attempts of the step in flight live in the server, not in the workflow's state yet.
        const pending = description.raw.pendingActivities?.[0];
        if (pending) {
          pendingAttempts = pending.attempt ?? 0;
          lastAttemptError = pending.lastFailure?.message ?? undefined;
        }
        break;
      }
      case "COMPLETED":
        state = await handle.result();
        break;
      case "FAILED":
        state = await handle.result().then(
          () => undefined,
          (err) => stateOfFailedRun(err),
        );
        break;
      default:
        break;
    }
    return {
      workflowId,
      clientSecret,
      metadata,
      executionStatus: description.status.name,
      memo: description.memo ?? {},
      state,
      pendingAttempts,
      lastAttemptError,
    };
  }

  return { handleFor, owned, find, ensureExists, runOf };
}

export type CheckoutRuns = ReturnType<typeof checkoutRuns>;

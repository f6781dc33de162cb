// Transfers: checked here (balances the caller owns, not the same one, in the transfer's
// currency, active), recorded under the merchant's Idempotency-Key, then moved by a workflow per
// transfer (workflows/transfer.ts). The same key with the same body is the same transfer; with
// another body, 422. Whether the source holds enough is the workflow's to find (under the
// balance's row lock): a transfer short of funds ends FAILED with insufficient_funds.
import type { z } from "@hono/zod-openapi";
import type { Client } from "@temporalio/client";
import { WorkflowExecutionAlreadyStartedError } from "@temporalio/common";
import { transferIdFor } from "../../ledger/ids.ts";
import { fromDb } from "../../money/amounts.ts";
import { type Db, Prisma } from "../../prisma/client.ts";
import { transferWorkflowId } from "../../workflows/definitions.ts";
import type { transfer } from "../../workflows/transfer.ts";
import { ApiError, notFound } from "../errors.ts";
import type { TransferRequest } from "../ledger-schemas.ts";
import { metadataOf } from "../metadata.ts";
import { type PageRequest, paginate } from "../pagination.ts";
import { requestHash, SAME_KEY_OTHER_BODY } from "./idempotency.ts";
import { usableCurrency } from "./ledger.ts";

type TransferRow = Prisma.TransferGetPayload<object>;

export const transferView = (t: TransferRow) => ({
  id: t.id,
  object: "transfer" as const,
  from: t.fromBalanceId,
  to: t.toBalanceId,
  amount: fromDb(t.amount),
  currency: t.currency,
  metadata: metadataOf(t.metadata),
  status: t.status,
  failureCode: t.failureCode,
  failureReason: t.failureReason,
  reversed: t.reversed,
  attempt: t.attempt,
  createdAt: t.createdAt.toISOString(),
  updatedAt: t.updatedAt.toISOString(),
});

const reused = () =>
  new ApiError(
    422,
    "idempotency_key_reused",
    `This Idempotency-Key was already used for ${SAME_KEY_OTHER_BODY}; use a new key.`,
    [{ field: "header.idempotency-key", reason: `already used for ${SAME_KEY_OTHER_BODY}` }],
  );

export interface TransferFilters extends PageRequest {
  status?: "PENDING" | "COMPLETED" | "FAILED";
  balance?: string;
}

export function transferService(temporal: Client, db: Db, settings: { taskQueue: string }) {
  /** The refusals a request meets before anything is recorded: each a 4xx naming its field. */
  async function check(merchantId: string, request: z.infer<typeof TransferRequest>) {
    if (request.from === request.to) {
      throw new ApiError(422, "same_balance", "A transfer needs two different balances.", [
        { field: "to", reason: "must not be the balance debited" },
      ]);
    }
    await usableCurrency(db, request.currency);
    for (const field of ["from", "to"] as const) {
      const balance = await db.ledgerBalance.findFirst({ where: { id: request[field], merchantId }, include: { account: true } });
      if (!balance)
        throw new ApiError(404, "not_found", `No balance with id "${request[field]}".`, [
          { field, reason: "is not a balance of yours" },
        ]);
      if (balance.currency !== request.currency) {
        // Exchange is a later piece: for now both balances hold the transfer's currency.
        throw new ApiError(
          422,
          "currency_mismatch",
          `Balance ${balance.id} holds ${balance.currency}, not ${request.currency}.`,
          [{ field, reason: `holds ${balance.currency}, not ${request.currency}` }],
        );
      }
      if (balance.account.status !== "ACTIVE") {
        throw new ApiError(409, "account_disabled", `The account of balance ${balance.id} is disabled.`, [
          { field, reason: "its account is disabled" },
        ]);
      }
      if (balance.status !== "ACTIVE") {
        throw new ApiError(409, "balance_disabled", `Balance ${balance.id} is disabled.`, [{ field, reason: "is disabled" }]);
      }
    }
  }

  async function startRun(row: TransferRow) {
    try {
      await temporal.workflow.start<typeof transfer>("transfer", {
        workflowId: transferWorkflowId(row.id),
        taskQueue: settings.taskQueue,
        args: [{ transferId: row.id, attempt: row.attempt }],
        workflowIdConflictPolicy: "USE_EXISTING",
        // A retry is a new run of the same id, allowed only after a failed one.
        workflowIdReusePolicy: "ALLOW_DUPLICATE_FAILED_ONLY",
        staticSummary: `Transfer ${row.amount} ${row.currency} from ${row.fromBalanceId} to ${row.toBalanceId}`,
      });
    } catch (err) {
      // The run of this attempt exists already (or has ended): it is the one.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  async function find(merchantId: string, id: string) {
    const row = await db.transfer.findFirst({ where: { id, merchantId } });
    if (!row) throw notFound("transfer", id);
    return row;
  }

  return {
    /** Records the transfer (or finds it, for the same key) and makes sure its workflow runs. */
    async create(merchantId: string, request: z.infer<typeof TransferRequest>, idempotencyKey: string) {
      const id = transferIdFor(merchantId, idempotencyKey);
      const hash = requestHash(request);
      let row = await db.transfer.findUnique({ where: { id } });
      if (!row) {
        await check(merchantId, request);
        try {
          row = await db.transfer.create({
            data: {
              id,
              merchantId,
              fromBalanceId: request.from,
              toBalanceId: request.to,
              amount: BigInt(request.amount),
              currency: request.currency,
              metadata: request.metadata ?? {},
              idempotencyKey,
              requestHash: hash,
            },
          });
        } catch (err) {
          // The same key at the same moment: the first one's transfer stands.
          if (!(err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002")) throw err;
          row = await db.transfer.findUniqueOrThrow({ where: { id } });
        }
      }
      if (row.merchantId !== merchantId || row.requestHash !== hash) throw reused();
      // Also for a retried request whose first one was recorded but never started its run.
      if (row.status === "PENDING") await startRun(row);
      return transferView(row);
    },

    get: async (merchantId: string, id: string) => transferView(await find(merchantId, id)),

    async list(merchantId: string, filters: TransferFilters) {
      const where: Prisma.TransferWhereInput = {
        merchantId,
        ...(filters.status ? { status: filters.status } : {}),
        ...(filters.balance ? { OR: [{ fromBalanceId: filters.balance }, { toBalanceId: filters.balance }] } : {}),
      };
      const { rows, hasMore } = await paginate(filters, {
        find: (id) => db.transfer.findFirst({ where: { ...where, id }, select: { id: true, createdAt: true } }),
        rows: ({ after, orderBy, take }) => db.transfer.findMany({ where: { AND: [where, after ?? {}] }, orderBy, take }),
      });
      return { data: rows.map(transferView), hasMore };
    },

    /**
     * A failed transfer, again: the next attempt (its own posting keys), a new run of the same
     * workflow id. Refused (409) for a transfer that did not fail.
     */
    async retry(merchantId: string, id: string) {
      const current = await find(merchantId, id);
      if (current.status !== "FAILED") {
        throw new ApiError(409, "transfer_not_failed", `Transfer ${id} is ${current.status}: only a failed transfer is retried.`);
      }
      const updated = await db.transfer.updateMany({
        where: { id, status: "FAILED", attempt: current.attempt },
        data: { status: "PENDING", attempt: current.attempt + 1, failureCode: null, failureReason: null, reversed: false },
      });
      const row = await db.transfer.findUniqueOrThrow({ where: { id } });
      // The failed run records FAILED a moment before it ends: let it end, so the new attempt is a new run.
      await temporal.workflow
        .getHandle(transferWorkflowId(id))
        .result()
        .catch(() => {});
      // Of two retries at once, one moved it on; both make sure the new attempt runs.
      if (updated.count === 1 || row.status === "PENDING") await startRun(row);
      return transferView(row);
    },
  };
}

export type TransferService = ReturnType<typeof transferService>;

// A transfer's steps (workflows/transfer.ts), each one database transaction, each posted once per
// key (`transfer-<id>:<attempt>:<step>`): the debit moves the amount from the source balance to
// the transit account, the credit from transit to the destination, and the compensation settles a
// transfer whose credit did not happen (reversing its debit, if there was one). The event that
// reports a transfer's end is written in the transaction that ends it (activities/outbox.ts).
import { ApplicationFailure } from "@temporalio/activity";
import { LedgerRefusal } from "../ledger/errors.ts";
import { postIn, systemBalance } from "../ledger/posting.ts";
import type { Db, Prisma } from "../prisma/client.ts";
import { LEDGER_REFUSED } from "../workflows/definitions.ts";
import { eventId } from "./events.ts";
import { writeEvent } from "./outbox.ts";

type Tx = Prisma.TransactionClient;

export interface TransferStep {
  transferId: string;
  /** The transfer's workflow id: with the attempt and the step, each posting's idempotency key. */
  workflowId: string;
  attempt: number;
}

export interface TransferOutcome {
  status: "COMPLETED" | "FAILED";
  failureCode?: string;
  reversed?: boolean;
}

export const TRANSIT = "transit";

/** The idempotency key of a transfer's step in one attempt. */
export const stepKey = (s: TransferStep, step: "debit" | "credit" | "reversal") => `${s.workflowId}:${s.attempt}:${step}`;

/** The entry kind of a key that was never posted and never may be (its step was given up on). */
const VOID = "void";

export function ledgerActivities(db: Db) {
  async function transferOf(tx: Tx | Db, id: string) {
    const transfer = await tx.transfer.findUnique({ where: { id } });
    if (!transfer) throw ApplicationFailure.nonRetryable(`No transfer ${id}`, LEDGER_REFUSED);
    return transfer;
  }

  /** A refusal ends the step for good (no retry can make funds appear); anything else is retried. */
  async function refusing<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof LedgerRefusal) {
        throw ApplicationFailure.create({ message: err.message, type: LEDGER_REFUSED, nonRetryable: true, details: [err.code] });
      }
      throw err;
    }
  }

  async function finish(tx: Tx, step: TransferStep, outcome: TransferOutcome, failureReason?: string) {
    const transfer = await tx.transfer.update({
      where: { id: step.transferId },
      data: {
        status: outcome.status,
        failureCode: outcome.failureCode ?? null,
        failureReason: failureReason ?? null,
        reversed: outcome.reversed ?? false,
      },
    });
    const type = outcome.status === "COMPLETED" ? "transfer.completed" : "transfer.failed";
    // Attempt 1 keeps the plain id; a retry's events are its own.
    const source = step.attempt > 1 ? `${step.workflowId}:${step.attempt}` : step.workflowId;
    await writeEvent(tx, {
      id: eventId(source, type),
      type,
      subjectId: transfer.id,
      sourceWorkflowId: step.workflowId,
      merchantId: transfer.merchantId,
      data: {
        transfer: {
          id: transfer.id,
          status: transfer.status,
          from: transfer.fromBalanceId,
          to: transfer.toBalanceId,
          amount: Number(transfer.amount),
          currency: transfer.currency,
          metadata: transfer.metadata as Prisma.InputJsonObject,
          failureCode: transfer.failureCode,
          reversed: transfer.reversed,
          attempt: step.attempt,
        },
      },
    });
  }

  return {
    /** From the source balance to transit. Refused (LedgerRefused) without enough funds or on a disabled account or balance. */
    async debitTransfer(step: TransferStep): Promise<void> {
      const transfer = await transferOf(db, step.transferId);
      const transit = await systemBalance(db, TRANSIT, transfer.currency);
      await refusing(() =>
        db.$transaction((tx) =>
          postIn(tx, {
            idempotencyKey: stepKey(step, "debit"),
            kind: "transfer.debit",
            transferId: transfer.id,
            postings: [
              { balanceId: transfer.fromBalanceId, amount: -transfer.amount },
              { balanceId: transit, amount: transfer.amount },
            ],
          }),
        ),
      );
    },

    /** From transit to the destination, and the transfer COMPLETED with its event, in one transaction. */
    async creditTransfer(step: TransferStep): Promise<TransferOutcome> {
      const transfer = await transferOf(db, step.transferId);
      const transit = await systemBalance(db, TRANSIT, transfer.currency);
      return refusing(() =>
        db.$transaction(async (tx) => {
          const entry = await postIn(tx, {
            idempotencyKey: stepKey(step, "credit"),
            kind: "transfer.credit",
            transferId: transfer.id,
            postings: [
              { balanceId: transit, amount: -transfer.amount },
              { balanceId: transfer.toBalanceId, amount: transfer.amount },
            ],
          });
          const kind = (await tx.ledgerEntry.findUnique({ where: { id: entry.id }, select: { kind: true } }))?.kind;
          // Given up on by a compensation that ran first (a late retry): nothing to do here.
          if (kind === VOID) return { status: "FAILED" as const };
          await finish(tx, step, { status: "COMPLETED" });
          return { status: "COMPLETED" as const };
        }),
      );
    },

    /**
     * Ends a transfer whose credit did not happen, in one transaction: the credit's key and the
     * debit's are voided first (so a late attempt of either, from a worker thought dead, finds its
     * key taken and posts nothing), then a debit that was posted is reversed (forced: the money
     * goes back even to a balance disabled meanwhile). A credit that did happen after all makes the
     * transfer COMPLETED instead.
     */
    async compensateTransfer(input: TransferStep & { failureCode: string; failureReason: string }): Promise<TransferOutcome> {
      return db.$transaction(async (tx) => {
        const transfer = await transferOf(tx, input.transferId);
        const [debitKey, creditKey] = [stepKey(input, "debit"), stepKey(input, "credit")];
        const voided = (key: string) => ({ id: `void_${key}`, idempotencyKey: key, kind: VOID, transferId: transfer.id });
        await tx.ledgerEntry.createMany({ data: [voided(creditKey), voided(debitKey)], skipDuplicates: true });
        const entries = await tx.ledgerEntry.findMany({
          where: { idempotencyKey: { in: [debitKey, creditKey] } },
          select: { idempotencyKey: true, kind: true },
        });
        const posted = (key: string) => entries.some((e) => e.idempotencyKey === key && e.kind !== VOID);
        if (posted(creditKey)) {
          if (transfer.status !== "COMPLETED") await finish(tx, input, { status: "COMPLETED" });
          return { status: "COMPLETED" };
        }
        const reversed = posted(debitKey);
        if (reversed) {
          const transit = await systemBalance(tx, TRANSIT, transfer.currency);
          await postIn(tx, {
            idempotencyKey: stepKey(input, "reversal"),
            kind: "transfer.reversal",
            transferId: transfer.id,
            force: true,
            postings: [
              { balanceId: transit, amount: -transfer.amount },
              { balanceId: transfer.fromBalanceId, amount: transfer.amount },
            ],
          });
        }
        const outcome = { status: "FAILED" as const, failureCode: input.failureCode, reversed };
        if (transfer.status !== "FAILED") await finish(tx, input, outcome, input.failureReason);
        return outcome;
      });
    },
  };
}

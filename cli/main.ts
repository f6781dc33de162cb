// The operator CLI's commands (cli/checkout.ts runs them): list checkouts by their search
// attributes, show one's timeline, retry failed ones (a reset to just before the payment step),
// cancel one, verify the archive's hash chain. `npx checkout help` lists it all.
// Connects with TEMPORAL_ADDRESS (default 127.0.0.1:7233) and TEMPORAL_NAMESPACE (default
// "default"). Exit codes: 0 done, 1 not done (unknown checkout, refused, a retry that did not
// complete), 2 bad usage.
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { WorkflowUpdateFailedError } from "@temporalio/client";
import { ApplicationFailure, WorkflowNotFoundError } from "@temporalio/common";
import { SCOPES } from "../api/caller.ts";
import { CHECKOUT_NOT_CANCELLABLE, cancelUpdate } from "../workflows/definitions.ts";
import type { CheckoutState } from "../workflows/types.ts";
import { archiveRun } from "./archive.ts";
import { keysCommand, merchantsCommand } from "./keys.ts";
import { balancesCommand, ledgerCommand, transfersCommand } from "./ledger.ts";
import { type CheckoutRow, formatRows, listCheckouts, rowOf } from "./list.ts";
import { checkoutQuery, type ListFilters, UsageError, wholeNumber } from "./query.ts";
import { refundsCommand } from "./refunds.ts";
import { historyCommand, replayCommand } from "./replay.ts";
import { followRun, planRetry, type RetryPlan, resetToPayment } from "./retry.ts";
import { show } from "./show.ts";
import { CliError, connect, findCheckout, type Temporal } from "./temporal.ts";
import { verifyArchiveCommand } from "./verify-archive.ts";

/** Who acts through this CLI, as the history records it (API actions record their key's id). */
const OPERATOR = "operator";

export const USAGE = `Usage: checkout <command> [options]

  list [filters] [--limit N] [--json]
      Checkouts whose search attributes match, one line per workflow run:
      id, status, provider, total, start time. Filters (ANDed):
        --status S        CheckoutStatus: RUNNING, REQUIRES_ACTION, COMPLETED, FAILED, CANCELLED, EXPIRED
        --provider P      PaymentProvider (sandbox, stripe, ...)
        --customer C      CustomerId
        --currency X      Currency (USD, ...)
        --min-total N     OrderTotal >= N (minor units)
        --max-total N     OrderTotal <= N (minor units)
        --query Q         any visibility query, e.g. 'ExecutionStatus="Failed"'
      --limit N           at most N runs (default 100)

  show <id> [--json]
      The checkout's audit timeline: each step with its times and attempts, and how it ended.

  retry <id> [--reason R] [--include-declined] [--no-wait]
      Resets a FAILED checkout to just before its payment step and follows it to the end
      (exit 0 when it COMPLETES). The gateway sees the same idempotency key: no double charge.

  retry --query Q [filters] [--yes] [--reason R] [--include-declined] [--limit N]
      The same for every FAILED checkout that matches (asks first, unless --yes).

  cancel <id> [--reason R]
      Cancels a checkout whose payment has not started (as POST /checkouts/{id}/cancel does).

  archive <id> | archive --query Q [filters] [--limit N]
      Copies closed checkout runs into the archive now (the archiving schedule does it within
      ARCHIVE_INTERVAL_SECONDS), as a run's own archiver does, and waits for each record. Runs
      already archived are left as they are. The worker on TEMPORAL_TASK_QUEUE does the work.

  history <id>
      The checkout's history as the replay corpus keeps it ({"workflowId", "history"}): save it
      under test/histories/ and the replay test holds every later change to it.

  replay <file>... | replay --archive [--limit N]
      Replays recorded histories, or the newest N (default 1000) in the archive (DATABASE_URL),
      against the current workflow code; exit 1 naming each that does not replay (a change to a
      running workflow's commands without patched()).

  refunds [--attention] [--checkout <id>] [--json]
      The refunds in the database (DATABASE_URL), newest first. --attention: only those whose
      outcome stayed unknown after every retry; their amount stays reserved (PENDING) until you
      decide (ask the provider, then reset the refund workflow to retry it under the same key).

  merchants create <name> | merchants list
      The tenants (DATABASE_URL). Every checkout, order, customer and key belongs to one.

  keys create --merchant <id> [--publishable] [--scope S,S | --read-only] [--name N]
      Creates an API key and prints it once (only its hash is kept). Secret keys (sk_) get the
      scopes named (default: all but currencies:write, an operator's): ${SCOPES.join(", ")};
      --read-only: every :read scope. Publishable keys (pk_) start checkouts and read them by
      their client secret, nothing else.
  keys list [--merchant <id>] [--json]
  keys revoke <key id>
      The key stops working (at once here, within 10 s in running API processes).

  verify-archive [--json]
      Walks the archive of closed histories (DATABASE_URL) and checks its hash chain: exit 0
      when intact (prints the head hash: keep it elsewhere), 1 naming the first broken record.

  ledger verify [--json]
      Checks the ledger (DATABASE_URL): every entry's postings sum to zero per currency, every
      balance equals the sum of its postings. Exit 0 when consistent, 1 naming the first inconsistency.

  transfers list [--status S] [--balance B] [--merchant M] [--limit N] [--json]
      Transfers, newest first (--status FAILED: those to look at; retry one with
      POST /transfers/{id}/retry). transfers show <id> [--json]: one, with its entries and postings.

  balances show <id> [--json]
      A balance, the sum of its postings, and its latest postings.

  <id> is a checkout id (chk_...) or its workflow ID (checkout-chk_...).

Environment: TEMPORAL_ADDRESS (default 127.0.0.1:7233), TEMPORAL_NAMESPACE (default "default"),
PAYLOAD_ENCRYPTION_KEYS (the keys payloads are encrypted with; without TEMPORAL_ADDRESS, those
npm start keeps in DATA_DIR/secrets/),
TEMPORAL_TASK_QUEUE (archive: the workers' task queue, default "checkout"),
DATABASE_URL (show: the payment attempts from the database, and the archive once Temporal has
deleted a checkout; refunds, verify-archive, ledger, transfers and balances: required).
Exit codes: 0 done; 1 unknown checkout, refused, or a retry that did not complete; 2 bad usage.`;

const filterOptions = {
  status: { type: "string" },
  provider: { type: "string" },
  customer: { type: "string" },
  currency: { type: "string" },
  "min-total": { type: "string" },
  "max-total": { type: "string" },
  query: { type: "string" },
  limit: { type: "string" },
} as const;

type Out = { out: (line: string) => void; err: (line: string) => void };
const stdio: Out = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Runs one command line; returns the exit code. */
export async function main(argv: string[], io: Out = stdio): Promise<number> {
  const [command, ...rest] = argv;
  let temporal: Temporal | undefined;
  const connected = async () => {
    temporal ??= await connect();
    return temporal;
  };
  try {
    switch (command) {
      case "list":
        return await listCommand(rest, connected, io);
      case "show":
        return await showCommand(rest, connected, io);
      case "retry":
        return await retryCommand(rest, connected, io);
      case "cancel":
        return await cancelCommand(rest, connected, io);
      case "archive":
        return await archiveCommand(rest, connected, io);
      case "history": {
        const { positionals } = parseArgs({ args: rest, allowPositionals: true, strict: true });
        return await historyCommand(await connected(), oneId(positionals, "history"), io);
      }
      case "replay": {
        const { values, positionals } = parseArgs({
          args: rest,
          options: { archive: { type: "boolean" }, limit: { type: "string" } },
          allowPositionals: true,
          strict: true,
        });
        const limit = wholeNumber(values.limit, "--limit") ?? 1000;
        return await replayCommand({ files: positionals, archive: Boolean(values.archive), limit, io });
      }
      case "refunds": {
        const { values } = parseArgs({
          args: rest,
          options: { attention: { type: "boolean" }, checkout: { type: "string" }, json: { type: "boolean" } },
          strict: true,
        });
        return await refundsCommand({
          attention: Boolean(values.attention),
          checkoutId: values.checkout,
          json: Boolean(values.json),
          io,
        });
      }
      case "keys":
        return await keysCommand(rest, io);
      case "merchants":
        return await merchantsCommand(rest, io);
      case "ledger":
        return await ledgerCommand(rest, io);
      case "transfers":
        return await transfersCommand(rest, io);
      case "balances":
        return await balancesCommand(rest, io);
      case "verify-archive": {
        const { values } = parseArgs({ args: rest, options: { json: { type: "boolean" } }, strict: true });
        return await verifyArchiveCommand({ json: Boolean(values.json), io });
      }
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`Unknown command "${command}".`);
    }
  } catch (err) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      io.err(`checkout: ${(err as Error).message}\nRun \`checkout help\` for the commands and their options.`);
      return 2;
    }
    if (err instanceof CliError) {
      io.err(`checkout: ${err.message}`);
      return 1;
    }
    io.err(`checkout: ${process.env.DEBUG ? (err as Error).stack : ((err as Error).message ?? String(err))}`);
    return 1;
  } finally {
    await (temporal as Temporal | undefined)?.close().catch(() => {});
  }
}

function isParseArgsError(err: unknown): boolean {
  return err instanceof TypeError && "code" in err && String((err as { code: unknown }).code).startsWith("ERR_PARSE_ARGS");
}

function filtersOf(values: Record<string, string | boolean | undefined>): ListFilters {
  const str = (name: string) => values[name] as string | undefined;
  return {
    status: str("status"),
    provider: str("provider"),
    customer: str("customer"),
    currency: str("currency"),
    minTotal: wholeNumber(str("min-total"), "--min-total"),
    maxTotal: wholeNumber(str("max-total"), "--max-total"),
    query: str("query"),
  };
}

function limitOf(values: Record<string, string | boolean | undefined>): number {
  const limit = wholeNumber(values.limit as string | undefined, "--limit") ?? 100;
  if (limit < 1) throw new UsageError("--limit must be 1 or more");
  return limit;
}

function oneId(positionals: string[], command: string): string {
  if (positionals.length !== 1) throw new UsageError(`\`checkout ${command}\` takes one checkout id; got ${positionals.length}.`);
  return positionals[0];
}

async function listCommand(args: string[], connected: () => Promise<Temporal>, io: Out): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...filterOptions, json: { type: "boolean" } }, strict: true });
  if (positionals.length) throw new UsageError(`\`checkout list\` takes no arguments; got "${positionals.join(" ")}".`);
  const query = checkoutQuery(filtersOf(values));
  const limit = limitOf(values);
  const listing = await listCheckouts(await connected(), query, limit);
  if (values.json) {
    io.out(JSON.stringify(listing, null, 2));
    return 0;
  }
  if (listing.checkouts.length === 0) {
    io.out(`No checkouts match ${query}`);
    return 0;
  }
  io.out(formatRows(listing.checkouts));
  io.err(
    `${listing.checkouts.length} run(s)${listing.truncated ? ` (more match: raise --limit above ${limit})` : ""}; query: ${query}`,
  );
  return 0;
}

async function showCommand(args: string[], connected: () => Promise<Temporal>, io: Out): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: "boolean" } }, allowPositionals: true });
  return show(await connected(), oneId(positionals, "show"), { json: Boolean(values.json), io });
}

async function cancelCommand(args: string[], connected: () => Promise<Temporal>, io: Out): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { reason: { type: "string" } }, allowPositionals: true });
  const found = await findCheckout(await connected(), oneId(positionals, "cancel"));
  const { checkoutId, description, handle } = found;
  if (description.status.name !== "RUNNING") {
    throw new CliError(`Not cancelled: checkout ${checkoutId} has already ended (${rowOf(description).status}).`);
  }
  const slow = setTimeout(() => io.err(`Waiting for a worker to take the cancel of ${checkoutId}...`), 1_000);
  let state: CheckoutState;
  try {
    state = await handle.executeUpdate(cancelUpdate, { args: [{ reason: values.reason, requestedBy: OPERATOR }] });
  } catch (err) {
    if (
      err instanceof WorkflowUpdateFailedError &&
      err.cause instanceof ApplicationFailure &&
      err.cause.type === CHECKOUT_NOT_CANCELLABLE
    ) {
      throw new CliError(`Not cancelled: ${err.cause.message}`);
    }
    if (err instanceof WorkflowNotFoundError || (err instanceof Error && /already completed/i.test(err.message))) {
      throw new CliError(`Not cancelled: checkout ${checkoutId} has already ended.`);
    }
    throw err;
  } finally {
    clearTimeout(slow);
  }
  io.out(`${checkoutId} ${state.status}`);
  return state.status === "CANCELLED" ? 0 : 1;
}

async function archiveCommand(args: string[], connected: () => Promise<Temporal>, io: Out): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: filterOptions, allowPositionals: true });
  const filters = filtersOf(values);
  const hasFilters = Object.values(filters).some((v) => v !== undefined);
  if (positionals.length && hasFilters) throw new UsageError("Give either one checkout id or --query/filters, not both.");
  if (!positionals.length && !hasFilters)
    throw new UsageError("`checkout archive` takes a checkout id, or --query (and filters).");
  const temporal = await connected();
  const taskQueue = process.env.TEMPORAL_TASK_QUEUE || "checkout";

  let runs: CheckoutRow[];
  if (positionals.length) {
    const { description } = await findCheckout(temporal, oneId(positionals, "archive"));
    if (description.status.name === "RUNNING") {
      throw new CliError(`Not archived: ${description.workflowId} is still running; it is archived once it closes.`);
    }
    runs = [rowOf(description)];
  } else {
    const listing = await listCheckouts(temporal, checkoutQuery(filters, 'ExecutionStatus!="Running"'), limitOf(values));
    if (listing.truncated) io.err(`More runs match than --limit: run the command again for the rest.`);
    runs = listing.checkouts;
    if (!runs.length) {
      io.out(`No closed checkouts match ${listing.query}`);
      return 0;
    }
  }
  const slow = setTimeout(() => io.err(`Waiting for a worker on task queue "${taskQueue}" to archive...`), 3_000);
  const outcomes = await Promise.all(runs.map((run) => archiveRun(temporal, run, taskQueue))).finally(() => clearTimeout(slow));
  for (const o of outcomes) {
    if (o.record) io.out(`${o.checkoutId} run ${o.runId}: archived as record ${o.record.seq}, hash ${o.record.hash}`);
    else io.err(`${o.checkoutId} run ${o.runId}: not archived: ${o.error}`);
  }
  return outcomes.every((o) => o.record) ? 0 : 1;
}

async function retryCommand(args: string[], connected: () => Promise<Temporal>, io: Out): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...filterOptions,
      yes: { type: "boolean", short: "y" },
      reason: { type: "string" },
      "include-declined": { type: "boolean" },
      "no-wait": { type: "boolean" },
    },
    allowPositionals: true,
  });
  const filters = filtersOf(values);
  const hasFilters = Object.values(filters).some((v) => v !== undefined);
  // The reset's reason is in the history: it says an operator did it.
  const reason = `${OPERATOR}: ${values.reason ?? "retried with checkout retry"}`;
  const includeDeclined = Boolean(values["include-declined"]);
  const wait = !values["no-wait"];
  if (positionals.length && hasFilters) throw new UsageError("Give either one checkout id or --query/filters, not both.");
  if (!positionals.length && !hasFilters) throw new UsageError("`checkout retry` takes a checkout id, or --query (and filters).");

  const temporal = await connected();
  if (positionals.length) {
    const found = await findCheckout(temporal, oneId(positionals, "retry"));
    const eligibility = await planRetry(temporal, found, { includeDeclined });
    if (!eligibility.ok) throw new CliError(`Not retried: ${eligibility.reason}`);
    const runId = await reset(temporal, eligibility.plan, reason, io);
    if (!wait) {
      io.out(`${found.checkoutId} RUNNING (new run ${runId})`);
      return 0;
    }
    const outcome = await followRun(temporal, found.workflowId, runId);
    io.out(
      `${found.checkoutId} ${outcome.status}${outcome.failureReason && outcome.status !== "COMPLETED" ? `: ${outcome.failureReason}` : ""}`,
    );
    return outcome.status === "COMPLETED" ? 0 : 1;
  }

  // A batch: the failed checkouts that match, each retried from its current run.
  const query = checkoutQuery(filters, '(ExecutionStatus="Failed" OR CheckoutStatus="FAILED")');
  const limit = limitOf(values);
  const listing = await listCheckouts(temporal, query, limit);
  const plans: RetryPlan[] = [];
  const skipped: string[] = [];
  for (const workflowId of [...new Set(listing.checkouts.map((c) => c.workflowId))]) {
    try {
      const eligibility = await planRetry(temporal, await findCheckout(temporal, workflowId), { includeDeclined });
      if (eligibility.ok) plans.push(eligibility.plan);
      else if (eligibility.kind !== "not-failed") skipped.push(eligibility.reason);
      // not-failed: a run listed as failed that a retry already replaced; nothing to do
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      skipped.push(err.message); // gone meanwhile (retention)
    }
  }
  for (const line of skipped) io.err(`skipped: ${line}`);
  if (plans.length === 0) {
    io.out(`No failed checkouts to retry match ${query}`);
    return 0;
  }
  io.out(`${plans.length} failed checkout(s) to retry: ${plans.map((p) => p.checkoutId).join(", ")}`);
  if (listing.truncated) io.err(`More runs match than --limit ${limit}: run the command again for the rest.`);
  if (!values.yes && !(await confirm(`Retry ${plans.length} checkout(s)?`))) {
    throw new CliError(
      `Nothing retried: add --yes to retry ${plans.length} checkout(s)${process.stdin.isTTY ? "" : " without a prompt"}.`,
    );
  }
  const started: Array<{ plan: RetryPlan; runId: string }> = [];
  for (const plan of plans) {
    try {
      started.push({ plan, runId: await reset(temporal, plan, reason, io) });
    } catch (err) {
      io.err(`${plan.checkoutId} not reset: ${(err as Error).message}`);
    }
  }
  if (!wait) {
    for (const { plan, runId } of started) io.out(`${plan.checkoutId} RUNNING (new run ${runId})`);
    return started.length === plans.length ? 0 : 1;
  }
  const outcomes = await Promise.all(
    started.map(async ({ plan, runId }) => {
      const outcome = await followRun(temporal, plan.workflowId, runId).catch((err: Error) => ({
        status: "UNKNOWN",
        failureReason: err.message,
      }));
      io.out(
        `${plan.checkoutId} ${outcome.status}${outcome.failureReason && outcome.status !== "COMPLETED" ? `: ${outcome.failureReason}` : ""}`,
      );
      return outcome.status;
    }),
  );
  const counts = new Map<string, number>();
  for (const status of outcomes) counts.set(status, (counts.get(status) ?? 0) + 1);
  const completed = counts.get("COMPLETED") ?? 0;
  const notReset = plans.length - started.length;
  io.out(
    `Retried ${started.length} of ${plans.length}: ${[...counts].map(([s, n]) => `${n} ${s}`).join(", ") || "none"}` +
      `${notReset ? `; ${notReset} not reset` : ""}${skipped.length ? `; ${skipped.length} skipped` : ""}.`,
  );
  return completed === plans.length ? 0 : 1;
}

async function reset(temporal: Temporal, plan: RetryPlan, reason: string, io: Out): Promise<string> {
  const runId = await resetToPayment(temporal, plan, reason);
  io.err(
    `${plan.checkoutId}: reset run ${plan.baseRunId} to event ${String(plan.resetEventId)} (before its payment step); new run ${runId}`,
  );
  return runId;
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

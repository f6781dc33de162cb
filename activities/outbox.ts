// The transactional outbox of checkout events. The activity that changes a checkout's state
// writes the event that reports it in the same database transaction (so the event exists exactly
// when the change does, whatever crashes), and one relay workflow (workflows/event-relay.ts)
// hands what was written to the broker and, only for events someone subscribed to, to a fan-out
// workflow. A checkout no one listens to costs no workflow but its own.
import { Context, log } from "@temporalio/activity";
import { type Db, type Prisma, poolOf } from "../prisma/client.ts";
import type { CheckoutEvent, EventRequest, EventType } from "../workflows/types.ts";
import { type EventPublisher, eventId, subscribersOf } from "./events.ts";

/** An event the relay handed out, for the fan-out workflow of its subscribers. */
export interface RelayedEvent {
  event: CheckoutEvent;
  sourceWorkflowId: string;
  checkoutId: string;
  published: boolean;
}

export interface RelayRound {
  /** Events with at least one subscriber: each gets a fan-out workflow. */
  toFanOut: RelayedEvent[];
  /** Every event of the round: marked dispatched at the start of the next one. */
  handled: string[];
}

type Tx = Prisma.TransactionClient;

const CHANNEL = "checkout_events";
/** Events one relay round hands out at most. */
const ROUND_SIZE = 200;
/** How long a round waits for a first event before it returns empty (the relay then asks again). */
const IDLE_WAIT_MS = 30_000;
/**
 * How long a round lets events gather once there are some: a round is an activity and a workflow
 * task on the Temporal server, so under load one round per event would cost the server about a
 * quarter of a checkout again. Events reach subscribers up to this much later.
 */
const GATHER_MS = 200;

/**
 * Writes the event in the caller's transaction, from the rows as that transaction leaves them:
 * what subscribers read is what was committed. A second write of the same event is a no-op.
 */
export async function writeCheckoutEvent(tx: Tx, checkoutId: string, request: EventRequest): Promise<void> {
  const order = await tx.order.findUnique({
    where: { checkoutId },
    include: { items: { orderBy: { position: "asc" } }, payment: true, customer: { select: { externalId: true } } },
  });
  if (!order) throw new Error(`no order for checkout ${checkoutId}: its event cannot be written`);
  const { payment } = order;
  const data = {
    checkoutId,
    status: request.status,
    customerId: order.customer.externalId,
    metadata: order.metadata,
    order: {
      id: order.id,
      totalAmount: Number(order.totalAmount),
      currency: order.currency,
      items: order.items.map((i) => ({ sku: i.sku, name: i.name, quantity: i.quantity, unitAmount: Number(i.unitAmount) })),
    },
    payment: {
      provider: payment?.provider ?? null,
      method: payment?.method ?? null,
      status: payment?.status ?? "NOT_STARTED",
      gatewayReference: payment?.gatewayReference ?? null,
      failureReason: payment?.failureReason ?? null,
    },
    // An order's later life (workflows/order.ts): where it stands, its shipment, its cancel and refund.
    ...(request.type.startsWith("order.")
      ? {
          orderStatus: order.status,
          shipment: order.shippedAt
            ? { carrier: order.carrier, tracking: order.trackingNumber, shippedAt: order.shippedAt.toISOString() }
            : null,
          deliveredAt: order.deliveredAt?.toISOString() ?? null,
          cancellation: order.cancelledAt
            ? { cancelledAt: order.cancelledAt.toISOString(), refundId: order.cancelRefundId }
            : null,
        }
      : {}),
  };
  await writeEvent(tx, {
    id: eventId(request.sourceWorkflowId, request.type),
    type: request.type,
    subjectId: checkoutId,
    data,
    sourceWorkflowId: request.sourceWorkflowId,
    merchantId: order.merchantId,
  });
}

/**
 * Any event into the outbox, in the caller's transaction (a second write of the same id is a
 * no-op). `subjectId` is what the event is about: a checkout's id, or a ledger event's transfer
 * id (kept in the `checkoutId` column, which the relay and the fan-out only pass along).
 */
export async function writeEvent(
  tx: Tx,
  event: {
    id: string;
    type: string;
    subjectId: string;
    data: Prisma.InputJsonObject;
    sourceWorkflowId: string;
    merchantId: string;
  },
): Promise<void> {
  const { subjectId, ...row } = event;
  await tx.event.createMany({ data: [{ ...row, checkoutId: subjectId }], skipDuplicates: true });
  // Delivered at commit: the relay, waiting in LISTEN, wakes at once.
  await tx.$executeRaw`SELECT pg_notify(${CHANNEL}, ${subjectId})`;
}

/** Runs `change` and writes the event in one transaction; without a request, only the change. */
export async function withEvent<T>(
  db: Db,
  checkoutId: string,
  request: EventRequest | undefined,
  change: (tx: Tx) => Promise<T>,
): Promise<T> {
  return db.$transaction(async (tx) => {
    const result = await change(tx);
    if (request) await writeCheckoutEvent(tx, checkoutId, request);
    return result;
  });
}

export function outboxActivities(db: Db, publisher?: EventPublisher) {
  return {
    /**
     * One round of the relay: marks the previous round's events dispatched, waits (up to 30 s)
     * for events not yet dispatched, publishes them to the broker, and names those with
     * subscribers. Marking comes a round later, after the workflow has recorded the fan-outs it
     * started: a round lost to a crash is handed out again, and its fan-outs and broker messages
     * carry the event's id, so nothing is sent twice.
     */
    async relayEvents({ dispatched }: { dispatched: string[] }): Promise<RelayRound> {
      if (dispatched.length > 0) {
        await db.event.updateMany({ where: { id: { in: dispatched }, dispatchedAt: null }, data: { dispatchedAt: new Date() } });
      }
      // Events came in the last round: more are likely on their way.
      if (dispatched.length > 0 && dispatched.length < ROUND_SIZE) await Context.current().sleep(GATHER_MS);
      const rows = await pendingOrWait(db);
      if (rows.length === 0) return { toFanOut: [], handled: [] };

      const events = rows.map((row) => ({
        row,
        event: {
          id: row.id,
          type: row.type as EventType,
          createdAt: row.createdAt.toISOString(),
          data: row.data as Record<string, unknown>,
        },
      }));
      for (const { event } of events) {
        await publisher?.publish(event);
        Context.current().heartbeat();
      }
      const subscribed = await subscribedSince(db, rows);
      const isSubscribed = (row: (typeof rows)[number]) => {
        const since = subscribed.get(`${row.merchantId}:${row.type}`);
        return since !== undefined && since <= row.createdAt;
      };
      const toFanOut = events
        .filter(({ row }) => isSubscribed(row))
        .map(({ row, event }) => ({
          event,
          sourceWorkflowId: row.sourceWorkflowId ?? "",
          checkoutId: row.checkoutId,
          published: publisher !== undefined,
        }));
      if (rows.length === ROUND_SIZE) log.info("event relay round full: more events are waiting", { size: ROUND_SIZE });
      return { toFanOut, handled: rows.map((r) => r.id) };
    },
  };
}

/**
 * For each merchant and type of the round, when its oldest live subscriber was created (the rule
 * of subscribersOf: an endpoint hears of events that happened after it was made).
 */
async function subscribedSince(db: Db, rows: Array<{ merchantId: string | null; type: string; createdAt: Date }>) {
  const latest = new Map<string, { merchantId: string; type: string; createdAt: Date }>();
  for (const row of rows) {
    const key = `${row.merchantId}:${row.type}`;
    const seen = latest.get(key);
    if (!seen || seen.createdAt < row.createdAt)
      latest.set(key, { merchantId: row.merchantId ?? "", type: row.type, createdAt: row.createdAt });
  }
  const since = new Map<string, Date>();
  for (const [key, pair] of latest) {
    const oldest = await db.webhookEndpoint.findFirst({
      where: subscribersOf(pair),
      orderBy: { createdAt: "asc" },
      select: { createdAt: true },
    });
    if (oldest) since.set(key, oldest.createdAt);
  }
  return since;
}

/** The oldest events not yet dispatched; when there are none, waits for a NOTIFY (or 30 s) and looks again. */
async function pendingOrWait(db: Db) {
  const pending = () => db.event.findMany({ where: { dispatchedAt: null }, orderBy: { createdAt: "asc" }, take: ROUND_SIZE });
  const first = await pending();
  if (first.length > 0) return first;
  const pool = poolOf(db);
  if (!pool) return first;
  const listener = await pool.connect();
  try {
    let wake: () => void = () => {};
    const notified = new Promise<void>((resolve) => {
      wake = resolve;
    });
    listener.on("notification", () => wake());
    await listener.query(`LISTEN ${CHANNEL}`);
    // Written between the first look and the LISTEN: seen now.
    const raced = await pending();
    if (raced.length > 0) return raced;
    // Context.sleep ends at once when the activity is cancelled (a worker shutting down).
    const context = Context.current();
    const deadline = Date.now() + IDLE_WAIT_MS;
    while (Date.now() < deadline) {
      const woke = await Promise.race([notified.then(() => true), context.sleep(5_000).then(() => false)]);
      if (woke) {
        await context.sleep(GATHER_MS);
        break;
      }
      context.heartbeat();
    }
    return await pending();
  } finally {
    await listener.query(`UNLISTEN ${CHANNEL}`).catch(() => {});
    listener.removeAllListeners("notification");
    listener.release();
  }
}

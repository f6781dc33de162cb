// Customer emails over SMTP, at most once per (checkout, channel, template), exactly once unless
// something dies between handing the message to the SMTP server and its answer. The row is the
// delivery key and records where the attempt got to: SENDING when the SMTP transaction starts,
// `handedOverAt` when it reaches the message data (the server's 354, the only point from which
// the server may hold the message), SENT when the server accepts it. A server that cannot be
// reached or that refuses (a 4xx/5xx reply) has not taken the message, and neither has an
// attempt that died before the handover: the retry sends it. An attempt that handed the message
// over and never learned the answer (its worker died, the connection dropped) may or may not have
// delivered it; SMTP has no idempotency key to ask with, so nothing is sent again and the row is
// marked UNCERTAIN for an operator. The Message-ID is derived from the same key, so a mail server
// or a reader can recognise a duplicate should one ever go out.
import { Readable } from "node:stream";
import { log } from "@temporalio/activity";
import MailComposer from "nodemailer/lib/mail-composer";
import type { Db } from "../prisma/client.ts";
import type { NotificationRequest } from "../workflows/types.ts";
import { renderEmail } from "./email-templates.ts";
import { whileHeartbeating } from "./heartbeat.ts";
import { writeCheckoutEvent } from "./outbox.ts";
import type { MessageSender } from "./smtp-sender.ts";

export interface Mailer {
  sender: MessageSender;
  from: string;
}

export interface NotificationResult {
  messageId: string;
  /** An earlier attempt had sent it: nothing was sent now. */
  alreadySent: boolean;
  /** An earlier attempt handed it to SMTP without learning the outcome: not sent again (UNCERTAIN). */
  uncertain: boolean;
}

type NotificationStatus = "PENDING" | "SENDING" | "SENT" | "UNCERTAIN" | "FAILED";

/** Statuses from which an attempt may start an SMTP transaction. */
const SENDABLE: NotificationStatus[] = ["PENDING", "FAILED"];

/** A reply from the server (4xx/5xx) means it did not take the message, whatever the stage. */
const serverRefused = (err: unknown) => typeof (err as { responseCode?: unknown }).responseCode === "number";

export function notificationActivities(db: Db, mailer: Mailer) {
  /** Never resends: the email is left to an operator as UNCERTAIN. */
  async function leaveUncertain(id: string, request: NotificationRequest, template: string, why: string) {
    await db.notification.updateMany({ where: { id, status: "SENDING" }, data: { status: "UNCERTAIN" } });
    log.warn(
      `email "${template}" for checkout ${request.checkoutId} may or may not have reached the customer (${why}); ` +
        "not sending it again: marked UNCERTAIN",
      { checkoutId: request.checkoutId, template },
    );
  }

  return {
    /** Sends the email (at most once), then writes the event the workflow asked for with it. */
    async sendNotification(request: NotificationRequest): Promise<NotificationResult> {
      const result = await send(request);
      const { event } = request;
      if (event) await db.$transaction((tx) => writeCheckoutEvent(tx, request.checkoutId, event));
      return result;
    },
  };

  async function send(request: NotificationRequest): Promise<NotificationResult> {
    // One email per (checkout, template); refunds are told one by one.
    const template = request.refund ? `${request.template}:${request.refund.id}` : request.template;
    const key = { checkoutId: request.checkoutId, channel: "email", template };
    const messageId = `<${request.checkoutId}.${template.replace(":", ".")}@checkout>`;
    const result = (outcome: "sent" | "already-sent" | "uncertain"): NotificationResult => ({
      messageId,
      alreadySent: outcome === "already-sent",
      uncertain: outcome === "uncertain",
    });

    // Built before the row turns SENDING, so that nothing but SMTP can fail in between.
    const composed = new MailComposer({
      from: mailer.from,
      to: request.recipient,
      messageId,
      ...renderEmail(request),
    }).compile();
    const { from, to } = composed.getEnvelope();
    const envelope = { from: from || mailer.from, to };
    const message = await composed.build();

    const row = await db.notification.upsert({
      where: { checkoutId_channel_template: key },
      create: { ...key, recipient: request.recipient, messageId },
      update: {},
    });

    // Claim the send: compare-and-set on (status, attempts), so two attempts never both send. An
    // earlier attempt that is SENDING but never reached the handover is taken over: should it
    // still be alive, its own handover (a compare-and-set on its attempt) now fails.
    let status = row.status as NotificationStatus;
    const attempt = row.attempts + 1;
    let claimed = false;
    if (SENDABLE.includes(status) || (status === "SENDING" && !row.handedOverAt)) {
      const { count } = await db.notification.updateMany({
        where: {
          id: row.id,
          status: row.status,
          attempts: row.attempts,
          ...(status === "SENDING" ? { handedOverAt: null } : {}),
        },
        data: { status: "SENDING", attempts: attempt, sendingAt: new Date(), handedOverAt: null },
      });
      claimed = count === 1;
      if (!claimed) status = (await db.notification.findUniqueOrThrow({ where: { id: row.id } })).status;
    }
    if (!claimed) {
      switch (status) {
        case "SENT":
          return result("already-sent");
        case "SENDING":
          await leaveUncertain(row.id, request, template, "an earlier attempt handed the message over and did not finish");
          return result("uncertain");
        case "UNCERTAIN":
          log.warn(`email "${template}" for checkout ${request.checkoutId} is UNCERTAIN: not sending it again`, {
            checkoutId: request.checkoutId,
            template,
          });
          return result("uncertain");
        default:
          throw new Error(`email "${template}" for checkout ${request.checkoutId} changed under this attempt; retrying`);
      }
    }

    // Read by the SMTP connection once the server has said 354 (send the data): the handover.
    // It is recorded first; an attempt that has been taken over sends nothing.
    let handedOver = false;
    let reading = false;
    const raw = new Readable({
      read() {
        if (reading) return;
        reading = true;
        db.notification
          .updateMany({ where: { id: row.id, attempts: attempt, status: "SENDING" }, data: { handedOverAt: new Date() } })
          .then(({ count }) => {
            if (count !== 1) throw new Error(`a later attempt took email "${template}" over; this one sends nothing`);
            handedOver = true;
            this.push(message);
            this.push(null);
          })
          .catch((err: Error) => this.destroy(err));
      },
    });
    try {
      await whileHeartbeating(() => mailer.sender.send(envelope, raw));
    } catch (err) {
      const lastError = (err as Error).message;
      if (handedOver && !serverRefused(err)) {
        await db.notification.updateMany({ where: { id: row.id, attempts: attempt }, data: { lastError } });
        await leaveUncertain(row.id, request, template, `the SMTP conversation broke off: ${lastError}`);
        return result("uncertain");
      }
      // Not taken: PENDING again for the retry. Should a retry already have given up on this
      // attempt (UNCERTAIN), the refusal settles it: FAILED, not sent.
      await db.notification.updateMany({
        where: { id: row.id, attempts: attempt, status: "SENDING" },
        data: { status: "PENDING", lastError, handedOverAt: null },
      });
      await db.notification.updateMany({
        where: { id: row.id, attempts: attempt, status: "UNCERTAIN" },
        data: { status: "FAILED", lastError },
      });
      throw err;
    }
    // The server took it; also when a retry has meanwhile given up on this attempt.
    await db.notification.update({
      where: { id: row.id },
      data: { status: "SENT", sentAt: new Date(), lastError: null },
    });
    return result("sent");
  }
}

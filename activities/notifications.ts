// Customer emails over SMTP. A row per (checkout, channel, template) makes a retried activity
// skip an email already recorded as sent; the Message-ID is derived from the same key, so a
// duplicate that slips through a crash after the SMTP server accepted it can be recognised.
import type { Transporter } from "nodemailer";
import type { Db } from "../prisma/client.ts";
import type { NotificationRequest } from "../workflows/types.ts";
import { renderEmail } from "./email-templates.ts";

export interface Mailer {
  transport: Pick<Transporter, "sendMail">;
  from: string;
}

export function notificationActivities(db: Db, mailer: Mailer) {
  return {
    async sendNotification(request: NotificationRequest): Promise<{ messageId: string; alreadySent: boolean }> {
      // One email per (checkout, template); refunds are told one by one.
      const template = request.refund ? `${request.template}:${request.refund.id}` : request.template;
      const key = { checkoutId: request.checkoutId, channel: "email", template };
      const messageId = `<${request.checkoutId}.${template.replace(":", ".")}@checkout>`;
      const row = await db.notification.upsert({
        where: { checkoutId_channel_template: key },
        create: { ...key, recipient: request.recipient, messageId, attempts: 1 },
        update: { attempts: { increment: 1 } },
      });
      if (row.status === "SENT") return { messageId, alreadySent: true };

      const email = renderEmail(request);
      try {
        await mailer.transport.sendMail({ from: mailer.from, to: request.recipient, messageId, ...email });
      } catch (err) {
        await db.notification.update({ where: { id: row.id }, data: { lastError: (err as Error).message } });
        throw err;
      }
      await db.notification.update({ where: { id: row.id }, data: { status: "SENT", sentAt: new Date(), lastError: null } });
      return { messageId, alreadySent: false };
    },
  };
}

// Customer emails on the real stack: what each of the five emails says (parsed from the raw
// message the SMTP server received), and that each goes out at most once: a worker SIGKILLed
// while the SMTP server holds its final reply leaves one email (UNCERTAIN, never resent), a
// server that refuses the first transaction gets the email on the retry, and a connection that
// drops after the data is not retried.
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createServer, type Server, type Socket } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { headerOf } from "../infra/smtp-catcher.ts";
import { call, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";
import { spawnWorkerProcess, type WorkerProcess } from "./support/worker-process.ts";

const ended = (body: any) => ["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"].includes(body?.status);
const TAG = /<[a-z/][^>]*>/i;

/** A message as the customer's mail program sees it: its headers and its decoded parts. */
interface ParsedMail {
  header(name: string): string;
  contentType: string;
  parts: Array<{ contentType: string; body: string }>;
}

function decodePart(body: string, encoding: string): string {
  switch (encoding.toLowerCase()) {
    case "quoted-printable": {
      const bytes: number[] = [];
      const text = body.replace(/=\r?\n/g, "");
      for (let i = 0; i < text.length; i++) {
        if (text[i] === "=" && /^[0-9A-F]{2}$/i.test(text.slice(i + 1, i + 3))) {
          bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
          i += 2;
        } else bytes.push(...Buffer.from(text[i], "utf8"));
      }
      return Buffer.from(bytes).toString("utf8");
    }
    case "base64":
      return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
    default:
      return body;
  }
}

function splitHead(raw: string): { head: string; body: string } {
  const at = raw.search(/\r?\n\r?\n/);
  if (at < 0) return { head: raw, body: "" };
  const gap = raw.slice(at).match(/^\r?\n\r?\n/)?.[0].length ?? 2;
  return { head: raw.slice(0, at), body: raw.slice(at + gap) };
}

function parseMail(raw: string): ParsedMail {
  const contentType = headerOf(raw, "Content-Type");
  const boundary = contentType.match(/boundary="?([^";]+)"?/i)?.[1];
  const parts: ParsedMail["parts"] = [];
  if (boundary) {
    const { body } = splitHead(raw);
    const pieces = body.split(`--${boundary}`).slice(1); // before the first boundary: the preamble
    for (const piece of pieces) {
      if (piece.startsWith("--")) break; // the closing boundary
      const part = piece.replace(/^\r?\n/, "");
      const { body: partBody } = splitHead(part);
      parts.push({
        contentType: headerOf(part, "Content-Type"),
        body: decodePart(partBody.replace(/\r?\n$/, ""), headerOf(part, "Content-Transfer-Encoding")),
      });
    }
  }
  return { header: (name) => headerOf(raw, name), contentType, parts };
}

/** The one email a checkout got, checked to be multipart/alternative with a text and an HTML part. */
function theEmail(messages: Array<{ raw: string; to: string[] }>, checkoutId: string, template: string) {
  const mails = messages.filter((m) => m.raw.includes(checkoutId));
  expect(mails, `emails for ${checkoutId}`).toHaveLength(1);
  const mail = parseMail(mails[0].raw);
  expect(mails[0].to).toEqual(["ada@example.com"]);
  expect(mail.header("To")).toBe("ada@example.com");
  expect(mail.header("From")).toMatch(/<no-reply@checkout\.local>$/);
  expect(mail.header("Message-ID")).toBe(`<${checkoutId}.${template}@checkout>`);
  expect(mail.contentType).toMatch(/^multipart\/alternative;/);
  expect(mail.parts.map((p) => p.contentType.split(";")[0])).toEqual(["text/plain", "text/html"]);
  const [text, html] = mail.parts.map((p) => p.body);
  expect(text).not.toMatch(TAG);
  expect(html).toMatch(/^<p>.*<\/p>$/s);
  return { subject: mail.header("Subject"), text, html };
}

describe("the five customer emails", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ paymentActionTimeoutSeconds: 2 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const euroCheckout = (token = "tok_approve") =>
    validCheckout(token, {
      currency: "EUR",
      items: [
        { sku: "tee", name: "T-shirt", quantity: 1, unitAmount: 2499 },
        { sku: "mug", name: "Mug", quantity: 1, unitAmount: 1499 },
      ],
    });

  async function notificationRow(checkoutId: string, template: string) {
    return stack.db.notification.findUniqueOrThrow({
      where: { checkoutId_channel_template: { checkoutId, channel: "email", template } },
    });
  }

  it("order paid: the items and the total in euros", async () => {
    const id = await startCheckout(stack.url, euroCheckout());
    expect((await waitForCheckout(stack.url, id)).status).toBe("COMPLETED");

    const mail = theEmail(stack.mail.messages, id, "order-paid");
    expect(mail.subject).toBe("Payment received: €39.98");
    expect(mail.text).toContain("We received your payment of €39.98.");
    expect(mail.text).toContain("1 × T-shirt  €24.99");
    expect(mail.text).toContain("1 × Mug  €14.99");
    expect(mail.text).toContain("Total  €39.98");
    expect(mail.html).toContain('<tr><td>1 × T-shirt</td><td align="right">€24.99</td></tr>');
    expect(mail.html).toContain('<tr><td>1 × Mug</td><td align="right">€14.99</td></tr>');
    expect(mail.html).toContain("<strong>€39.98</strong>");
    expect(await notificationRow(id, "order-paid")).toMatchObject({ status: "SENT", attempts: 1, lastError: null });
  });

  it("payment failed: the decline reason the customer may read, the total in yen", async () => {
    const body = validCheckout("tok_decline", {
      currency: "JPY",
      items: [{ sku: "mug", name: "Mug", quantity: 3, unitAmount: 1200 }],
    });
    const id = await startCheckout(stack.url, body);
    expect((await waitForCheckout(stack.url, id)).status).toBe("FAILED");

    const mail = theEmail(stack.mail.messages, id, "payment-failed");
    expect(mail.subject).toBe("Your payment of ¥3,600 did not go through");
    expect(mail.text).toContain("We could not take your payment of ¥3,600.");
    expect(mail.text).toContain("Reason: Your card was declined.");
    expect(mail.text).toContain("You have not been charged.");
    expect(mail.html).toContain("<strong>¥3,600</strong>");
    expect(mail.html).toContain("<p>Reason: Your card was declined.</p>");
    expect(await notificationRow(id, "payment-failed")).toMatchObject({ status: "SENT", attempts: 1 });
  });

  it("refund issued: the amount refunded and the total", async () => {
    const id = await startCheckout(stack.url, euroCheckout());
    expect((await waitForCheckout(stack.url, id)).status).toBe("COMPLETED");
    const refund = await call(
      stack.url,
      "POST",
      `/checkouts/${id}/refunds`,
      { amount: 1000 },
      { "idempotency-key": `r-${randomUUID()}` },
    );
    expect(refund.status, refund.text).toBe(202);

    const refundMails = () => stack.mail.messages.filter((m) => m.raw.includes(id) && m.subject.startsWith("Refund"));
    await expect.poll(() => refundMails().length, { timeout: 20_000 }).toBe(1);
    const mail = theEmail(refundMails(), id, `refund-issued.${refund.json.id}`);
    expect(mail.subject).toBe("Refund issued: €10.00");
    expect(mail.text).toContain("We refunded €10.00 of your payment of €39.98.");
    expect(mail.html).toContain("<strong>€10.00</strong>");
    expect(mail.html).toContain("€39.98");
    expect(await notificationRow(id, `refund-issued:${refund.json.id}`)).toMatchObject({ status: "SENT", attempts: 1 });
  });

  it("checkout expired: the customer did not authenticate in time", async () => {
    const id = await startCheckout(stack.url, euroCheckout("tok_3ds"));
    const done = await waitForCheckout(stack.url, id, ended, 30_000);
    expect(done.status).toBe("EXPIRED");

    const mail = theEmail(stack.mail.messages, id, "checkout-expired");
    expect(mail.subject).toBe("Your order expired before payment");
    expect(mail.text).toContain("Your order of €39.98 was cancelled because the payment was not completed in time.");
    expect(mail.text).toContain("You have not been charged.");
    expect(mail.html).toContain("<strong>€39.98</strong>");
    expect(await notificationRow(id, "checkout-expired")).toMatchObject({ status: "SENT", attempts: 1 });
  });

  it("checkout cancelled: cancelled before the payment started", async () => {
    const own = await startTestStack({ startWorker: false });
    try {
      const id = await startCheckout(own.url, euroCheckout());
      // No worker polls yet: the cancel waits in the server until one does.
      const cancelling = call(own.url, "POST", `/checkouts/${id}/cancel`, { reason: "changed my mind" });
      cancelling.catch(() => {});
      await new Promise((r) => setTimeout(r, 500));
      await own.startWorker();
      const cancelled = await cancelling;
      expect(cancelled.status, cancelled.text).toBe(200);
      expect(cancelled.json.status).toBe("CANCELLED");

      const mail = theEmail(own.mail.messages, id, "checkout-cancelled");
      expect(mail.subject).toBe("Your order was cancelled");
      expect(mail.text).toContain("Your order of €39.98 was cancelled before any payment was taken.");
      expect(mail.html).toContain("<strong>€39.98</strong>");
    } finally {
      await own.stop();
    }
  });
});

/** An SMTP server whose behaviour per transaction the test decides. */
interface TestSmtp {
  url: string;
  /** Messages the server took (their data read in full), whether or not it answered. */
  received: string[];
  /** Transactions it refused. */
  refused: number;
  /** Transactions it left waiting at RCPT TO, before any data. */
  stalled: number;
  stop(): Promise<void>;
}

/**
 * `decide(n)` for the n-th message (from 1), once its data has been read in full: "accept" answers
 * 250, "refuse" answers 451 (the message is not kept), "hold" keeps the message and does not answer
 * until the server stops.
 */
async function startTestSmtp(
  decide: (n: number) => "accept" | "refuse" | "hold",
  options: { stallFirstRecipient?: boolean } = {},
): Promise<TestSmtp> {
  const held: Array<() => void> = [];
  const state: TestSmtp = { url: "", received: [], refused: 0, stalled: 0, stop: async () => {} };
  let count = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    closeTimeout: 1000,
    onRcptTo(_address, _session, callback) {
      // Never answered: the client waits before DATA, holding nothing the server could deliver.
      if (options.stallFirstRecipient && state.stalled === 0) {
        state.stalled++;
        return;
      }
      callback();
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const action = decide(++count);
        if (action === "refuse") {
          state.refused++;
          const err = Object.assign(new Error("Try again later"), { responseCode: 451 });
          return callback(err);
        }
        state.received.push(raw);
        if (action === "hold") held.push(() => callback());
        else callback();
      });
    },
  });
  server.on("error", () => {}); // a client SIGKILLed mid-conversation resets its connection
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  state.url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  state.stop = async () => {
    for (const release of held.splice(0)) {
      try {
        release();
      } catch {
        // its client is gone
      }
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}

/** A worker of this test's own, in this process, sending through `smtpUrl`. */
describe("at most once", () => {
  let stack: TestStack;
  const children: WorkerProcess[] = [];
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    stack = await startTestStack({ startWorker: false });
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const notificationOf = (checkoutId: string) =>
    stack.db.notification.findUniqueOrThrow({
      where: { checkoutId_channel_template: { checkoutId, channel: "email", template: "order-paid" } },
    });

  it("a worker killed while the SMTP server holds its reply: one email, UNCERTAIN, never sent again", async () => {
    // The server keeps the first message and never answers it; anything after it, it accepts.
    const smtp = await startTestSmtp((n) => (n === 1 ? "hold" : "accept"));
    cleanups.push(smtp.stop);
    const env = { ...stack.env, SMTP_URL: smtp.url };
    const first = await spawnWorkerProcess(env);
    children.push(first);
    const proc = first.process;

    const id = await startCheckout(stack.url, validCheckout("tok_approve"));
    await expect.poll(() => smtp.received.filter((m) => m.includes(id)).length, { timeout: 30_000 }).toBe(1);
    expect(await notificationOf(id)).toMatchObject({ status: "SENDING", attempts: 1 });

    // The server has the message; the worker waits for the answer. Kill it now.
    const exited = new Promise((resolve) => proc.once("exit", (_code, signal) => resolve(signal)));
    proc.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");

    // A replacement on the same SMTP server: it retries the activity once the attempt times out.
    const second = await spawnWorkerProcess(env);
    children.push(second);
    const done = await waitForCheckout(stack.url, id, ended, 90_000);
    expect(done.status).toBe("COMPLETED");

    expect(smtp.received.filter((m) => m.includes(id))).toHaveLength(1);
    expect(stack.mail.messages.filter((m) => m.raw.includes(id))).toHaveLength(0);
    const row = await notificationOf(id);
    expect(row).toMatchObject({ status: "UNCERTAIN", attempts: 1, messageId: `<${id}.order-paid@checkout>` });
    expect(row.sendingAt).toBeInstanceOf(Date);
    // The worker's log is JSON lines: the warning names the checkout, in its text and as a field.
    const warning = second
      .output()
      .split("\n")
      .flatMap((line): Array<{ msg?: string; checkoutId?: string }> => {
        try {
          return [JSON.parse(line)];
        } catch {
          return [];
        }
      })
      .find((line) => line.msg?.includes("may or may not have reached the customer"));
    expect(warning).toMatchObject({ checkoutId: id, msg: expect.stringContaining(`email "order-paid" for checkout ${id}`) });
  }, 150_000);

  it("a worker killed before the handover (the server stalls before the data): the retry sends it, once", async () => {
    // The first transaction stalls at RCPT TO, before the server's 354: no message data can have
    // reached it. Later transactions go through.
    const smtp = await startTestSmtp(() => "accept", { stallFirstRecipient: true });
    cleanups.push(smtp.stop);
    const env = { ...stack.env, SMTP_URL: smtp.url };
    const first = await spawnWorkerProcess(env);
    children.push(first);

    const id = await startCheckout(stack.url, validCheckout("tok_approve"));
    await expect.poll(() => smtp.stalled, { timeout: 30_000 }).toBe(1);
    expect(await notificationOf(id)).toMatchObject({ status: "SENDING", attempts: 1, handedOverAt: null });
    const exited = new Promise((resolve) => first.process.once("exit", (_code, signal) => resolve(signal)));
    first.process.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");

    const second = await spawnWorkerProcess(env);
    children.push(second);
    await waitForCheckout(stack.url, id, ended, 90_000);
    await expect.poll(async () => (await notificationOf(id)).status, { timeout: 60_000 }).toBe("SENT");
    expect(smtp.received.filter((m) => m.includes(id))).toHaveLength(1);
    const row = await notificationOf(id);
    expect(row).toMatchObject({ status: "SENT", attempts: 2 });
    expect(row.handedOverAt).toBeInstanceOf(Date);
  }, 150_000);

  it("a server that refuses the first transaction (451): the retry sends it, once", async () => {
    const smtp = await startTestSmtp((n) => (n === 1 ? "refuse" : "accept"));
    cleanups.push(smtp.stop);
    await stack.startWorker({ smtpUrl: smtp.url });
    cleanups.push(() => stack.stopWorker());

    const id = await startCheckout(stack.url, validCheckout("tok_approve"));
    const done = await waitForCheckout(stack.url, id, ended, 30_000);
    expect(done.status).toBe("COMPLETED");

    expect(smtp.refused).toBe(1);
    const mails = smtp.received.filter((m) => m.includes(id));
    expect(mails).toHaveLength(1);
    expect(headerOf(mails[0], "Subject")).toBe("Payment received: $39.98");
    expect(headerOf(mails[0], "Message-ID")).toBe(`<${id}.order-paid@checkout>`);
    expect(await notificationOf(id)).toMatchObject({ status: "SENT", attempts: 2, lastError: null });
  });

  it("a connection that drops after the data, with no answer: UNCERTAIN, not retried", async () => {
    const smtp = await startDroppingSmtp();
    cleanups.push(smtp.stop);
    await stack.startWorker({ smtpUrl: smtp.url });
    cleanups.push(() => stack.stopWorker());

    const id = await startCheckout(stack.url, validCheckout("tok_approve"));
    const done = await waitForCheckout(stack.url, id, ended, 30_000);
    expect(done.status).toBe("COMPLETED");

    expect(smtp.received.filter((m) => m.includes(id))).toHaveLength(1);
    const row = await notificationOf(id);
    expect(row).toMatchObject({ status: "UNCERTAIN", attempts: 1 });
    expect(row.lastError).toMatch(/closed/i);
  });
});

/** A bare SMTP server that reads each message in full and then drops the connection unanswered. */
async function startDroppingSmtp(): Promise<{ url: string; received: string[]; stop(): Promise<void> }> {
  const received: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffer = "";
    let inData = false;
    socket.write("220 dropping.test ESMTP\r\n");
    socket.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      for (;;) {
        if (inData) {
          const end = buffer.indexOf("\r\n.\r\n");
          if (end < 0) return;
          received.push(buffer.slice(0, end));
          socket.destroy(); // the data is here; the answer never comes
          return;
        }
        const eol = buffer.indexOf("\r\n");
        if (eol < 0) return;
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const verb = line.split(" ", 1)[0].toUpperCase();
        if (verb === "DATA") {
          inData = true;
          socket.write("354 go ahead\r\n");
        } else if (verb === "QUIT") socket.end("221 bye\r\n");
        else socket.write("250 ok\r\n");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `smtp://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

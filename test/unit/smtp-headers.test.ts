import nodemailer from "nodemailer";
import { describe, expect, it } from "vitest";
import { headerOf } from "../../infra/smtp-catcher.ts";

const message = (...headers: string[]) => `${headers.join("\r\n")}\r\n\r\nSubject: not a header, this is the body\r\n`;

describe("headerOf", () => {
  it("finds a header by name, whatever its case", () => {
    const raw = message("From: a@example.com", "Subject: Hello", "Message-ID: <1@example.com>");
    expect(headerOf(raw, "Subject")).toBe("Hello");
    expect(headerOf(raw, "subject")).toBe("Hello");
    expect(headerOf(raw, "MESSAGE-ID")).toBe("<1@example.com>");
  });

  it("answers an empty string for a missing header and never reads the body", () => {
    expect(headerOf(message("From: a@example.com"), "Subject")).toBe("");
  });

  it("does not take a header whose name only starts with the one asked for", () => {
    const raw = message("Message-ID: <1@example.com>");
    expect(headerOf(raw, "Message")).toBe("");
  });

  it("unfolds folded headers", () => {
    const raw = message("Subject: Your payment of $39.98", "\tdid not go", " through", "To: a@example.com");
    expect(headerOf(raw, "Subject")).toBe("Your payment of $39.98 did not go through");
    expect(headerOf(raw, "To")).toBe("a@example.com");
  });

  it("handles bare LF line endings", () => {
    const raw = "Subject: Hello\n world\nTo: a@example.com\n\nbody\n";
    expect(headerOf(raw, "Subject")).toBe("Hello world");
  });

  it("decodes an RFC 2047 Q-encoded word", () => {
    const raw = message("Subject: =?UTF-8?Q?Payment_received=3A_=C2=A53=2C600?=");
    expect(headerOf(raw, "Subject")).toBe("Payment received: ¥3,600");
  });

  it("decodes an RFC 2047 B-encoded word, and lower-case encodings", () => {
    const text = "Paiement reçu : 3 600 ¥ — merci";
    const b64 = Buffer.from(text, "utf8").toString("base64");
    expect(headerOf(message(`Subject: =?UTF-8?B?${b64}?=`), "Subject")).toBe(text);
    expect(headerOf(message(`Subject: =?utf-8?b?${b64}?=`), "Subject")).toBe(text);
    expect(headerOf(message("Subject: =?utf-8?q?caf=C3=A9?="), "Subject")).toBe("café");
  });

  it("joins adjacent encoded words across folds, keeping spaces around plain text", () => {
    const raw = message(
      "Subject: =?UTF-8?Q?Payment_received=3A_=C2=A53=2C600_?=",
      " =?UTF-8?Q?=E2=80=94_tr=C3=A8s?= bien =?UTF-8?B?w6l0w6k=?=",
    );
    expect(headerOf(raw, "Subject")).toBe("Payment received: ¥3,600 — très bien été");
  });

  it("decodes a latin-1 encoded word", () => {
    expect(headerOf(message("Subject: =?ISO-8859-1?Q?caf=E9?="), "Subject")).toBe("café");
  });

  it("reads back the subject nodemailer writes, long and non-ASCII", async () => {
    const subject = "Payment received: ¥3,600 — très long sujet qui sera plié sur plusieurs lignes, avec des accents: àéîõü";
    const transport = nodemailer.createTransport({ streamTransport: true, buffer: true });
    const info = await transport.sendMail({ from: "a@example.com", to: "b@example.com", subject, text: "x" });
    const raw = (info.message as Buffer).toString("utf8");
    expect(raw).toMatch(/^Subject: =\?UTF-8\?[QB]\?.*\r\n /m); // really encoded and folded
    expect(headerOf(raw, "Subject")).toBe(subject);
  });
});

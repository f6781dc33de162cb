// A real SMTP server that accepts every message and keeps it: as an .eml file in the data folder
// for people, and in memory for tests. The default mail server of `npm start` and the tests.
import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { SMTPServer } from "smtp-server";

export interface CaughtMessage {
  from: string;
  to: string[];
  subject: string;
  messageId: string;
  raw: string;
  file?: string;
  receivedAt: Date;
}

export interface SmtpCatcher {
  url: string;
  port: number;
  messages: CaughtMessage[];
  stop(): Promise<void>;
}

/** Unfolds RFC 5322 header lines and returns the named header's value, encoded words decoded. */
export function headerOf(raw: string, name: string): string {
  const head = raw.split(/\r?\n\r?\n/, 1)[0].replace(/\r?\n[ \t]+/g, " ");
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line ? decodeEncodedWords(line.slice(name.length + 1).trim()) : "";
}

/** RFC 2047 `=?UTF-8?Q?...?=` and `=?UTF-8?B?...?=` words, as mailers write non-ASCII subjects. */
function decodeEncodedWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, charset: string, encoding: string, text: string) => {
      const bytes =
        encoding.toUpperCase() === "B"
          ? Buffer.from(text, "base64")
          : Buffer.from(
              text
                .replace(/_/g, " ")
                .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
              "latin1",
            );
      try {
        return new TextDecoder(charset).decode(bytes);
      } catch {
        return text; // a charset this runtime does not know: keep the word as sent
      }
    });
}

export async function startSmtpCatcher(opts: { port: number; mailDir?: string }): Promise<SmtpCatcher> {
  if (opts.mailDir) await mkdir(opts.mailDir, { recursive: true });
  const messages: CaughtMessage[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", async () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const message: CaughtMessage = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: headerOf(raw, "Subject"),
          messageId: headerOf(raw, "Message-ID"),
          raw,
          receivedAt: new Date(),
        };
        try {
          if (opts.mailDir) {
            message.file = path.join(
              opts.mailDir,
              `${message.receivedAt.toISOString().replace(/[:.]/g, "-")}-${randomUUID().slice(0, 8)}.eml`,
            );
            await writeFile(message.file, raw);
          }
          messages.push(message);
          callback();
        } catch (err) {
          callback(err as Error);
        }
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

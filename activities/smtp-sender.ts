// Hands one message to an SMTP server, over nodemailer's SMTP connection (not its transport: the
// transport reads a message stream as soon as it is given one, while the connection reads it only
// once the server has said 354, so that reading it marks the handover). Errors are nodemailer's:
// a `responseCode` means the server answered (it did not take the message).
import type { Readable } from "node:stream";
import { parseConnectionUrl } from "nodemailer/lib/shared";
import SMTPConnection from "nodemailer/lib/smtp-connection";

export interface Envelope {
  from: string;
  to: string[];
}

export interface MessageSender {
  /** Resolves with the server's answer once it has taken the message. */
  send(envelope: Envelope, message: Readable): Promise<string>;
}

export function smtpSender(url: string): MessageSender {
  const options = parseConnectionUrl(url);
  return {
    send: (envelope, message) =>
      new Promise((resolve, reject) => {
        const connection = new SMTPConnection({
          host: options.host,
          port: options.port,
          secure: options.secure,
          connectionTimeout: 10_000,
          greetingTimeout: 10_000,
          socketTimeout: 20_000,
        });
        const fail = (err: Error) => {
          connection.close();
          reject(err);
        };
        connection.once("error", fail);
        connection.connect(() => {
          const send = () =>
            connection.send(envelope, message, (err, info) => {
              if (err) return fail(err);
              connection.quit();
              resolve(info.response);
            });
          if (!options.auth) return send();
          connection.login(options.auth, (err) => (err ? fail(err) : send()));
        });
      }),
  };
}

// The sandbox adapter's amounts, against a local HTTP stand-in for the sandbox service: ISO 4217
// minor units as they are, and nothing sent for an amount or currency it cannot take. (The
// service itself, with its ledger, is tested against the real stack in test/providers.test.ts.)
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CurrencyRuleError } from "../../providers/currency-rules.ts";
import { SandboxGateway } from "../../providers/sandbox.ts";
import type { ChargeRequest } from "../../providers/types.ts";

let server: Server;
let gateway: SandboxGateway;
const received: Array<{ path: string; body: any }> = [];

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
    received.push({ path: req.url ?? "", body });
    res.writeHead(201, { "content-type": "application/json" });
    res.end(JSON.stringify({ id: "ch_1", checkoutId: body?.checkoutId ?? "chk_1", status: "SUCCEEDED", declineCode: null }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  gateway = new SandboxGateway({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, webhookSecret: "s" });
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  received.length = 0;
});

const chargeRequest = (amount: number, currency: string): ChargeRequest => ({
  idempotencyKey: `wf-${currency}-${amount}`,
  checkoutId: "chk_1",
  amount,
  currency,
  token: "tok_success",
  method: "card",
  customerEmail: "ada@example.com",
});

describe("sandbox amounts", () => {
  it.each([
    [5_000, "ISK"],
    [1_234, "KWD"],
    [150, "MGA"],
    [999_999_999_999_999, "USD"],
  ])("charges and refunds %i %s in ISO minor units, as they are", async (amount, currency) => {
    expect(await gateway.charge(chargeRequest(amount, currency))).toEqual({ status: "succeeded", reference: "ch_1" });
    expect(received.at(-1)!.body).toMatchObject({ amount, currency });
    await gateway.refund({ idempotencyKey: "r", checkoutId: "chk_1", chargeReference: "ch_1", amount, currency });
    expect(received.at(-1)).toEqual({ path: "/charges/ch_1/refunds", body: { amount } });
  });

  it.each([
    [100, "XX"],
    [100, "HRK"],
    [0, "USD"],
    [12.5, "USD"],
    [1_000_000_000_000_000, "USD"],
  ])("refuses %d %s before sending anything", async (amount, currency) => {
    await expect(gateway.charge(chargeRequest(amount, currency))).rejects.toBeInstanceOf(CurrencyRuleError);
    await expect(
      gateway.refund({ idempotencyKey: "r", checkoutId: "chk_1", chargeReference: "ch_1", amount, currency }),
    ).rejects.toBeInstanceOf(CurrencyRuleError);
    expect(received).toHaveLength(0);
  });
});

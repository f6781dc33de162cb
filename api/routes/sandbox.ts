// The sandbox payment provider's HTTP API, served only while SANDBOX_ENABLED is on. The sandbox
// adapter (providers/sandbox.ts) calls it over HTTP like any provider's API.
import { createRoute, z } from "@hono/zod-openapi";
import { MAX_AMOUNT } from "../../money/amounts.ts";
import type { SandboxLedger } from "../../sandbox/ledger.ts";
import { access, callerFor } from "../auth.ts";
import { createRouter } from "../router.ts";
import { Currency, ErrorResponse, json, minorUnits } from "../schemas.ts";

const SandboxCharge = z
  .object({
    id: z.string(),
    idempotencyKey: z.string(),
    checkoutId: z.string(),
    amount: z.int(),
    currency: z.string(),
    status: z.enum(["PENDING", "PROCESSING", "REQUIRES_ACTION", "SUCCEEDED", "DECLINED"]),
    declineCode: z.string().nullable(),
    declineReason: z.string().optional(),
    refundedAmount: z.int(),
    requests: z.int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("SandboxCharge");
const Outage = z.object({ active: z.boolean() }).openapi("SandboxOutage");

const createCharge = createRoute({
  method: "post",
  path: "/sandbox/charges",
  tags: ["sandbox"],
  summary: "Charge (the sandbox provider's own API; the token picks the outcome)",
  request: {
    headers: z.object({ "idempotency-key": z.string().min(1).max(255) }),
    body: {
      required: true,
      ...json(
        z.strictObject({
          // At most what any amount may be: the ledger stores it and reads it back as one.
          amount: z.int().min(1).max(MAX_AMOUNT),
          currency: Currency,
          token: z.string().min(1).max(255),
          checkoutId: z.string().min(1),
        }),
        "What to charge",
      ),
    },
  },
  responses: {
    201: json(SandboxCharge, "Charged"),
    200: json(SandboxCharge, "Replay: the charge made earlier under this key"),
    202: json(SandboxCharge, "The customer must authenticate (tok_3ds): see the authenticate page"),
    402: json(SandboxCharge, "Declined"),
    404: json(ErrorResponse, "Not found"),
    409: json(ErrorResponse, "A request under this key is in flight"),
    422: json(ErrorResponse, "Key reused with different parameters"),
    503: json(ErrorResponse, "Outage switch on, or a flaky token's early request"),
  },
});

const listCharges = createRoute({
  method: "get",
  path: "/sandbox/charges",
  tags: ["sandbox"],
  summary: "The sandbox ledger: your checkouts' charges with their idempotency keys",
  ...access("sandbox:write"),
  request: {
    query: z.object({
      checkoutId: z.string().optional(),
      status: z.enum(["PENDING", "PROCESSING", "REQUIRES_ACTION", "SUCCEEDED", "DECLINED"]).optional(),
    }),
  },
  responses: { 200: json(z.object({ data: z.array(SandboxCharge) }), "Charges, oldest first") },
});

const chargeByKey = createRoute({
  method: "get",
  path: "/sandbox/charges/by-key/{key}",
  tags: ["sandbox"],
  summary: "The charge made under an idempotency key (how a retry learns an earlier outcome)",
  request: { params: z.object({ key: z.string().min(1) }) },
  responses: { 200: json(SandboxCharge, "The charge"), 404: json(ErrorResponse, "No charge under this key") },
});

const getOutage = createRoute({
  method: "get",
  path: "/sandbox/outage",
  tags: ["sandbox"],
  summary: "Whether the outage switch is on",
  ...access("sandbox:write"),
  responses: { 200: json(Outage, "The switch") },
});

const putOutage = createRoute({
  method: "put",
  path: "/sandbox/outage",
  tags: ["sandbox"],
  summary: "Turn the outage switch on (every charge answers 503) or off",
  ...access("sandbox:write"),
  request: { body: { required: true, ...json(Outage, "The switch") } },
  responses: { 200: json(Outage, "The switch, as set") },
});

const SandboxRefund = z
  .object({ id: z.string(), chargeId: z.string(), amount: z.int(), idempotencyKey: z.string(), createdAt: z.string() })
  .openapi("SandboxRefund");
const ChargeId = z.object({ id: z.string().min(1) });

const authenticate = createRoute({
  method: "post",
  path: "/sandbox/charges/{id}/authenticate",
  tags: ["sandbox"],
  summary: "The customer's answer to 3-D Secure (tok_3ds); sends the signed webhook unless notify is false",
  request: {
    params: ChargeId,
    body: {
      required: true,
      ...json(z.strictObject({ outcome: z.enum(["succeeded", "failed"]), notify: z.boolean().default(true) }), "The answer"),
    },
  },
  responses: {
    200: json(SandboxCharge, "Settled"),
    404: json(ErrorResponse, "No such charge"),
    409: json(ErrorResponse, "Not awaiting authentication"),
    422: json(ErrorResponse, "Not used"),
    503: json(ErrorResponse, "Not used"),
  },
});

const cancelCharge = createRoute({
  method: "post",
  path: "/sandbox/charges/{id}/cancel",
  tags: ["sandbox"],
  summary: "Cancel a charge still awaiting the customer (a late approval then takes no money)",
  request: { params: ChargeId },
  responses: {
    200: json(SandboxCharge, "The charge's final state (SUCCEEDED if the customer was first)"),
    404: json(ErrorResponse, "No such charge"),
    409: json(ErrorResponse, "Being processed"),
    422: json(ErrorResponse, "Not used"),
    503: json(ErrorResponse, "Not used"),
  },
});

const refundCharge = createRoute({
  method: "post",
  path: "/sandbox/charges/{id}/refunds",
  tags: ["sandbox"],
  summary: "Refund part or all of a charge (never more than is left)",
  request: {
    params: ChargeId,
    headers: z.object({ "idempotency-key": z.string().min(1).max(255) }),
    body: { required: true, ...json(z.strictObject({ amount: minorUnits().min(1) }), "How much") },
  },
  responses: {
    201: json(SandboxRefund, "Refunded"),
    200: json(SandboxRefund, "Replay"),
    404: json(ErrorResponse, "No such charge"),
    409: json(ErrorResponse, "Not used"),
    422: json(ErrorResponse, "More than is left, or not captured"),
    503: json(ErrorResponse, "Outage switch on"),
  },
});

const refundByKey = createRoute({
  method: "get",
  path: "/sandbox/refunds/by-key/{key}",
  tags: ["sandbox"],
  summary: "The refund made under an idempotency key (how a refund whose answer was lost is found again)",
  request: { params: z.object({ key: z.string().min(1) }) },
  responses: { 200: json(SandboxRefund, "The refund"), 404: json(ErrorResponse, "No refund under this key") },
});

const authenticationPage = (id: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox 3-D Secure</title></head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 3rem auto">
  <h1>Sandbox bank</h1>
  <p>Authenticate charge <code>${id.replace(/[^\w-]/g, "")}</code>?</p>
  <button onclick="answer('succeeded')">Approve</button> <button onclick="answer('failed')">Refuse</button>
  <p id="result"></p>
  <script>
    async function answer(outcome) {
      const res = await fetch(location.pathname, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ outcome }) });
      document.getElementById("result").textContent = res.ok ? "Done: you may close this page." : "Failed: " + (await res.text());
    }
  </script>
</body></html>`;

export function sandboxRoutes(ledger: SandboxLedger) {
  return createRouter()
    .openapi(createCharge, async (c) => {
      const answer = await ledger.charge({ ...c.req.valid("json"), idempotencyKey: c.req.valid("header")["idempotency-key"] });
      if ("error" in answer) {
        if (answer.http === 503) c.header("Retry-After", "1");
        return c.json({ error: answer.error }, answer.http);
      }
      return c.json(answer.charge, answer.http);
    })
    .openapi(listCharges, async (c) => c.json({ data: await ledger.list(callerFor(c).merchantId, c.req.valid("query")) }, 200))
    .openapi(chargeByKey, async (c) => {
      const charge = await ledger.findByKey(c.req.valid("param").key);
      if (!charge) return c.json({ error: { code: "not_found", message: "No charge under this key." } }, 404);
      return c.json(charge, 200);
    })
    .openapi(authenticate, async (c) => {
      const { outcome, notify } = c.req.valid("json");
      const answer = await ledger.authenticate(c.req.valid("param").id, outcome === "succeeded", notify);
      if ("error" in answer) return c.json({ error: answer.error }, answer.http);
      return c.json(answer.charge, 200);
    })
    .openapi(cancelCharge, async (c) => {
      const answer = await ledger.cancelCharge(c.req.valid("param").id);
      if ("error" in answer) return c.json({ error: answer.error }, answer.http);
      return c.json(answer.charge, 200);
    })
    .openapi(refundCharge, async (c) => {
      const answer = await ledger.refund(
        c.req.valid("param").id,
        c.req.valid("json").amount,
        c.req.valid("header")["idempotency-key"],
      );
      if ("error" in answer) return c.json({ error: answer.error }, answer.http);
      return c.json(answer.refund, answer.http);
    })
    .openapi(refundByKey, async (c) => {
      const refund = await ledger.findRefundByKey(c.req.valid("param").key);
      if (!refund) return c.json({ error: { code: "not_found", message: "No refund under this key." } }, 404);
      return c.json(refund, 200);
    })
    .openapi(getOutage, async (c) => c.json({ active: await ledger.outageActive() }, 200))
    .openapi(putOutage, async (c) => c.json({ active: await ledger.setOutage(c.req.valid("json").active) }, 200))
    .get("/sandbox/charges/:id/authenticate", (c) => c.html(authenticationPage(c.req.param("id"))));
}

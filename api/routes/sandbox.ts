// The sandbox payment provider's HTTP API, served only while SANDBOX_ENABLED is on. The sandbox
// adapter (activities/gateways/sandbox.ts) calls it over HTTP like any provider's API.
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { SandboxLedger } from "../../sandbox/ledger.ts";
import { validationHook } from "../errors.ts";
import { Currency, ErrorResponse } from "../schemas.ts";

const SandboxCharge = z
  .object({
    id: z.string(),
    idempotencyKey: z.string(),
    checkoutId: z.string(),
    amount: z.int(),
    currency: z.string(),
    status: z.enum(["PENDING", "PROCESSING", "SUCCEEDED", "DECLINED"]),
    declineCode: z.string().nullable(),
    declineReason: z.string().optional(),
    requests: z.int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("SandboxCharge");
const Outage = z.object({ active: z.boolean() }).openapi("SandboxOutage");
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

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
          amount: z.int().min(1),
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
    402: json(SandboxCharge, "Declined"),
    409: json(ErrorResponse, "A request under this key is in flight"),
    422: json(ErrorResponse, "Key reused with different parameters"),
    503: json(ErrorResponse, "Outage switch on, or a flaky token's early request"),
  },
});

const listCharges = createRoute({
  method: "get",
  path: "/sandbox/charges",
  tags: ["sandbox"],
  summary: "The sandbox ledger: every charge with its idempotency key",
  request: {
    query: z.object({
      checkoutId: z.string().optional(),
      status: z.enum(["PENDING", "PROCESSING", "SUCCEEDED", "DECLINED"]).optional(),
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
  responses: { 200: json(Outage, "The switch") },
});

const putOutage = createRoute({
  method: "put",
  path: "/sandbox/outage",
  tags: ["sandbox"],
  summary: "Turn the outage switch on (every charge answers 503) or off",
  request: { body: { required: true, ...json(Outage, "The switch") } },
  responses: { 200: json(Outage, "The switch, as set") },
});

export function sandboxRoutes(ledger: SandboxLedger) {
  return new OpenAPIHono({ defaultHook: validationHook })
    .openapi(createCharge, async (c) => {
      const answer = await ledger.charge({ ...c.req.valid("json"), idempotencyKey: c.req.valid("header")["idempotency-key"] });
      if ("error" in answer) {
        if (answer.http === 503) c.header("Retry-After", "1");
        return c.json({ error: answer.error }, answer.http);
      }
      return c.json(answer.charge, answer.http);
    })
    .openapi(listCharges, async (c) => c.json({ data: await ledger.list(c.req.valid("query")) }, 200))
    .openapi(chargeByKey, async (c) => {
      const charge = await ledger.findByKey(c.req.valid("param").key);
      if (!charge) return c.json({ error: { code: "not_found", message: "No charge under this key." } }, 404);
      return c.json(charge, 200);
    })
    .openapi(getOutage, async (c) => c.json({ active: await ledger.outageActive() }, 200))
    .openapi(putOutage, async (c) => c.json({ active: await ledger.setOutage(c.req.valid("json").active) }, 200));
}

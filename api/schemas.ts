// Request and response schemas: they validate input and write the OpenAPI document.
import { z } from "@hono/zod-openapi";
import { PaymentStatus } from "../generated/prisma/enums.ts";
import { Metadata } from "./metadata.ts";

/** An OpenAPI JSON body or response: the schema and what it is. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

const currencies = new Set(Intl.supportedValuesOf("currency"));
export const PROVIDERS = ["sandbox", "stripe", "razorpay", "paypal", "mercadopago"] as const;
export const PAYMENT_METHODS = ["card", "wallet", "bank_transfer", "qr"] as const;

// The document lists the codes the refinement accepts (a pattern alone admits "ABC").
export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/, "must be an ISO 4217 code in capitals, like USD")
  .refine((c) => currencies.has(c), "is not an ISO 4217 currency code")
  .openapi("Currency", { example: "USD", enum: [...currencies] });

/**
 * C0 and C1 controls (tabs and line breaks included) and the bidirectional embeddings, overrides
 * and isolates (U+202A–U+202E, U+2066–U+2069), which can make a name in an email or a dashboard
 * read as something else ("invoice\u202Efdp.exe").
 */
const UNSAFE_TEXT = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;

/** UNSAFE_TEXT refused, for the OpenAPI document: \p{Cc} is U+0000–U+001F and U+007F–U+009F. */
const SAFE_TEXT_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]*$";

/** Text shown to people (names reach the customer's emails): no control or bidi characters. */
export const displayText = (max: number, min = 1) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((text) => !UNSAFE_TEXT.test(text), "must not contain control characters or bidirectional overrides")
    .openapi({ pattern: SAFE_TEXT_PATTERN });

/**
 * An integer amount in minor units. z.int() refuses anything past 2^53 − 1 (no longer exact as a
 * JSON number), a bound the OpenAPI generator leaves out, so the document says it here (and
 * would say it over a `.max()` added later: for a smaller maximum, use z.int().max()).
 */
export const minorUnits = (message?: string) => z.int(message).openapi({ maximum: Number.MAX_SAFE_INTEGER });

const LineItem = z.strictObject({
  sku: displayText(64),
  name: displayText(200),
  quantity: z.int().min(1).max(10_000),
  unitAmount: minorUnits("must be an integer amount in minor units (cents)").min(0),
});

/** How to pay: the checkout's, and a new payment's after a decline (POST /orders/{id}/payments). */
export const PaymentInstruction = z.strictObject({
  provider: z.enum(PROVIDERS).openapi({ example: "sandbox" }),
  fallbackProviders: z.array(z.enum(PROVIDERS)).max(4).optional().openapi({
    uniqueItems: true,
    description:
      "Tried in order when the provider stays unavailable after its retry budget; each at most once, and never the provider itself.",
  }),
  token: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[A-Za-z0-9_-]+$/, "must be a gateway token, never card details")
    .refine((t) => !/^\d{12,19}$/.test(t.replace(/[-_]/g, "")), "must be a gateway token, never card details")
    .openapi({ example: "tok_approve", description: "A payment token from the provider (sandbox: see README)." }),
  method: z.enum(PAYMENT_METHODS).default("card"),
});

/** Each provider at most once: a second key at the same provider could charge twice. */
export function refuseRepeatedProviders(
  payment: z.infer<typeof PaymentInstruction>,
  ctx: z.core.$RefinementCtx,
  path: PropertyKey[] = ["payment"],
): void {
  const seen = new Set([payment.provider]);
  for (const [index, provider] of (payment.fallbackProviders ?? []).entries()) {
    if (seen.has(provider)) {
      ctx.addIssue({
        code: "custom",
        path: [...path, "fallbackProviders", index],
        message: `repeats the provider "${provider}"; each provider may be tried only once`,
      });
    }
    seen.add(provider);
  }
}

export const CheckoutRequest = z
  .strictObject({
    customer: z.strictObject({
      id: z
        .string()
        .min(1)
        .max(100)
        .regex(/^[A-Za-z0-9_.:-]+$/, "may hold only letters, digits and _ . : -")
        .openapi({ example: "cus_1", description: "Your own opaque customer id (not an email)." }),
      // The document says zod's pattern too: `format: email` alone admits addresses it refuses ("a/b@c.io").
      email: z
        .email("must be an email address")
        .max(254)
        .openapi({ example: "ada@example.com", pattern: z.regexes.email.source }),
    }),
    items: z
      .array(LineItem)
      .min(1, "must hold at least one item")
      .max(100)
      // The total must be above zero (below): with every quantity at least 1, some item must cost
      // something. `contains` is OpenAPI 3.1's (JSON Schema's); the metadata type knows only 3.0's.
      .openapi({ contains: { type: "object", properties: { unitAmount: { type: "integer", minimum: 1 } } } } as object),
    currency: Currency,
    payment: PaymentInstruction,
    metadata: Metadata.optional(),
  })
  .superRefine((body, ctx) => {
    // Only the sign matters here (the exact total and its maximum are checked by the route, 422).
    if (body.items.reduce((sum, i) => sum + i.quantity * i.unitAmount, 0) <= 0) {
      ctx.addIssue({ code: "custom", path: ["items"], message: "the order total must be above zero" });
    }
    refuseRepeatedProviders(body.payment, ctx);
  })
  .openapi("CheckoutRequest");
export type CheckoutRequest = z.infer<typeof CheckoutRequest>;

/** The Idempotency-Key header, wherever it is taken: 1 to 255 visible ASCII characters. */
export const idempotencyKey = (whenMissing = "is required") =>
  z
    .string(whenMissing)
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, "must be 1 to 255 visible ASCII characters");

export const IdempotencyHeaders = z.object({
  "idempotency-key": idempotencyKey()
    .optional()
    .openapi({ description: "Resubmitting with the same key returns the same checkout and charges once." }),
  prefer: z
    .string()
    .max(100)
    .optional()
    .openapi({ description: "`wait=N` (N ≤ 30): answer once the payment has its first answer (paid, declined, or an action)." }),
});

export const IdParam = z.object({ id: z.string().min(1).max(100) });

export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      fields: z.array(z.object({ field: z.string(), reason: z.string() })).optional(),
      dependency: z
        .enum(["database", "temporal"])
        .optional()
        .openapi({ description: "With 503 dependency_unavailable: which dependency is down (retry after Retry-After)." }),
    }),
  })
  .openapi("Error");

const Money = { amount: z.int(), currency: z.string() };

export const OrderView = z
  .object({
    id: z.string(),
    checkoutId: z.string(),
    status: z.enum(["PENDING_PAYMENT", "PAID", "PAYMENT_FAILED", "CANCELLED", "REFUNDED", "SHIPPED", "DELIVERED"]).openapi({
      description:
        "PAID: paid and confirmed, not shipped yet; then SHIPPED and DELIVERED. CANCELLED: before payment, or refunded before shipping.",
    }),
    customerId: z.string(),
    totalAmount: z.int(),
    currency: z.string(),
    items: z.array(z.object({ sku: z.string(), name: z.string(), quantity: z.int(), unitAmount: z.int(), lineTotal: z.int() })),
    metadata: Metadata,
    createdAt: z.string(),
    updatedAt: z.string(),
    shipment: z
      .object({ carrier: z.string(), tracking: z.string(), shippedAt: z.string() })
      .nullable()
      .optional()
      .openapi({ description: "Once shipped (POST /orders/{id}/shipment)." }),
    deliveredAt: z.string().nullable().optional(),
    cancellation: z
      .object({ cancelledAt: z.string(), reason: z.string().nullable(), refundId: z.string().nullable() })
      .nullable()
      .optional()
      .openapi({ description: "Once cancelled: when, why, and the refund that gave a paid order's payment back." }),
  })
  .openapi("Order");

export const PaymentView = z
  .object({
    status: z.string(),
    provider: z.string(),
    method: z.string().optional(),
    ...Money,
    attempts: z.int(),
    gatewayReference: z.string().nullable().optional(),
    failureCode: z.string().nullable().optional(),
    failureReason: z.string().nullable().optional(),
    refundedAmount: z.int().optional(),
    action: z
      .object({ type: z.enum(["redirect", "qr"]), url: z.string().optional(), qrData: z.string().optional() })
      .nullable()
      .optional()
      .openapi({ description: "What the customer must do while the status is REQUIRES_ACTION." }),
    failovers: z.array(z.object({ from: z.string(), to: z.string(), reason: z.string() })).optional(),
    payments: z
      .array(
        z.object({
          number: z.int(),
          provider: z.string(),
          method: z.string(),
          idempotencyKey: z.string(),
          outcome: z.string(),
          failureCode: z.string().optional(),
          failureReason: z.string().optional(),
        }),
      )
      .optional()
      .openapi({ description: "Each payment made, once the customer paid again after a decline (first one included)." }),
    payAgainUntil: z
      .string()
      .optional()
      .openapi({ description: "While REQUIRES_PAYMENT_METHOD: until when POST /orders/{id}/payments may pay again." }),
  })
  .partial({ amount: true, currency: true })
  .openapi("Payment");

/** A payment as GET /payments lists it: its row, with its checkout's customer and metadata. */
export const PaymentRecord = z
  .object({
    id: z.string(),
    checkoutId: z.string(),
    orderId: z.string(),
    customerId: z.string(),
    status: z.enum(PaymentStatus),
    provider: z.string(),
    method: z.string(),
    ...Money,
    attempts: z.int(),
    gatewayReference: z.string().nullable(),
    failureCode: z.string().nullable(),
    failureReason: z.string().nullable(),
    refundedAmount: z.int(),
    metadata: Metadata,
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("PaymentRecord");

export const RefundView = z
  .object({
    id: z.string(),
    checkoutId: z.string(),
    status: z.enum(["PENDING", "SUCCEEDED", "FAILED"]),
    amount: z.int(),
    currency: z.string(),
    gatewayReference: z.string().nullable(),
    failureReason: z.string().nullable(),
    needsAttention: z.string().nullable().openapi({
      description:
        "Set on a PENDING refund whose outcome stayed unknown after every retry: its amount stays reserved until an operator decides.",
    }),
    createdAt: z.string(),
  })
  .openapi("Refund");

const CheckoutStatus = z.enum([
  "RUNNING",
  "REQUIRES_ACTION",
  "REQUIRES_PAYMENT_METHOD",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "EXPIRED",
]);
const ClientSecret = z.string().openapi({
  description:
    "Lets a browser, with a publishable key, read this checkout's status and action (and nothing else). Not a credential of yours.",
});

export const CheckoutView = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    clientSecret: ClientSecret.nullable(),
    status: CheckoutStatus,
    step: z.string(),
    totalAmount: z.int(),
    currency: z.string(),
    order: OrderView.nullable(),
    payment: PaymentView,
    lastError: z.object({ type: z.string(), message: z.string() }).nullable(),
    failureReason: z.string().nullable(),
    refunds: z.array(RefundView),
    metadata: Metadata,
    links: z.record(z.string(), z.string()),
  })
  .openapi("Checkout");

/** GET /checkouts/{id} with a publishable key and the client secret: what the customer's browser needs. */
export const CustomerCheckoutView = z
  .object({
    id: z.string(),
    status: CheckoutStatus,
    payment: PaymentView.pick({ status: true, action: true }),
    failureReason: z.string().nullable(),
    orderId: z.string().nullable().openapi({
      description: "The order, once recorded: what the browser pays again (POST /orders/{id}/payments) or cancels with.",
    }),
  })
  .openapi("CheckoutForCustomer");

const AuditFailure = z.object({
  type: z.string().nullable(),
  message: z.string(),
  /** For a timeout: the failure of the last attempt. */
  cause: z.string().nullable(),
});

/** GET /checkouts/{id}/audit: the checkout's story, told from its workflow history and its payment attempts. */
const AuditTimelineBase = z.object({
  checkout: z.object({
    id: z.string(),
    workflowId: z.string(),
    runId: z.string(),
    runIds: z.array(z.string()).openapi({ description: "Every run of the workflow this history names (resets)." }),
    executionStatus: z.string().openapi({ description: "Temporal's: RUNNING, COMPLETED, FAILED, TERMINATED, …" }),
    status: z.string().nullable().openapi({ description: "The checkout's: RUNNING, REQUIRES_ACTION, COMPLETED, …" }),
  }),
  who: z.object({
    customerId: z.string().nullable(),
    identity: z.string().nullable().openapi({ description: "The Temporal client that started the workflow." }),
  }),
  what: z.object({
    amount: z.int(),
    currency: z.string(),
    itemCount: z.int(),
    provider: z.string(),
    fallbackProviders: z.array(z.string()),
    method: z.string(),
  }),
  where: z
    .object({ ip: z.string().optional(), userAgent: z.string().optional(), country: z.string().optional() })
    .nullable()
    .openapi({ description: "Where the request came from, when the checkout recorded it." }),
  startedAt: z.string(),
  closedAt: z.string().nullable(),
  steps: z.array(
    z.object({
      activityId: z.string(),
      activityType: z.string(),
      scheduledAt: z.string(),
      startedAt: z.string().nullable().openapi({ description: "When the last attempt started." }),
      endedAt: z.string().nullable(),
      result: z.enum(["scheduled", "running", "completed", "failed", "timed out", "cancelled"]),
      attempts: z.int(),
      failure: AuditFailure.nullable().openapi({ description: "The final failure (or, while running, the last attempt's)." }),
    }),
  ),
  attempts: z.array(
    z.object({
      activityType: z.string(),
      activityId: z.string(),
      runId: z.string(),
      provider: z.string(),
      attempt: z.int(),
      startedAt: z.string(),
      endedAt: z.string(),
      outcome: z.string().openapi({ example: "failed" }),
      errorType: z.string().nullable(),
      errorMessage: z.string().nullable(),
    }),
  ),
  events: z
    .array(
      z.object({
        id: z.string(),
        type: z.string().openapi({ example: "payment.succeeded" }),
        createdAt: z.string(),
        dispatchedAt: z.string().nullable().openapi({ description: "When the relay handed it out; null while it waits." }),
      }),
    )
    .openapi({ description: "The events the checkout published, from the outbox." }),
  signals: z.array(
    z.object({
      name: z.string(),
      at: z.string(),
      identity: z.string().nullable(),
      input: z
        .object({ provider: z.string(), eventId: z.string(), kind: z.string(), reference: z.string().optional() })
        .nullable(),
    }),
  ),
  updates: z.array(
    z.object({
      name: z.string(),
      updateId: z.string(),
      identity: z.string().nullable(),
      acceptedAt: z.string().nullable(),
      completedAt: z.string().nullable(),
      result: z.enum(["accepted", "completed", "failed", "rejected"]),
      input: z
        .object({
          reason: z.string().optional(),
          provider: z.string().optional(),
          method: z.string().optional(),
          carrier: z.string().optional(),
          tracking: z.string().optional(),
        })
        .nullable(),
      failure: AuditFailure.nullable(),
    }),
  ),
  timers: z.array(
    z.object({
      timerId: z.string(),
      startedAt: z.string(),
      seconds: z.number(),
      endedAt: z.string().nullable(),
      result: z.enum(["pending", "fired", "cancelled"]),
    }),
  ),
  children: z.array(z.object({ workflowType: z.string(), workflowId: z.string(), initiatedAt: z.string() })),
  outcome: z
    .object({
      executionStatus: z.string(),
      status: z.string().nullable(),
      message: z.string().nullable(),
      failureType: z.string().nullable(),
    })
    .nullable()
    .openapi({ description: "How it ended; null while it runs." }),
  source: z.object({
    kind: z.enum(["temporal", "archive"]).openapi({
      description: "temporal: the live history; archive: the archived copy, once Temporal has deleted the run.",
    }),
    archive: z
      .object({ seq: z.int(), hash: z.string(), archivedAt: z.string() })
      .nullable()
      .openapi({ description: "The archive record told from: its place in the hash chain and its hash." }),
  }),
});

export const AuditTimeline = AuditTimelineBase.extend({
  order: z
    .object({
      workflowId: z.string(),
      runId: z.string(),
      executionStatus: z.string(),
      startedAt: z.string(),
      closedAt: z.string().nullable(),
      steps: AuditTimelineBase.shape.steps,
      updates: AuditTimelineBase.shape.updates,
      timers: AuditTimelineBase.shape.timers,
      children: AuditTimelineBase.shape.children,
      outcome: AuditTimelineBase.shape.outcome,
    })
    .nullable()
    .openapi({
      description:
        "A paid order's later life, from its own workflow (order-<orderId>): shipments, deliveries, a cancel and its refund, who asked; null when it has none.",
    }),
}).openapi("AuditTimeline");
export type AuditTimeline = z.infer<typeof AuditTimeline>;

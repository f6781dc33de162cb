// A small fake of Stripe's API for adapter tests: a real HTTP server on 127.0.0.1 that answers the
// official SDK the way Stripe documents it (form-encoded bodies, Bearer keys, Idempotency-Key
// replay, the {error: {...}} shape), for the few endpoints the adapter uses:
//   POST /v1/payment_intents, GET /v1/payment_intents/:id, GET /v1/payment_intents/search,
//   POST /v1/refunds, GET /v1/refunds?payment_intent=.
// The payment_method decides what happens, as with Stripe's test tokens:
//   pm_card_visa succeeds; pm_card_chargeDeclined (generic_decline), pm_card_insufficientFunds
//   (insufficient_funds) and pm_card_lostCard (lost_card) answer 402 card_error;
//   pm_card_threeDSecure2Required asks for 3-D Secure (settle it with completeAction);
//   pm_card_processing stays processing (settle it with completeAction too).
// Controls: failNext (5xx/429 before doing anything), delayNext (do the work, answer late),
// dropNext (do the work, then close the connection unanswered), setSearchLag (the Search API
// shows an intent only this long after it was made, as Stripe's lags), setKeyRetention (how long
// an idempotency key is remembered: Stripe's is a day; 0 forgets at once).
// Currencies and amounts follow Stripe's own rules (STRIPE_CURRENCIES below, written from Stripe's
// documentation and not from providers/currency-rules.ts, so a mistake there shows as a refusal
// here): unsupported currencies, ISK and UGX amounts not divisible by 100, three-decimal amounts
// not ending in 0, and amounts over eight digits (twelve for IDR) are refused with a 400.
import { createHmac, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Json = Record<string, any>;

export interface FakeStripeOptions {
  /** The only secret key accepted; by default any sk_test_/sk_live_ key is. */
  secretKey?: string;
}

/** Which requests a control applies to: a method and a path prefix (both optional). */
export interface RequestFilter {
  method?: "GET" | "POST";
  path?: string;
}

export interface SignedWebhook {
  rawBody: string;
  /** Lower-case header names, as the adapter receives them. */
  headers: Record<string, string>;
}

export interface FakeStripe {
  /** Base URL for STRIPE_API_BASE, e.g. http://127.0.0.1:41234 */
  url: string;
  stop(): Promise<void>;
  /**
   * The next n requests (matching `only`, when given: a method and a path prefix) get this status
   * (5xx or 429) before anything is looked at or stored. failNext(0) cancels every pending failure.
   */
  failNext(n: number, status?: number, body?: string, only?: RequestFilter): void;
  /** The next request matching `only` is carried out, then its connection closed with no answer. */
  dropNext(only: RequestFilter): void;
  /** The Search API leaves out intents made less than ms ago (0: it is current). */
  setSearchLag(ms: number): void;
  /** Idempotency keys are remembered this long (Infinity, the default; 0: never replayed). */
  setKeyRetention(ms: number): void;
  /** The next request is carried out at once but answered only after ms (its key stays in use until then). */
  delayNext(ms: number): void;
  /** Settles a PaymentIntent waiting for 3-D Secure (or processing), as the customer or the bank would. */
  completeAction(id: string, result: "succeeded" | "failed"): Json;
  /** Copies of the PaymentIntents, oldest first. */
  paymentIntents(): Json[];
  /** Copies of the refunds, oldest first. */
  refunds(): Json[];
  /** Every HTTP request received, failed and unauthorised ones included. */
  readonly requestCount: number;
  /** A Stripe event object around `object`. */
  event(type: string, object: Json): Json;
  signedWebhook(event: Json, options: { secret: string; timestamp?: number }): SignedWebhook;
}

class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: Json,
    /** Whether Stripe keeps the answer under the idempotency key (it does once the endpoint ran). */
    readonly storable = true,
  ) {
    super(String(error.message));
  }
}

interface StoredResponse {
  method: string;
  path: string;
  params: string;
  status: number;
  body: Json;
  storedAt: number;
}

const CARD_DECLINES: Record<string, { decline_code: string; message: string }> = {
  pm_card_chargeDeclined: { decline_code: "generic_decline", message: "Your card was declined." },
  pm_card_insufficientFunds: { decline_code: "insufficient_funds", message: "Your card has insufficient funds." },
  pm_card_lostCard: { decline_code: "lost_card", message: "Your card was declined." },
};
const KNOWN_TOKENS = new Set([
  "pm_card_visa",
  "pm_card_mastercard",
  "pm_card_threeDSecure2Required",
  "pm_card_processing",
  ...Object.keys(CARD_DECLINES),
]);

/**
 * Stripe's presentment currencies as https://docs.stripe.com/currencies lists them (lower case, as
 * the API takes them; the list still names ANG, BGN and STD), with the three-decimal ones.
 */
const STRIPE_CURRENCIES = new Set(
  [
    "usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bif bmd bnd bob brl bsd bwp byn bzd cad cdf chf clp cny",
    "cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr isk jmd",
    "jpy kes kgs khr kmf krw kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio",
    "nok npr nzd pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd shp sle sos srd std szl thb tjs top",
    "try ttd twd tzs uah ugx uyu uzs vnd vuv wst xaf xcd xof xpf yer zar zmw",
    // #three-decimal
    "bhd jod kwd omr tnd",
  ]
    .join(" ")
    .split(" "),
);
/** #three-decimal: "the least-significant (last) digit [must] be 0". */
const THREE_DECIMAL = new Set(["bhd", "jod", "kwd", "omr", "tnd"]);
/** #special-cases: ISK and UGX are passed with two decimals, and "must be evenly divisible by 100". */
const WHOLE_UNITS_IN_HUNDREDTHS = new Set(["isk", "ugx"]);
/** #minimum-and-maximum-charge-amounts: "up to twelve digits for IDR ..., up to eight digits for all other currencies". */
const maxAmount = (currency: string) => (currency === "idr" ? 999_999_999_999 : 99_999_999);

/** Refuses an amount Stripe cannot charge (or refund) in this currency, as Stripe answers it. */
function checkAmountRules(amount: number, currency: string): void {
  if (WHOLE_UNITS_IN_HUNDREDTHS.has(currency) && amount % 100 !== 0) {
    const code = currency.toUpperCase();
    throw new StripeApiError(
      400,
      invalidRequest(
        `Invalid amount. Currency ${code} has become effectively zero-decimal and charged amounts must be evenly divisible by 100. See https://stripe.com/docs/currencies#special-cases for more information.`,
        { code: "invalid_charge_amount_no_decimal_compatible", param: "amount" },
      ),
      false,
    );
  }
  if (THREE_DECIMAL.has(currency) && amount % 10 !== 0) {
    // Stripe documents the rule, not its error code: this code is the fake's own.
    throw new StripeApiError(
      400,
      invalidRequest(`Invalid amount. Amounts in ${currency.toUpperCase()} must end in 0 (rounded to the nearest ten).`, {
        code: "invalid_amount",
        param: "amount",
      }),
      false,
    );
  }
  if (amount > maxAmount(currency)) {
    throw new StripeApiError(
      400,
      invalidRequest(`Amount must be no more than ${maxAmount(currency)} (${currency}).`, {
        code: "amount_too_large",
        param: "amount",
      }),
      false,
    );
  }
}

export const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString("hex")}`;
const now = () => Math.floor(Date.now() / 1000);

/** A Stripe event ("snapshot" payload) around an object. */
export function stripeEvent(type: string, object: Json): Json {
  return {
    id: newId("evt"),
    object: "event",
    api_version: "2026-10-28.endive",
    created: now(),
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
}

/** The body and a Stripe-Signature header (t=<ts>,v1=<HMAC-SHA256 of "<ts>.<body>">) as Stripe sends them. */
export function signedWebhook(event: Json, options: { secret: string; timestamp?: number }): SignedWebhook {
  const rawBody = JSON.stringify(event, null, 2);
  const timestamp = options.timestamp ?? now();
  const signature = createHmac("sha256", options.secret).update(`${timestamp}.${rawBody}`, "utf8").digest("hex");
  return {
    rawBody,
    headers: { "content-type": "application/json; charset=utf-8", "stripe-signature": `t=${timestamp},v1=${signature}` },
  };
}

/** Decodes Stripe's form encoding: a[b][c]=v nests objects, a[0]=v makes arrays. */
export function parseForm(body: string): Json {
  const out: Json = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
    if (!match) throw new StripeApiError(400, invalidRequest(`Invalid parameter name: ${key}`), false);
    const path = [match[1], ...[...match[2].matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1])];
    let target: Json = out;
    for (let i = 0; i < path.length - 1; i++) {
      const segment = path[i];
      target[segment] ??= /^\d+$/.test(path[i + 1]) ? [] : {};
      target = target[segment];
    }
    target[path[path.length - 1]] = value;
  }
  return out;
}

const invalidRequest = (message: string, extra: Json = {}) => ({ type: "invalid_request_error", message, ...extra });

export async function startFakeStripe(options: FakeStripeOptions = {}): Promise<FakeStripe> {
  const intents = new Map<string, Json>();
  const refundList: Json[] = [];
  const refundedByIntent = new Map<string, number>();
  const idempotent = new Map<string, StoredResponse>();
  const keysInUse = new Set<string>();
  let failures: Array<{ remaining: number; status: number; body?: string; only: RequestFilter }> = [];
  const drops: RequestFilter[] = [];
  let searchLagMs = 0;
  let keyRetentionMs = Number.POSITIVE_INFINITY;
  /** When each intent was made (ms), for the search lag. */
  const madeAt = new Map<string, number>();
  const matches = (only: RequestFilter, method: string, path: string) =>
    (only.method === undefined || only.method === method) && (only.path === undefined || path.startsWith(only.path));
  let delayMs = 0;
  let requestCount = 0;
  const timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  let baseUrl = "";

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          timers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      timers.add(entry);
    });

  const send = (res: ServerResponse, status: number, body: Json, headers: Record<string, string> = {}) => {
    if (res.destroyed || res.writableEnded) return;
    const text = JSON.stringify(body, null, 2);
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
      "request-id": newId("req"),
      ...headers,
    });
    res.end(text);
  };

  function authorised(req: IncomingMessage): string | undefined {
    const header = req.headers.authorization ?? "";
    const key = header.startsWith("Bearer ") ? header.slice("Bearer ".length) : "";
    if (!key) return "You did not provide an API key. You need to provide your API key in the Authorization header.";
    const ok = options.secretKey ? key === options.secretKey : /^sk_(test|live)_\w+$/.test(key);
    return ok
      ? undefined
      : `Invalid API Key provided: ${key.slice(0, 8)}${"*".repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`;
  }

  // --- PaymentIntents -------------------------------------------------------------------------

  function createPaymentIntent(params: Json): Json {
    const amount = Number(params.amount);
    if (params.amount === undefined)
      throw new StripeApiError(
        400,
        invalidRequest("Missing required param: amount.", { code: "parameter_missing", param: "amount" }),
        false,
      );
    if (!Number.isInteger(amount) || amount < 1 || String(amount) !== params.amount) {
      throw new StripeApiError(
        400,
        invalidRequest("Invalid positive integer", { code: "parameter_invalid_integer", param: "amount" }),
        false,
      );
    }
    if (!params.currency)
      throw new StripeApiError(
        400,
        invalidRequest("Missing required param: currency.", { code: "parameter_missing", param: "currency" }),
        false,
      );
    if (!/^[a-z]{3}$/.test(params.currency) || !STRIPE_CURRENCIES.has(params.currency)) {
      throw new StripeApiError(
        400,
        invalidRequest(
          `Invalid currency: ${params.currency}. Stripe currently supports these currencies: usd, eur, ... (lowercase)`,
          { code: "invalid_currency", param: "currency" },
        ),
        false,
      );
    }
    checkAmountRules(amount, params.currency);
    const token: string | undefined = params.payment_method;
    if (token !== undefined && !KNOWN_TOKENS.has(token)) {
      throw new StripeApiError(
        400,
        invalidRequest(`No such PaymentMethod: '${token}'`, { code: "resource_missing", param: "payment_method" }),
        false,
      );
    }
    const confirm = params.confirm === "true";
    const allowRedirects = params.automatic_payment_methods?.allow_redirects ?? "always";
    if (confirm && !params.return_url && allowRedirects !== "never") {
      throw new StripeApiError(
        400,
        invalidRequest(
          "This PaymentIntent is configured to accept payment methods enabled in your Dashboard. Because some of these payment methods might redirect your customer off of your page, you must provide a `return_url`. If you don't want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.",
        ),
        false,
      );
    }

    const id = newId("pi");
    const intent: Json = {
      id,
      object: "payment_intent",
      amount,
      amount_capturable: 0,
      amount_received: 0,
      automatic_payment_methods: { enabled: true, allow_redirects: allowRedirects },
      cancellation_reason: null,
      capture_method: "automatic",
      client_secret: `${id}_secret_${randomBytes(8).toString("hex")}`,
      confirmation_method: "automatic",
      created: now(),
      currency: params.currency,
      description: params.description ?? null,
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      metadata: { ...(params.metadata ?? {}) },
      next_action: null,
      payment_method: token ? newId("pm") : null,
      payment_method_types: ["card"],
      receipt_email: params.receipt_email ?? null,
      return_url: params.return_url ?? null,
      status: token ? "requires_confirmation" : "requires_payment_method",
      // Not part of Stripe's object: which test token was used (the fake's own bookkeeping).
      _token: token ?? null,
    };
    intents.set(id, intent);
    madeAt.set(id, Date.now());
    if (!confirm || !token) return intent;

    const decline = CARD_DECLINES[token];
    if (decline) {
      const chargeId = newId("ch");
      const error = {
        type: "card_error",
        code: "card_declined",
        decline_code: decline.decline_code,
        message: decline.message,
        charge: chargeId,
        doc_url: "https://docs.stripe.com/error-codes/card-declined",
        payment_method: { id: intent.payment_method, object: "payment_method", type: "card" },
      };
      Object.assign(intent, {
        status: "requires_payment_method",
        latest_charge: chargeId,
        last_payment_error: error,
        payment_method: null,
      });
      throw new StripeApiError(402, { ...error, payment_intent: publicIntent(intent) });
    }
    if (token === "pm_card_threeDSecure2Required") {
      intent.status = "requires_action";
      intent.next_action = params.return_url
        ? {
            type: "redirect_to_url",
            redirect_to_url: { url: `${baseUrl}/3ds/${id}/authenticate`, return_url: params.return_url },
          }
        : { type: "use_stripe_sdk", use_stripe_sdk: { type: "three_d_secure_redirect", stripe_js: `${baseUrl}/3ds/${id}` } };
      return intent;
    }
    if (token === "pm_card_processing") {
      intent.status = "processing";
      return intent;
    }
    succeed(intent);
    return intent;
  }

  function succeed(intent: Json) {
    Object.assign(intent, {
      status: "succeeded",
      amount_received: intent.amount,
      latest_charge: newId("ch"),
      next_action: null,
      last_payment_error: null,
    });
  }

  /** Like Stripe: only an intent not yet succeeded (nor processing) can be canceled. */
  function cancelIntent(id: string): Json {
    const intent = retrieveIntent(id);
    if (intent.status === "succeeded" || intent.status === "processing" || intent.status === "canceled") {
      throw new StripeApiError(
        400,
        invalidRequest(`You cannot cancel this PaymentIntent because it has a status of ${intent.status}.`, {
          code: "payment_intent_unexpected_state",
        }),
      );
    }
    Object.assign(intent, { status: "canceled", next_action: null, cancellation_reason: "abandoned" });
    return intent;
  }

  function retrieveIntent(id: string): Json {
    const intent = intents.get(id);
    if (!intent) {
      throw new StripeApiError(
        404,
        invalidRequest(`No such payment_intent: '${id}'`, { code: "resource_missing", param: "intent" }),
      );
    }
    return intent;
  }

  /** The search query language, as far as the adapter needs it: field:'value' clauses joined by AND. */
  function searchIntents(query: string | null): Json[] {
    if (!query)
      throw new StripeApiError(
        400,
        invalidRequest("Missing required param: query.", { code: "parameter_missing", param: "query" }),
      );
    const clauses = query.split(/\s+AND\s+/);
    const tests = clauses.map((clause) => {
      const match = /^(?:metadata\[(['"])(.+?)\1\]|([a-z_]+)):(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(\d+))$/.exec(
        clause.trim(),
      );
      if (!match) {
        throw new StripeApiError(
          400,
          invalidRequest(`Invalid search query: ${query}`, { code: "parameter_invalid_string", param: "query" }),
        );
      }
      const [, , metadataKey, field, single, double, number] = match;
      const value = (single ?? double ?? number).replace(/\\(.)/g, "$1");
      if (metadataKey) return (intent: Json) => intent.metadata?.[metadataKey] === value;
      if (!["status", "currency", "amount", "customer"].includes(field)) {
        throw new StripeApiError(
          400,
          invalidRequest(`Field '${field}' is an unsupported search field for resource payment_intents.`, { param: "query" }),
        );
      }
      return (intent: Json) => String(intent[field]) === value;
    });
    // Stripe orders search results newest first; what was made within the lag is not indexed yet.
    const indexedBefore = Date.now() - searchLagMs;
    return [...intents.values()]
      .filter((intent) => (madeAt.get(intent.id) ?? 0) <= indexedBefore && tests.every((test) => test(intent)))
      .reverse();
  }

  // --- Refunds --------------------------------------------------------------------------------

  function createRefund(params: Json): Json {
    const intentId: string | undefined = params.payment_intent;
    if (!intentId) {
      throw new StripeApiError(
        400,
        invalidRequest("One of the following params should be provided for this request: payment_intent or charge.", {
          code: "parameter_missing",
        }),
        false,
      );
    }
    const intent = intents.get(intentId);
    if (!intent) {
      throw new StripeApiError(
        404,
        invalidRequest(`No such payment_intent: '${intentId}'`, { code: "resource_missing", param: "payment_intent" }),
      );
    }
    if (intent.status !== "succeeded") {
      throw new StripeApiError(
        400,
        invalidRequest(`This PaymentIntent (${intentId}) does not have a successful charge to refund.`),
      );
    }
    const refunded = refundedByIntent.get(intentId) ?? 0;
    const remaining = intent.amount - refunded;
    const amount = params.amount === undefined ? remaining : Number(params.amount);
    if (!Number.isInteger(amount) || amount < 1) {
      throw new StripeApiError(
        400,
        invalidRequest("Invalid positive integer", { code: "parameter_invalid_integer", param: "amount" }),
        false,
      );
    }
    checkAmountRules(amount, intent.currency);
    if (remaining === 0) {
      throw new StripeApiError(
        400,
        invalidRequest(`Charge ${intent.latest_charge} has already been refunded.`, { code: "charge_already_refunded" }),
      );
    }
    if (amount > remaining) {
      throw new StripeApiError(
        400,
        invalidRequest(`Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`, {
          code: "amount_too_large",
          param: "amount",
        }),
      );
    }
    refundedByIntent.set(intentId, refunded + amount);
    const refund = {
      id: newId("re"),
      object: "refund",
      amount,
      charge: intent.latest_charge,
      created: now(),
      currency: intent.currency,
      metadata: { ...(params.metadata ?? {}) },
      payment_intent: intentId,
      reason: params.reason ?? null,
      status: "succeeded",
    };
    refundList.push(refund);
    return refund;
  }

  // --- HTTP -----------------------------------------------------------------------------------

  function route(method: string, url: URL, params: Json): Json {
    const path = url.pathname;
    if (method === "POST" && path === "/v1/payment_intents") return publicIntent(createPaymentIntent(params));
    if (method === "GET" && path === "/v1/payment_intents/search") {
      const data = searchIntents(url.searchParams.get("query")).map(publicIntent);
      const limit = Math.min(Number(url.searchParams.get("limit") ?? 10) || 10, 100);
      return {
        object: "search_result",
        data: data.slice(0, limit),
        has_more: data.length > limit,
        next_page: null,
        url: "/v1/payment_intents/search",
      };
    }
    const match = /^\/v1\/payment_intents\/([^/]+)$/.exec(path);
    if (method === "GET" && match) return publicIntent(retrieveIntent(decodeURIComponent(match[1])));
    if (method === "POST" && path === "/v1/refunds") return { ...createRefund(params) };
    if (method === "GET" && path === "/v1/refunds") {
      const intentId = url.searchParams.get("payment_intent");
      const data = refundList.filter((r) => !intentId || r.payment_intent === intentId).reverse();
      return { object: "list", data: structuredClone(data), has_more: false, url: "/v1/refunds" };
    }
    const cancel = /^\/v1\/payment_intents\/([^/]+)\/cancel$/.exec(path);
    if (method === "POST" && cancel) return publicIntent(cancelIntent(decodeURIComponent(cancel[1])));
    throw new StripeApiError(
      404,
      invalidRequest(
        `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
      ),
      false,
    );
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    requestCount++;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", baseUrl);
    const echo: Record<string, string> = {};
    if (typeof req.headers["stripe-version"] === "string") echo["stripe-version"] = req.headers["stripe-version"];

    const dropIndex = drops.findIndex((only) => matches(only, method, url.pathname));
    const drop = dropIndex >= 0;
    if (drop) drops.splice(dropIndex, 1);
    const failure = drop ? undefined : failures.find((f) => matches(f.only, method, url.pathname));
    if (failure) {
      failure.remaining--;
      failures = failures.filter((f) => f.remaining > 0);
      if (failure.body !== undefined) {
        res.writeHead(failure.status, { "content-type": "text/html" });
        res.end(failure.body);
        return;
      }
      const error =
        failure.status === 429
          ? invalidRequest("Too many requests hit the API too quickly.", { code: "rate_limit" })
          : { type: "api_error", message: "An unknown error occurred while processing your request." };
      send(res, failure.status, { error }, echo);
      return;
    }

    const unauthorised = authorised(req);
    if (unauthorised) {
      send(res, 401, { error: invalidRequest(unauthorised) }, echo);
      return;
    }

    let params: Json;
    try {
      params = method === "POST" ? parseForm(body) : {};
    } catch (err) {
      send(res, (err as StripeApiError).status, { error: (err as StripeApiError).error }, echo);
      return;
    }

    const key = method === "POST" ? req.headers["idempotency-key"] : undefined;
    const fingerprint = JSON.stringify(sortKeys(params));
    if (typeof key === "string") {
      echo["idempotency-key"] = key;
      if (keysInUse.has(key)) {
        send(
          res,
          409,
          {
            error: invalidRequest(
              "There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): " +
                `${key}. Please try again later.`,
              { code: "idempotency_key_in_use" },
            ),
          },
          echo,
        );
        return;
      }
      const remembered = idempotent.get(key);
      const stored = remembered && Date.now() - remembered.storedAt < keyRetentionMs ? remembered : undefined;
      if (remembered && !stored) idempotent.delete(key); // forgotten, as Stripe forgets keys after a day
      if (stored) {
        if (stored.method !== method || stored.path !== url.pathname || stored.params !== fingerprint) {
          send(
            res,
            400,
            {
              error: {
                type: "idempotency_error",
                message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
              },
            },
            echo,
          );
          return;
        }
        send(res, stored.status, stored.body, { ...echo, "idempotent-replayed": "true" });
        return;
      }
    }

    const delay = delayMs;
    delayMs = 0;
    let status = 200;
    let answer: Json;
    let storable = true;
    try {
      answer = route(method, url, params);
    } catch (err) {
      if (!(err instanceof StripeApiError)) throw err;
      status = err.status;
      answer = { error: err.error };
      storable = err.storable;
    }
    if (typeof key === "string" && delay > 0) {
      keysInUse.add(key);
      await sleep(delay);
      keysInUse.delete(key);
    } else if (delay > 0) {
      await sleep(delay);
    }
    if (typeof key === "string" && storable) {
      idempotent.set(key, { method, path: url.pathname, params: fingerprint, status, body: answer, storedAt: Date.now() });
    }
    if (drop) {
      req.socket.destroy(); // done, but the answer never arrives
      return;
    }
    send(res, status, answer, echo);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      send(res, 500, { error: { type: "api_error", message: `fake stripe: ${(err as Error).message}` } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    async stop() {
      for (const entry of timers) {
        clearTimeout(entry.timer);
        entry.resolve();
      }
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    failNext(n, status = 503, body, only = {}) {
      if (status !== 429 && (status < 500 || status > 599)) throw new Error(`failNext takes a 5xx or 429, not ${status}`);
      if (n === 0) failures = [];
      else failures.push({ remaining: n, status, body, only });
    },
    dropNext(only) {
      drops.push(only);
    },
    setSearchLag(ms) {
      searchLagMs = ms;
    },
    setKeyRetention(ms) {
      keyRetentionMs = ms;
    },
    delayNext(ms) {
      delayMs = ms;
    },
    completeAction(id, result) {
      const intent = retrieveIntent(id);
      if (intent.status !== "requires_action" && intent.status !== "processing") {
        throw new Error(`payment intent ${id} is ${intent.status}: nothing to complete`);
      }
      if (result === "succeeded") {
        succeed(intent);
      } else {
        Object.assign(intent, {
          status: "requires_payment_method",
          next_action: null,
          payment_method: null,
          last_payment_error: {
            type: "invalid_request_error",
            code: "payment_intent_authentication_failure",
            message:
              "The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.",
          },
        });
      }
      return publicIntent(intent);
    },
    paymentIntents: () => [...intents.values()].map((intent) => structuredClone(intent)),
    refunds: () => refundList.map((refund) => structuredClone(refund)),
    get requestCount() {
      return requestCount;
    },
    event: stripeEvent,
    signedWebhook,
  };
}

export { startFakeStripe as start };

/** What a test stack needs to charge with Stripe through `fake`. */
export function stripeEnv(fake: Pick<FakeStripe, "url">): Record<string, string> {
  return {
    STRIPE_SECRET_KEY: "sk_test_123",
    STRIPE_WEBHOOK_SECRET: "whsec_test",
    STRIPE_API_BASE: fake.url,
    RETURN_URL: "https://shop.example/return",
  };
}

/** The PaymentIntent as Stripe shows it (without the fake's own bookkeeping fields). */
function publicIntent(intent: Json): Json {
  const { _token, ...rest } = intent;
  return structuredClone(rest);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Json)[k])]),
    );
  }
  return value;
}

// The sandbox provider's adapter: it talks to the sandbox payment service (api/routes/sandbox.ts)
// over real HTTP, exactly as a real adapter talks to its provider.
import { checkSignature } from "../activities/signature.ts";
import { toProviderUnits } from "./currency-rules.ts";
import { HttpTransport } from "./transport.ts";
import {
  type ChargeLookup,
  type ChargeOutcome,
  type ChargeRequest,
  type PaymentGateway,
  type RefundOutcome,
  type RefundRequest,
  type WebhookEvent,
  type WebhookRequest,
  WebhookVerificationError,
} from "./types.ts";

interface SandboxChargeBody {
  id: string;
  checkoutId: string;
  status: "PENDING" | "PROCESSING" | "REQUIRES_ACTION" | "SUCCEEDED" | "DECLINED";
  declineCode: string | null;
  declineReason?: string;
}

export interface SandboxSettings {
  /** Base URL of the sandbox service, e.g. http://127.0.0.1:3000/sandbox */
  url: string;
  webhookSecret: string;
  timeoutMs?: number;
}

export class SandboxGateway implements PaymentGateway {
  readonly provider = "sandbox";
  /** The sandbox's ledger is one PostgreSQL table: lookups are consistent, keys are kept for ever. */
  readonly searchLagSeconds = 0;
  readonly keyRetentionSeconds = Number.POSITIVE_INFINITY;
  private readonly http: HttpTransport;

  constructor(private readonly settings: SandboxSettings) {
    // 409: a request under this key is still in flight.
    this.http = new HttpTransport({
      provider: "sandbox",
      baseUrl: settings.url,
      timeoutMs: settings.timeoutMs,
      retryStatuses: [409],
    });
  }

  async charge(request: ChargeRequest): Promise<ChargeOutcome> {
    const res = await this.http.send({
      method: "POST",
      path: "/charges",
      headers: { "idempotency-key": request.idempotencyKey },
      body: {
        amount: toProviderUnits(this.provider, request.currency, request.amount),
        currency: request.currency,
        token: request.token,
        checkoutId: request.checkoutId,
      },
    });
    if ([200, 201, 202, 402].includes(res.status)) return this.outcome(res.json as SandboxChargeBody);
    throw this.http.refusal(res, res.text);
  }

  async reconcile(lookup: ChargeLookup): Promise<ChargeOutcome | null> {
    const res = await this.http.send({ method: "GET", path: `/charges/by-key/${encodeURIComponent(lookup.idempotencyKey)}` });
    if (res.status === 404) return null;
    if (!res.ok) throw this.http.refusal(res, res.text);
    const body = res.json as SandboxChargeBody;
    // A key that only ever met transient failures has no charge behind it.
    return body.status === "PENDING" ? null : this.outcome(body);
  }

  async cancel(lookup: ChargeLookup & { reference: string }): Promise<ChargeOutcome> {
    const res = await this.http.send({ method: "POST", path: `/charges/${encodeURIComponent(lookup.reference)}/cancel` });
    if (res.ok) return this.outcome(res.json as SandboxChargeBody);
    throw this.http.refusal(res, res.text);
  }

  async refund(request: RefundRequest): Promise<RefundOutcome> {
    const amount = toProviderUnits(this.provider, request.currency, request.amount);
    const res = await this.http.send({
      method: "POST",
      path: `/charges/${encodeURIComponent(request.chargeReference)}/refunds`,
      headers: { "idempotency-key": request.idempotencyKey },
      body: { amount },
    });
    if (res.status === 200 || res.status === 201) return { status: "succeeded", reference: (res.json as { id: string }).id };
    if (res.status === 422) return { status: "failed", reason: (res.json as { error: { message: string } }).error.message };
    throw this.http.refusal(res, res.text);
  }

  async findRefund(request: RefundRequest): Promise<RefundOutcome | null> {
    const res = await this.http.send({ method: "GET", path: `/refunds/by-key/${encodeURIComponent(request.idempotencyKey)}` });
    if (res.status === 404) return null;
    if (!res.ok) throw this.http.refusal(res, res.text);
    return { status: "succeeded", reference: (res.json as { id: string }).id };
  }

  async verifyWebhook({ rawBody, headers }: WebhookRequest): Promise<WebhookEvent> {
    const problem = checkSignature(rawBody, headers["sandbox-signature"], this.settings.webhookSecret);
    if (problem) throw new WebhookVerificationError(problem);
    const event = JSON.parse(rawBody) as { id: string; type: string; data: SandboxChargeBody };
    const kinds: Record<string, WebhookEvent["kind"]> = {
      "charge.succeeded": "payment.succeeded",
      "charge.failed": "payment.failed",
    };
    return {
      id: event.id,
      kind: kinds[event.type] ?? "other",
      checkoutId: event.data?.checkoutId,
      reference: event.data?.id,
      providerType: event.type,
    };
  }

  private outcome(body: SandboxChargeBody): ChargeOutcome {
    switch (body.status) {
      case "SUCCEEDED":
        return { status: "succeeded", reference: body.id };
      case "DECLINED":
        return {
          status: "declined",
          reference: body.id,
          declineCode: body.declineCode ?? "declined",
          declineReason: body.declineReason ?? "The payment was declined.",
        };
      case "REQUIRES_ACTION":
        return {
          status: "requires_action",
          reference: body.id,
          action: { type: "redirect", url: `${this.settings.url}/charges/${body.id}/authenticate` },
        };
      default:
        return { status: "processing", reference: body.id };
    }
  }
}

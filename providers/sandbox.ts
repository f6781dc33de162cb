// The sandbox provider's adapter: it talks to the sandbox payment service (api/routes/sandbox.ts)
// over real HTTP, exactly as a real adapter talks to its provider.
import { checkSignature } from "../activities/signature.ts";
import { toProviderUnits } from "./currency-rules.ts";
import {
  type ChargeLookup,
  type ChargeOutcome,
  type ChargeRequest,
  GatewayRequestError,
  GatewayUnavailableError,
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

  constructor(private readonly settings: SandboxSettings) {}

  async charge(request: ChargeRequest): Promise<ChargeOutcome> {
    const res = await this.send("/charges", {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": request.idempotencyKey },
      body: JSON.stringify({
        amount: toProviderUnits(this.provider, request.currency, request.amount),
        currency: request.currency,
        token: request.token,
        checkoutId: request.checkoutId,
      }),
    });
    if ([200, 201, 202, 402].includes(res.status)) return this.outcome((await res.json()) as SandboxChargeBody);
    throw await this.failure(res);
  }

  async reconcile(lookup: ChargeLookup): Promise<ChargeOutcome | null> {
    const res = await this.send(`/charges/by-key/${encodeURIComponent(lookup.idempotencyKey)}`, { method: "GET" });
    if (res.status === 404) return null;
    if (!res.ok) throw await this.failure(res);
    const body = (await res.json()) as SandboxChargeBody;
    // A key that only ever met transient failures has no charge behind it.
    return body.status === "PENDING" ? null : this.outcome(body);
  }

  async cancel(lookup: ChargeLookup & { reference: string }): Promise<ChargeOutcome> {
    const res = await this.send(`/charges/${encodeURIComponent(lookup.reference)}/cancel`, { method: "POST" });
    if (res.ok) return this.outcome((await res.json()) as SandboxChargeBody);
    throw await this.failure(res);
  }

  async refund(request: RefundRequest): Promise<RefundOutcome> {
    const amount = toProviderUnits(this.provider, request.currency, request.amount);
    const res = await this.send(`/charges/${encodeURIComponent(request.chargeReference)}/refunds`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": request.idempotencyKey },
      body: JSON.stringify({ amount }),
    });
    if (res.status === 200 || res.status === 201)
      return { status: "succeeded", reference: ((await res.json()) as { id: string }).id };
    if (res.status === 422) {
      const body = (await res.json()) as { error: { message: string } };
      return { status: "failed", reason: body.error.message };
    }
    throw await this.failure(res);
  }

  async findRefund(request: RefundRequest): Promise<RefundOutcome | null> {
    const res = await this.send(`/refunds/by-key/${encodeURIComponent(request.idempotencyKey)}`, { method: "GET" });
    if (res.status === 404) return null;
    if (!res.ok) throw await this.failure(res);
    return { status: "succeeded", reference: ((await res.json()) as { id: string }).id };
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

  private async failure(res: Response): Promise<Error> {
    const text = await res.text();
    // 409: a request under this key is still in flight; 429 and 5xx: try again later.
    if (res.status === 409 || res.status === 429 || res.status >= 500) {
      return new GatewayUnavailableError(`sandbox answered ${res.status}: ${text}`, res.status);
    }
    return new GatewayRequestError(`sandbox refused the request (${res.status}): ${text}`, res.status);
  }

  private async send(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(this.settings.url + path, { ...init, signal: AbortSignal.timeout(this.settings.timeoutMs ?? 30_000) });
    } catch (err) {
      // The request may have reached the sandbox: the next attempt asks before charging again.
      throw new GatewayUnavailableError(`sandbox unreachable: ${(err as Error).message}`, undefined, true);
    }
  }
}

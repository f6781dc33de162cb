// The sandbox provider's adapter: it talks to the sandbox payment service (api/routes/sandbox.ts)
// over real HTTP, exactly as a real adapter talks to its provider.
import { type Charge, type ChargeRequest, GatewayUnavailableError, type PaymentGateway } from "./types.ts";

interface SandboxChargeBody {
  id: string;
  status: "PENDING" | "PROCESSING" | "SUCCEEDED" | "DECLINED";
  declineCode: string | null;
  declineReason?: string;
}

export class SandboxGateway implements PaymentGateway {
  readonly provider = "sandbox";

  constructor(
    /** Base URL of the sandbox service, e.g. http://127.0.0.1:3000/sandbox */
    private readonly baseUrl: string,
    private readonly timeoutMs = 30_000,
  ) {}

  async charge(request: ChargeRequest): Promise<Charge> {
    const res = await this.send("/charges", {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": request.idempotencyKey },
      body: JSON.stringify({
        amount: request.amount,
        currency: request.currency,
        token: request.token,
        checkoutId: request.checkoutId,
      }),
    });
    if (res.status === 200 || res.status === 201 || res.status === 402) {
      return toCharge((await res.json()) as SandboxChargeBody);
    }
    // 409: a request under this key is still being processed; 429 and 5xx: try again later.
    throw new GatewayUnavailableError(`sandbox answered ${res.status}: ${await res.text()}`, res.status);
  }

  async findCharge(idempotencyKey: string): Promise<Charge | null> {
    const res = await this.send(`/charges/by-key/${encodeURIComponent(idempotencyKey)}`, { method: "GET" });
    if (res.status === 404) return null;
    if (!res.ok) throw new GatewayUnavailableError(`sandbox answered ${res.status}: ${await res.text()}`, res.status);
    const body = (await res.json()) as SandboxChargeBody;
    // A key that only ever met transient failures has no charge behind it.
    return body.status === "PENDING" ? null : toCharge(body);
  }

  private async send(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(this.baseUrl + path, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      // The request may have reached the sandbox: the next attempt asks before charging again.
      throw new GatewayUnavailableError(`sandbox unreachable: ${(err as Error).message}`, undefined, true);
    }
  }
}

function toCharge(body: SandboxChargeBody): Charge {
  const status = body.status === "SUCCEEDED" ? "succeeded" : body.status === "DECLINED" ? "declined" : "processing";
  return {
    reference: body.id,
    status,
    declineCode: body.declineCode ?? undefined,
    declineReason: body.declineReason,
  };
}

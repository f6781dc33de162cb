// Picks the adapter for a checkout's `payment.provider`; each call to it is spanned while tracing.
import { tracedGateway } from "../observability/tracing.ts";
import type { PaymentGateway } from "./types.ts";

export class GatewayRegistry {
  private readonly gateways = new Map<string, PaymentGateway>();

  constructor(gateways: PaymentGateway[]) {
    for (const gateway of gateways) this.gateways.set(gateway.provider, tracedGateway(gateway));
  }

  has(provider: string): boolean {
    return this.gateways.has(provider);
  }

  get(provider: string): PaymentGateway {
    const gateway = this.gateways.get(provider);
    if (!gateway) throw new Error(`payment provider "${provider}" is not configured`);
    return gateway;
  }
}

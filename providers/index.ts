// Builds the registry of configured providers from the environment. A provider is available
// when all its variables are set; a provider with only some of them set is a configuration
// error that names the missing ones.
import { ConfigError, type Env } from "../config.ts";
import { mercadopagoProvider } from "./mercadopago.ts";
import { paypalProvider } from "./paypal.ts";
import { razorpayProvider } from "./razorpay.ts";
import { GatewayRegistry } from "./registry.ts";
import { SandboxGateway } from "./sandbox.ts";
import { stripeProvider } from "./stripe.ts";
import type { PaymentGateway, ProviderDefinition } from "./types.ts";

/** The real providers, each configured by its own environment variables. */
export const providerDefinitions: ProviderDefinition[] = [stripeProvider, razorpayProvider, paypalProvider, mercadopagoProvider];

export interface SandboxGatewaySettings {
  enabled: boolean;
  url?: string;
  webhookSecret: string;
}

/** Which variables a provider still lacks; empty when it is configured. */
export function missingVariables(definition: ProviderDefinition, env: Env): string[] {
  return definition.requiredVariables.filter((name) => !env[name]);
}

/**
 * The configured providers. `paymentRetryWindowSeconds` must stay below every configured
 * provider's idempotency-key retention: a retry inside the window then always reaches a provider
 * that still remembers the key, even when its lookup by key lags.
 */
export function createGatewayRegistry(
  env: Env,
  sandbox: SandboxGatewaySettings,
  paymentRetryWindowSeconds: number,
): GatewayRegistry {
  const gateways: PaymentGateway[] = [];
  if (sandbox.enabled) {
    if (!sandbox.url) throw new ConfigError("The sandbox provider is enabled but SANDBOX_URL is not set.");
    gateways.push(new SandboxGateway({ url: sandbox.url, webhookSecret: sandbox.webhookSecret }));
  }
  for (const definition of providerDefinitions) {
    const missing = missingVariables(definition, env);
    if (missing.length === definition.requiredVariables.length) continue; // not configured at all
    if (missing.length) throw new ConfigError(`${definition.provider} is partly configured: set ${missing.join(", ")}.`);
    gateways.push(definition.create(env));
  }
  const shortest = gateways.reduce((min, g) => (g.keyRetentionSeconds < min.keyRetentionSeconds ? g : min), gateways[0]);
  if (shortest && paymentRetryWindowSeconds >= shortest.keyRetentionSeconds) {
    throw new ConfigError(
      `PAYMENT_RETRY_WINDOW_SECONDS (${paymentRetryWindowSeconds}) must be below ${shortest.keyRetentionSeconds}: ` +
        `${shortest.provider} forgets idempotency keys after ${shortest.keyRetentionSeconds / 3600} hours.`,
    );
  }
  return new GatewayRegistry(gateways);
}

/** Why a provider cannot be used here, for the API's 422; undefined when it can. */
export function unavailableReason(provider: string, registry: GatewayRegistry): string | undefined {
  if (registry.has(provider)) return undefined;
  if (provider === "sandbox") return "the sandbox provider is disabled (SANDBOX_ENABLED=false)";
  const definition = providerDefinitions.find((d) => d.provider === provider);
  if (!definition) return `unknown provider "${provider}"`;
  return `not configured: set ${definition.requiredVariables.join(", ")}`;
}

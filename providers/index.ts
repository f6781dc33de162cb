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

/** Where each provider's adapter is pointed instead of the provider's own API (a local fake, in tests). */
const API_BASE_VARIABLES: Record<string, string> = {
  stripe: "STRIPE_API_BASE",
  razorpay: "RAZORPAY_API_BASE",
  paypal: "PAYPAL_API_BASE",
  mercadopago: "MERCADOPAGO_API_BASE",
};

/**
 * The configured providers that talk to the provider itself: all but those whose API base points
 * at this machine (a local fake of the provider, as the tests run them).
 */
export function realProviders(env: Env): string[] {
  return providerDefinitions
    .filter((definition) => missingVariables(definition, env).length === 0)
    .filter((definition) => !isLoopbackUrl(env[API_BASE_VARIABLES[definition.provider]]))
    .map((definition) => definition.provider);
}

function isLoopbackUrl(raw: string | undefined): boolean {
  if (!raw) return false;
  try {
    const host = new URL(raw).hostname;
    return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
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
    // Next to a real provider, the sandbox would let anyone have an order marked paid for nothing.
    const real = realProviders(env);
    if (real.length) {
      throw new ConfigError(
        `SANDBOX_ENABLED must be false while a real payment provider is configured (${real.join(", ")}): ` +
          "the sandbox approves payments that move no money.",
      );
    }
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

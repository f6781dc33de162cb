// Builds the registry of configured providers. Later providers join here when their
// environment variables are set.
import { GatewayRegistry } from "./registry.ts";
import { SandboxGateway } from "./sandbox.ts";
import type { PaymentGateway } from "./types.ts";

export interface GatewaySettings {
  sandbox: { enabled: boolean; url?: string };
}

export function createGatewayRegistry(settings: GatewaySettings): GatewayRegistry {
  const gateways: PaymentGateway[] = [];
  if (settings.sandbox.enabled) {
    if (!settings.sandbox.url) throw new Error("The sandbox provider is enabled but SANDBOX_URL is not set.");
    gateways.push(new SandboxGateway(settings.sandbox.url));
  }
  return new GatewayRegistry(gateways);
}

/** The providers the environment configures, known without building their adapters (the API). */
export function configuredProviders(settings: { sandbox: { enabled: boolean } }): string[] {
  return settings.sandbox.enabled ? ["sandbox"] : [];
}

// How every client and worker reaches a Temporal server that is not the embedded dev server: TLS
// (a self-hosted cluster), mutual TLS (a client certificate, as Temporal Cloud's mTLS namespaces
// take), or an API key (Temporal Cloud's API-key namespaces, over TLS). Read from the
// environment by wiring.ts, so the API, the worker, the CLI and the tests all connect alike.
import { readFileSync } from "node:fs";
import type { TLSConfig } from "@temporalio/client";
import { ConfigError, type Env } from "../config.ts";

export interface TemporalSecurity {
  tls?: TLSConfig;
  apiKey?: string;
}

function pem(env: Env, name: string): Buffer | undefined {
  const file = env[name];
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  }
}

/**
 * TEMPORAL_TLS=true: TLS with the system's CAs. TEMPORAL_TLS_CA: the server's CA (PEM file).
 * TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY: this process's client certificate (mutual TLS), both or
 * neither. TEMPORAL_TLS_SERVER_NAME: the name to check the server's certificate against.
 * TEMPORAL_API_KEY: sent with every call (implies TLS). Nothing set: a plain connection.
 */
export function temporalSecurity(env: Env = process.env): TemporalSecurity {
  const ca = pem(env, "TEMPORAL_TLS_CA");
  const crt = pem(env, "TEMPORAL_TLS_CERT");
  const key = pem(env, "TEMPORAL_TLS_KEY");
  if (Boolean(crt) !== Boolean(key)) {
    throw new ConfigError(
      `Set both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY for mutual TLS (only ${crt ? "the certificate" : "the key"} is set).`,
    );
  }
  const serverName = env.TEMPORAL_TLS_SERVER_NAME || undefined;
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  if (env.TEMPORAL_TLS && !/^(true|false|1|0)$/.test(env.TEMPORAL_TLS)) {
    throw new ConfigError(`TEMPORAL_TLS must be true or false, not "${env.TEMPORAL_TLS}".`);
  }
  const wanted = /^(true|1)$/.test(env.TEMPORAL_TLS ?? "") || Boolean(ca || crt || serverName || apiKey);
  if (!wanted) return {};
  const tls: TLSConfig = {
    ...(ca ? { serverRootCACertificate: ca } : {}),
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    ...(serverName ? { serverNameOverride: serverName } : {}),
  };
  return { tls, ...(apiKey ? { apiKey } : {}) };
}

// The codec server: a small HTTP server of its own, not a route of the API. Decrypting is an
// operator's tool (the Web UI, the `temporal` CLI), not a merchant's: it listens on its own port
// (CODEC_SERVER_HOST, loopback by default), so it can stay off the API's public ingress and
// behind a VPN, with its own token and its own CORS policy. `npm start` runs it in-process and
// points the dev server's Web UI at it; `npm run codec-server` runs it alone.
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { serve } from "@hono/node-server";
import type { PayloadCodec } from "@temporalio/common";
import { ConfigError, loadConfig } from "../config.ts";
import { codecRoutes } from "./routes.ts";
import { codecCorsOrigins, loadPayloadCodec } from "./settings.ts";

export interface CodecServerOptions {
  codec: PayloadCodec;
  token: string;
  corsOrigins: string[];
  host: string;
  /** 0: any free port. */
  port: number;
}

export interface CodecServer {
  /** `http://host:port/codec`: the endpoint for `--codec-endpoint` (with `--codec-auth "Bearer <token>"`). */
  endpoint: string;
  /** The endpoint with the token in its path, for a Web UI (`--ui-codec-endpoint`, TEMPORAL_CODEC_ENDPOINT). */
  uiEndpoint: string;
  port: number;
  close(): Promise<void>;
}

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const app = codecRoutes(options);
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: options.host, port: options.port }, () => resolve(s));
    s.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "EADDRINUSE"
          ? new Error(`Port ${options.port} is taken: stop what runs there, or set CODEC_SERVER_PORT.`)
          : err,
      ),
    );
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host === "0.0.0.0" ? "127.0.0.1" : options.host;
  const endpoint = `http://${host}:${port}/codec`;
  return {
    endpoint,
    uiEndpoint: `${endpoint}/${options.token}`,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function main() {
  const config = loadConfig();
  const { codec, source } = await loadPayloadCodec(config.payloadEncryption, "external");
  const token = config.codecServer.token;
  if (!token) {
    throw new ConfigError("Set CODEC_SERVER_TOKEN: the bearer token every request must carry (e.g. $(openssl rand -hex 32)).");
  }
  const corsOrigins = codecCorsOrigins(config);
  const server = await startCodecServer({
    codec,
    token,
    corsOrigins,
    host: config.codecServer.host,
    port: config.codecServer.port,
  });
  console.log(
    `codec server on ${server.endpoint} (keys from ${source}; Web UI origins: ${corsOrigins.join(", ") || "none, set CODEC_CORS_ORIGINS"})`,
  );
  const stop = () => server.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(`${err instanceof ConfigError ? "configuration: " : ""}${err instanceof Error ? err.message : err}`);
    process.exit(1);
  });
}

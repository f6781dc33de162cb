// Which keys and which codec server token a process uses. PAYLOAD_ENCRYPTION_KEYS and
// CODEC_SERVER_TOKEN when they are set. Otherwise, under `npm start` with the embedded Temporal
// dev server, the development ones of its data folder (made on the first start); a CLI beside
// that dev server reads them too. Anything that talks to a Temporal server of your own refuses
// to start without keys (a ConfigError naming the variable), unless PAYLOAD_ENCRYPTION=off.
import { randomBytes } from "node:crypto";
import { type Config, ConfigError, type PayloadEncryption } from "../config.ts";
import { devSecret, devSecretFiles, newDevToken } from "./dev-secrets.ts";
import { EncryptionCodec } from "./encryption-codec.ts";
import { type EncryptionKey, formatKeys, generateKey, parseKeys } from "./keys.ts";

/**
 * - `embedded`: `npm start` running the dev server itself: the data folder's development key,
 *   made when absent.
 * - `beside-dev-server`: a process talking to `npm start`'s dev server (the CLI without
 *   TEMPORAL_ADDRESS): that key when the data folder has one.
 * - `external`: a Temporal server of your own: PAYLOAD_ENCRYPTION_KEYS only.
 */
export type Deployment = "embedded" | "beside-dev-server" | "external";

export interface LoadedCodec {
  codec: EncryptionCodec;
  /** Where the keys came from, for a log line (never the keys): the variable, a file, or "off". */
  source: string;
}

export const MISSING_KEYS =
  "Set PAYLOAD_ENCRYPTION_KEYS: the payloads this process sends to Temporal are encrypted with it " +
  "(comma-separated id:base64 of 32 random bytes, newest last, e.g. main:$(openssl rand -base64 32)); " +
  "PAYLOAD_ENCRYPTION=off sends them in clear.";

/** The codec of a process; `optional`: without keys, one that reads payloads in clear and refuses encrypted ones. */
export async function loadPayloadCodec(
  settings: PayloadEncryption,
  deployment: Deployment,
  options: { optional?: boolean } = {},
): Promise<LoadedCodec> {
  let keys: EncryptionKey[] | undefined = settings.keys;
  let source = "PAYLOAD_ENCRYPTION_KEYS";
  if (!keys && deployment !== "external") {
    const file = devSecretFiles(settings.dataDir).payloadEncryptionKeys;
    const kept = await devSecret(
      file,
      () => formatKeys([generateKey(`dev-${randomBytes(3).toString("hex")}`)]),
      deployment === "embedded",
    );
    if (kept !== undefined) {
      try {
        keys = parseKeys(kept);
      } catch (err) {
        throw new ConfigError(`${file}: ${(err as Error).message} (delete it to make a new one, or set PAYLOAD_ENCRYPTION_KEYS)`);
      }
      source = file;
    }
  }
  if (!keys) {
    if (settings.encrypt && !options.optional) throw new ConfigError(MISSING_KEYS);
    return { codec: new EncryptionCodec([], { encrypt: false }), source: "off" };
  }
  return {
    codec: new EncryptionCodec(keys, { encrypt: settings.encrypt }),
    source: settings.encrypt ? source : `off (${source} decrypts)`,
  };
}

/** The codec server's bearer token: CODEC_SERVER_TOKEN, else (embedded) the data folder's. */
export async function loadCodecServerToken(config: Config, deployment: Deployment): Promise<string | undefined> {
  if (config.codecServer.token) return config.codecServer.token;
  if (deployment === "external") return undefined;
  return devSecret(devSecretFiles(config.dataDir).codecServerToken, newDevToken, deployment === "embedded");
}

/** The Web UI origins the codec server answers: CODEC_CORS_ORIGINS, else the dev server's UI, else TEMPORAL_UI_URL's. */
export function codecCorsOrigins(config: Config, devUiPort?: number): string[] {
  if (config.codecServer.corsOrigins) return config.codecServer.corsOrigins;
  // The UI's origin is whatever host its user typed: both names of loopback.
  if (devUiPort !== undefined) return [`http://127.0.0.1:${devUiPort}`, `http://localhost:${devUiPort}`];
  return config.temporal.uiUrl ? [new URL(config.temporal.uiUrl).origin] : [];
}

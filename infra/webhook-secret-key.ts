// `npm start`'s key for the webhook signing secrets when WEBHOOK_SECRET_KEY is unset: made once per
// data folder and kept beside the embedded database it goes with
// (`<DATA_DIR>/secrets/webhook-secret-key`, readable by its owner only, like the other development
// secrets of codec/dev-secrets.ts), so that a restart still opens the secrets it sealed.
import path from "node:path";
import { devSecret } from "../codec/dev-secrets.ts";
import { ConfigError } from "../config.ts";
import { newSecretKey, parseSecretKey } from "../webhooks/secret-box.ts";

export const webhookSecretKeyFile = (dataDir: string) => path.join(dataDir, "secrets", "webhook-secret-key");

export async function dataFolderSecretKey(dataDir: string): Promise<Buffer> {
  const file = webhookSecretKeyFile(dataDir);
  const kept = await devSecret(file, () => newSecretKey().toString("base64"), true);
  const key = kept ? parseSecretKey(kept) : null;
  if (!key) {
    throw new ConfigError(`${file} does not hold 32 bytes in base64: remove it only if no endpoint secret was sealed with it`);
  }
  return key;
}

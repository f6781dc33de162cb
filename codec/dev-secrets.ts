// Secrets that `npm start` makes for itself when the environment gives none: a payload
// encryption key and the codec server's token, made once per data folder and kept there
// (DATA_DIR/secrets/, readable by its owner only), so that later starts, and the CLI beside
// them, read what earlier runs wrote. Development only: a process against servers of your own
// never reads them.
import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import path from "node:path";

export const devSecretFiles = (dataDir: string) => ({
  payloadEncryptionKeys: path.join(dataDir, "secrets", "payload-encryption-keys"),
  codecServerToken: path.join(dataDir, "secrets", "codec-server-token"),
});

/**
 * The secret kept in `file`; when there is none, `make()`'s (written there first) if `create`,
 * else undefined. Two processes making it at once agree on one: the file appears whole, once.
 */
export async function devSecret(file: string, make: () => string, create: boolean): Promise<string | undefined> {
  const kept = await readSecret(file);
  if (kept !== undefined || !create) return kept;
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const draft = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await writeFile(draft, `${make()}\n`, { mode: 0o600, flag: "wx" });
  try {
    await link(draft, file); // fails if another process got there first: theirs is kept
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    await unlink(draft);
  }
  return readSecret(file);
}

async function readSecret(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, "utf8")).trim() || undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

export const newDevToken = () => randomBytes(32).toString("base64url");

// An endpoint's signing secrets as the database keeps them: sealed (webhooks/secret-box.ts) under
// WEBHOOK_SECRET_KEY and bound to the endpoint's id; after a rotation, the previous secret too,
// until `previousSecretExpiresAt`. Rows written before secrets were sealed hold a clear `whsec_…`:
// both processes seal those when they start (sealLegacySecrets), and until then they are read as
// they are.
import type { Db } from "../prisma/client.ts";
import { isSealed, open, seal } from "./secret-box.ts";
import { standardSecret } from "./signing.ts";

export interface StoredSecrets {
  id: string;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
}

export const sealFor = (key: Buffer, endpointId: string, secret: string) => seal(key, secret, endpointId);

/** A stored value in sealed form (a row from before sealing holds it in clear). */
export function sealedForm(key: Buffer, endpointId: string, stored: string): string {
  return isSealed(stored) ? stored : sealFor(key, endpointId, standardSecret(stored));
}

/** The clear secret of a stored value (sealed, or a row from before sealing). */
export function openFor(key: Buffer, endpointId: string, stored: string): string {
  return isSealed(stored) ? open(key, stored, endpointId) : standardSecret(stored);
}

/** The secrets a delivery at `now` is signed with: the current one, and the previous one during its grace period. */
export function signingSecrets(key: Buffer, row: StoredSecrets, now: Date): string[] {
  const secrets = [openFor(key, row.id, row.secret)];
  if (row.previousSecret && row.previousSecretExpiresAt && row.previousSecretExpiresAt > now) {
    secrets.push(openFor(key, row.id, row.previousSecret));
  }
  return secrets;
}

/** Seals the clear secrets of endpoints made before secrets were sealed; the number sealed. */
export async function sealLegacySecrets(db: Db, key: Buffer): Promise<number> {
  const rows = await db.webhookEndpoint.findMany({
    where: { secret: { startsWith: "whsec_" } },
    select: { id: true, secret: true },
  });
  let sealed = 0;
  for (const row of rows) {
    // Only if no one sealed it meanwhile (the API and every worker do this at start).
    const { count } = await db.webhookEndpoint.updateMany({
      where: { id: row.id, secret: row.secret },
      data: { secret: sealedForm(key, row.id, row.secret) },
    });
    sealed += count;
  }
  return sealed;
}

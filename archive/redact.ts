// Secrets out of an archived history. The history stores every payload (workflow input, activity
// arguments and results, signals, updates) as base64 JSON; the customer's email and the payment
// token travel in some of them, and an error message may quote them. Fields with a secret's name
// are blanked in every JSON payload, and every value they held is blanked wherever it appears.

/** Field names whose values never leave the live history. */
const SECRET_FIELDS = new Set(["email", "customerEmail", "recipient", "token"]);
export const REDACTED = "[redacted]";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonPayload = { metadata: { encoding: string }; data: string };

const fromBase64 = (text: string) => Buffer.from(text, "base64").toString("utf8");
const toBase64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

function isJsonPayload(value: Json): value is JsonPayload {
  if (!value || typeof value !== "object" || Array.isArray(value)) return false;
  const metadata = value.metadata;
  return (
    typeof value.data === "string" &&
    !!metadata &&
    typeof metadata === "object" &&
    !Array.isArray(metadata) &&
    typeof metadata.encoding === "string" &&
    fromBase64(metadata.encoding) === "json/plain"
  );
}

/** Applies `visit` to every JSON payload's decoded value, re-encoding what it returns. */
function mapPayloads(value: Json, visit: (decoded: Json) => Json): Json {
  if (Array.isArray(value)) return value.map((v) => mapPayloads(v, visit));
  if (!value || typeof value !== "object") return value;
  if (isJsonPayload(value)) {
    let decoded: Json;
    try {
      decoded = JSON.parse(fromBase64(value.data));
    } catch {
      return value; // not JSON after all: nothing we know how to read, left as it is
    }
    return { ...value, data: toBase64(JSON.stringify(visit(decoded))) };
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapPayloads(v, visit)]));
}

/** Every string held by a secret field, anywhere in the value. */
function collectSecrets(value: Json, into: Set<string>): void {
  if (Array.isArray(value)) for (const v of value) collectSecrets(v, into);
  else if (value && typeof value === "object")
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_FIELDS.has(k) && typeof v === "string" && v.length >= 4) into.add(v);
      else collectSecrets(v, into);
    }
}

/** Blanks secret fields and every occurrence of a secret value, inside payloads and out. */
function scrub(value: Json, secrets: string[]): Json {
  if (typeof value === "string") return secrets.reduce((s, secret) => s.split(secret).join(REDACTED), value);
  if (Array.isArray(value)) return value.map((v) => scrub(v, secrets));
  if (!value || typeof value !== "object") return value;
  // A payload's base64 text is not searched (a secret could match base64 by chance): its decoded value is.
  if (isJsonPayload(value)) return mapPayloads(value, (decoded) => scrub(decoded, secrets));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, SECRET_FIELDS.has(k) && typeof v === "string" ? REDACTED : scrub(v, secrets)]),
  );
}

/** The history (archive/history-json.ts) with its secrets removed; `extraSecrets` are blanked too. */
export function redactHistory(historyJson: string, extraSecrets: string[] = []): string {
  const history = JSON.parse(historyJson) as Json;
  const found = new Set(extraSecrets.filter((s) => s.length >= 4));
  mapPayloads(history, (decoded) => {
    collectSecrets(decoded, found);
    return decoded;
  });
  // Longest first, so a secret that contains another is blanked whole.
  return JSON.stringify(
    scrub(
      history,
      [...found].sort((a, b) => b.length - a.length),
    ),
  );
}

// What a reader of a history in protobuf JSON (`temporal workflow show -o json`, the archive, the
// codec server's answers) can read in it: payload data travels in base64.
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The document's text, plus every string in it that is base64, decoded. */
export function readable(text: string): string {
  const parts = [text];
  const visit = (value: Json) => {
    if (typeof value === "string") {
      if (value.length >= 8 && /^[A-Za-z0-9+/]+={0,2}$/.test(value)) parts.push(Buffer.from(value, "base64").toString("latin1"));
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") Object.values(value).forEach(visit);
  };
  visit(JSON.parse(text));
  return parts.join("\n");
}

/** The payloads in a protobuf-JSON document whose encoding is `binary/encrypted`. */
export function encryptedPayloads(value: Json, into: Json[] = []): Json[] {
  if (Array.isArray(value)) for (const v of value) encryptedPayloads(v, into);
  else if (value && typeof value === "object") {
    const encoding = (value.metadata as { encoding?: string } | undefined)?.encoding;
    if (typeof encoding === "string" && Buffer.from(encoding, "base64").toString() === "binary/encrypted") into.push(value);
    else for (const v of Object.values(value)) encryptedPayloads(v, into);
  }
  return into;
}

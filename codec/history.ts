// A history as Temporal's API gives it (`fetchHistory()`, the gRPC call behind it) holds every
// payload as the codec left it: encrypted. The SDK decodes the payloads of results, queries and
// descriptions itself, not those of a fetched history, so whoever reads one (the audit, the
// archive, `checkout history`) decodes it here first, with the codecs of the client it came from.
import type { Client } from "@temporalio/client";
import type { Payload, PayloadCodec } from "@temporalio/common";

type History = Awaited<ReturnType<ReturnType<Client["workflow"]["getHandle"]>["fetchHistory"]>>;

/** A payload wherever it sits in a message: metadata of bytes with an encoding, and maybe data. */
function isPayload(value: object): value is Payload {
  const metadata = (value as { metadata?: unknown }).metadata;
  return (
    !!metadata &&
    typeof metadata === "object" &&
    !ArrayBuffer.isView(metadata) &&
    ArrayBuffer.isView((metadata as Record<string, unknown>).encoding)
  );
}

function collectPayloads(value: unknown, into: Payload[]): void {
  if (!value || typeof value !== "object" || ArrayBuffer.isView(value)) return;
  if (Array.isArray(value)) {
    for (const item of value) collectPayloads(item, into);
    return;
  }
  if (isPayload(value)) {
    into.push(value);
    return;
  }
  for (const child of Object.values(value)) collectPayloads(child, into);
}

/**
 * Decodes, in place, every payload of `message` (a history, an event, any API message) with
 * `codecs` (outermost last, as the SDK applies them). Payloads no codec encoded pass as they are.
 */
export async function decodePayloadsIn<T>(message: T, codecs: PayloadCodec[]): Promise<T> {
  const found: Payload[] = [];
  collectPayloads(message, found);
  if (found.length === 0 || codecs.length === 0) return message;
  let decoded = found;
  for (const codec of [...codecs].reverse()) decoded = await codec.decode(decoded);
  found.forEach((payload, i) => {
    payload.metadata = decoded[i].metadata;
    payload.data = decoded[i].data;
  });
  return message;
}

/** The codecs of a client's data converter (wiring.ts gives every client the encryption codec). */
export const codecsOf = (client: Client): PayloadCodec[] => client.options.loadedDataConverter.payloadCodecs;

/** A run's whole history with its payloads decoded, fetched with (and decoded by) `client`. */
export async function fetchDecodedHistory(client: Client, workflowId: string, runId?: string): Promise<History> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return decodePayloadsIn(history, codecsOf(client));
}

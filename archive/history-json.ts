// A history as JSON text and back, and a payload's value, with the Temporal API's own generated protobuf classes: field
// names as in the API, int64 as strings, bytes (payload data) in base64, enums by name. (The
// SDK's historyToJSON fails in this install: @temporalio/common and @temporalio/proto each get a
// copy of protobufjs, and its JSON extension rejects the other copy's types.)
import { defaultPayloadConverter, type Payload } from "@temporalio/common";
import proto from "@temporalio/proto";
import { isEncrypted } from "../codec/encryption-codec.ts";

const History = proto.temporal.api.history.v1.History;
export type History = proto.temporal.api.history.v1.IHistory;

export function historyToText(history: History): string {
  return JSON.stringify(History.toObject(History.fromObject(history), { longs: String, enums: String, bytes: String }));
}

export function historyFromText(text: string): History {
  return History.fromObject(JSON.parse(text));
}

/**
 * A payload's value, or undefined when it is absent or not JSON. An encrypted one is a reader's
 * mistake (its history was not decoded: codec/history.ts), refused loudly rather than read as absent.
 */
export function decodePayload<T>(payload: Payload | null | undefined): T | undefined {
  if (!payload) return undefined;
  if (isEncrypted(payload)) {
    throw new Error("This payload is still encrypted: decode the history it came from first (codec/history.ts).");
  }
  try {
    return defaultPayloadConverter.fromPayload<T>(payload);
  } catch {
    return undefined;
  }
}

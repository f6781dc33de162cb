// The codec server's routes in process (codec/routes.ts): the Temporal codec server protocol
// behind a bearer token (in the Authorization header, or in the path for the Web UI), CORS for the
// Web UI's origin only. test/payload-encryption.test.ts drives the real server with real histories.
import { defaultPayloadConverter, type Payload } from "@temporalio/common";
import { describe, expect, it } from "vitest";
import { EncryptionCodec } from "../../codec/encryption-codec.ts";
import { generateKey } from "../../codec/keys.ts";
import { codecRoutes } from "../../codec/routes.ts";

const token = "test-token-0123456789abcdef";
const uiOrigin = "http://127.0.0.1:8233";
const codec = new EncryptionCodec([generateKey("k1")]);
const app = codecRoutes({ codec, token, corsOrigins: [uiOrigin, "http://localhost:8233"] });

/** A payload as the protocol carries it: protobuf JSON, bytes in base64. */
const asJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString("base64")])),
  data: Buffer.from(p.data ?? []).toString("base64"),
});
const fromJson = (p: { metadata: Record<string, string>; data?: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, "base64")])),
  data: Buffer.from(p.data ?? "", "base64"),
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json", "x-namespace": "default", ...headers },
    body: JSON.stringify(body),
  });

describe("the codec server's routes", () => {
  it("POST /codec/encode then /codec/decode: a round trip, with the bearer token", async () => {
    const value = { email: "ada@example.com" };
    const encoded = await post(
      "/codec/encode",
      { payloads: [asJson(defaultPayloadConverter.toPayload(value) as Payload)] },
      { authorization: `Bearer ${token}` },
    );
    expect(encoded.status).toBe(200);
    const sealed = (await encoded.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
    expect(Buffer.from(sealed.payloads[0].metadata.encoding, "base64").toString()).toBe("binary/encrypted");
    expect(JSON.stringify(sealed)).not.toContain("ada@example.com");

    const decoded = await post("/codec/decode", sealed, { authorization: `Bearer ${token}` });
    expect(decoded.status).toBe(200);
    const opened = (await decoded.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
    expect(defaultPayloadConverter.fromPayload(fromJson(opened.payloads[0]))).toEqual(value);
  });

  it("takes the token in the path, as the Web UI is given it (and the UI's query string)", async () => {
    const [sealed] = await codec.encode([defaultPayloadConverter.toPayload("hello") as Payload]);
    const res = await post(
      `/codec/${token}/decode?preserveStorageRefs=true`,
      { payloads: [asJson(sealed)] },
      { origin: uiOrigin },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(uiOrigin);
    const body = (await res.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
    expect(defaultPayloadConverter.fromPayload(fromJson(body.payloads[0]))).toBe("hello");
  });

  it.each([
    ["no token", "/codec/decode", {}],
    ["another token", "/codec/decode", { authorization: "Bearer not-the-token-at-all" }],
    ["another scheme", "/codec/decode", { authorization: `Basic ${token}` }],
    ["another token in the path", "/codec/not-the-token-at-all/decode", {}],
  ])("answers 401 with %s", async (_what, path, headers) => {
    const res = await post(path, { payloads: [] }, headers as Record<string, string>);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="codec"');
    expect(((await res.json()) as any).error.code).toBe("unauthorized");
  });

  it("answers a preflight from the Web UI's origin, allowing the headers the UI sends", async () => {
    const res = await app.request("/codec/decode", {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:8233",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-namespace,authorization",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:8233");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    for (const header of ["content-type", "x-namespace", "authorization"]) expect(allowed).toContain(header);
    expect(res.headers.get("access-control-allow-credentials")).toBe("true");
  });

  it("refuses any other origin, preflight or not, token or not", async () => {
    const preflight = await app.request("/codec/decode", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    const call = await post(
      "/codec/decode",
      { payloads: [] },
      { origin: "https://evil.example", authorization: `Bearer ${token}` },
    );
    expect(call.status).toBe(403);
    expect(call.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("answers 400 to a body that is not {payloads: [...]}, 422 to a payload it cannot decrypt", async () => {
    const auth = { authorization: `Bearer ${token}` };
    expect((await post("/codec/decode", { nothing: true }, auth)).status).toBe(400);
    const [foreign] = await new EncryptionCodec([generateKey("elsewhere")]).encode([
      defaultPayloadConverter.toPayload(1) as Payload,
    ]);
    const res = await post("/codec/decode", { payloads: [asJson(foreign)] }, auth);
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: { code: "payload_not_decodable", keyId: "elsewhere" } });
  });

  it("has nothing else but its health", async () => {
    expect((await app.request("/health")).status).toBe(200);
    expect((await app.request("/codec/decode")).status).toBe(404);
    expect((await post("/codec/transmogrify", { payloads: [] }, { authorization: `Bearer ${token}` })).status).toBe(404);
  });
});

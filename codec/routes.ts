// The codec server's routes: the Temporal codec server protocol (POST …/encode and …/decode,
// each a JSON body {"payloads": [...]} of protobuf-JSON payloads, base64 fields) over this
// project's payload codec, for the Temporal Web UI and `temporal … --codec-endpoint`.
// Self-contained on purpose: its own bearer token (CODEC_SERVER_TOKEN) and its own CORS policy
// (CODEC_CORS_ORIGINS: the Web UI's origin only), whatever the API's authentication does.
//
//   POST /codec/decode, /codec/encode           Authorization: Bearer <token> (the CLI's --codec-auth)
//   POST /codec/<token>/decode, …/encode        the token in the path: the Web UI sends an
//                                               Authorization header only with its users' OIDC
//                                               token, so it is given this endpoint instead
import { createHash, timingSafeEqual } from "node:crypto";
import type { Payload, PayloadCodec } from "@temporalio/common";
import proto from "@temporalio/proto";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { PayloadDecryptionError } from "./encryption-codec.ts";

const Payloads = proto.temporal.api.common.v1.Payloads;
/** The Web UI sends one event's payloads at a time; Temporal's own limit for a payload is 2 MiB. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const ALLOWED_HEADERS = "Authorization, Authorization-Extras, Content-Type, X-Namespace";

export interface CodecRoutesOptions {
  codec: PayloadCodec;
  /** The bearer token every request must carry. */
  token: string;
  /** Origins whose browsers may call it (the Web UI's); requests with any other Origin get 403. */
  corsOrigins: string[];
}

const error = (code: string, message: string, extra: Record<string, unknown> = {}) => ({ error: { code, message, ...extra } });

export function codecRoutes({ codec, token, corsOrigins }: CodecRoutesOptions) {
  const allowed = new Set(corsOrigins);
  const expected = digest(token);
  const tokenIs = (given: string | undefined) => given !== undefined && timingSafeEqual(digest(given), expected);

  const app = new Hono();
  app.get("/health", (c) => c.json({ status: "ok" }));

  // CORS before anything else: a preflight carries no credentials, and a browser must be able to
  // read a 401 to tell its user why. An Origin that is not the Web UI's is refused outright.
  app.use("/codec/*", async (c, next) => {
    const origin = c.req.header("origin");
    if (origin === undefined) return next(); // not a browser: the CLI, a script
    c.header("Vary", "Origin");
    if (!allowed.has(origin)) {
      return c.json(error("origin_not_allowed", `Origin ${origin} may not call this codec server (CODEC_CORS_ORIGINS).`), 403);
    }
    c.header("Access-Control-Allow-Origin", origin);
    c.header("Access-Control-Allow-Credentials", "true");
    if (c.req.method === "OPTIONS") {
      c.header("Access-Control-Allow-Methods", "POST, OPTIONS");
      c.header("Access-Control-Allow-Headers", ALLOWED_HEADERS);
      c.header("Access-Control-Max-Age", "600");
      return c.body(null, 204);
    }
    return next();
  });
  app.use(
    "/codec/*",
    bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.json(error("body_too_large", "At most 8 MiB."), 413) }),
  );

  const unauthorized = (c: Context) => {
    c.header("WWW-Authenticate", 'Bearer realm="codec"');
    return c.json(error("unauthorized", "This codec server needs its token: Authorization: Bearer <CODEC_SERVER_TOKEN>."), 401);
  };
  const bearer = (c: Context) => /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1];

  for (const action of ["encode", "decode"] as const) {
    app.post(`/codec/${action}`, (c) => (tokenIs(bearer(c)) ? convert(c, codec, action) : unauthorized(c)));
    app.post(`/codec/:token/${action}`, (c) => (tokenIs(c.req.param("token")) ? convert(c, codec, action) : unauthorized(c)));
  }
  app.notFound((c) => c.json(error("not_found", `No route ${c.req.method} ${c.req.path}.`), 404));
  return app;
}

async function convert(c: Context, codec: PayloadCodec, action: "encode" | "decode") {
  let payloads: Payload[];
  try {
    const body = (await c.req.json()) as { payloads?: unknown };
    if (!body || typeof body !== "object" || !Array.isArray(body.payloads)) throw new Error("no payloads");
    payloads = Payloads.fromObject(body).payloads;
  } catch {
    return c.json(
      error("validation_failed", 'The body must be JSON: {"payloads": [{"metadata": {…}, "data": "<base64>"}, …]}.'),
      400,
    );
  }
  let converted: Payload[];
  try {
    converted = action === "encode" ? await codec.encode(payloads) : await codec.decode(payloads);
  } catch (err) {
    if (err instanceof PayloadDecryptionError) {
      return c.json(error("payload_not_decodable", err.message, { keyId: err.keyId }), 422);
    }
    throw err;
  }
  return c.json(Payloads.toObject(Payloads.fromObject({ payloads: converted }), { bytes: String }));
}

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

// providers/transport.ts against a local HTTP server that misbehaves on purpose: which failures
// count as never sent, which leave the outcome unknown (only for a request that changes
// something), and how an answer's status maps to the interface's errors.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpTransport } from "../../providers/transport.ts";
import { GatewayRequestError, GatewayUnavailableError } from "../../providers/types.ts";

let server: Server;
let base: string;
const seen: Array<{ method: string; url: string; headers: IncomingMessage["headers"]; body: string }> = [];

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    seen.push({
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      body: Buffer.concat(chunks).toString("utf8"),
    });
    const [, route, arg] = (req.url ?? "").split("?")[0].split("/");
    if (route === "status") {
      res.writeHead(Number(arg), { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: `E${arg}` } }));
    } else if (route === "html") {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>proxy error</html>");
    } else if (route === "silent") {
      // Never answers: the client's timeout ends it.
    } else if (route === "drop") {
      req.socket.destroy();
    } else if (route === "cut") {
      res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
      res.write('{"id": "pay_');
      setTimeout(() => req.socket.destroy(), 20);
    } else {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const transport = (settings: Partial<ConstructorParameters<typeof HttpTransport>[0]> = {}) =>
  new HttpTransport({ provider: "Acme Pay", baseUrl: base, timeoutMs: 300, ...settings });

const failure = async (promise: Promise<unknown>) => {
  const err = await promise.then(
    () => undefined,
    (e) => e,
  );
  expect(err).toBeInstanceOf(GatewayUnavailableError);
  return err as GatewayUnavailableError;
};

const closedPort = async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  return port;
};

describe("never sent", () => {
  it("a refused connection: not an unknown outcome, even for a POST", async () => {
    const down = transport({ baseUrl: `http://127.0.0.1:${await closedPort()}` });
    const err = await failure(down.send({ method: "POST", path: "/charges", body: {} }));
    expect(err).toMatchObject({ outcomeUnknown: false, status: undefined });
    expect(err.message).toBe("Acme Pay unreachable (POST /charges): ECONNREFUSED");
  });

  it("an invalid URL: not an unknown outcome", async () => {
    const err = await failure(transport({ baseUrl: "not a url" }).send({ method: "POST", path: "/charges", body: {} }));
    expect(err).toMatchObject({ outcomeUnknown: false });
    expect(err.message).toContain("ERR_INVALID_URL");
  });
});

describe("outcome unknown, for a request that changes something", () => {
  it("a timeout: unknown for a POST or PUT, not for a GET or a side-effect-free POST", async () => {
    const http = transport();
    const post = await failure(http.send({ method: "POST", path: "/silent", body: {} }));
    expect(post).toMatchObject({ outcomeUnknown: true });
    expect(post.message).toBe("Acme Pay unreachable (POST /silent): no answer within 300 ms");
    expect(await failure(http.send({ method: "PUT", path: "/silent", body: {} }))).toMatchObject({ outcomeUnknown: true });
    expect(await failure(http.send({ method: "GET", path: "/silent" }))).toMatchObject({ outcomeUnknown: false });
    const token = http.send({ method: "POST", path: "/silent", body: "grant_type=x", sideEffectFree: true });
    expect(await failure(token)).toMatchObject({ outcomeUnknown: false });
  });

  it("a connection dropped after the request arrived", async () => {
    const http = transport();
    expect(await failure(http.send({ method: "POST", path: "/drop", body: {} }))).toMatchObject({ outcomeUnknown: true });
    expect(await failure(http.send({ method: "GET", path: "/drop" }))).toMatchObject({ outcomeUnknown: false });
  });

  it("an answer whose body breaks off", async () => {
    const err = await failure(transport().send({ method: "POST", path: "/cut", body: {} }));
    expect(err).toMatchObject({ outcomeUnknown: true, status: 200 });
    expect(err.message).toMatch(/^Acme Pay answered 200 to POST \/cut but the body broke off/);
  });

  it("a 2xx whose body is not JSON", async () => {
    const http = transport();
    const err = await failure(http.send({ method: "POST", path: "/html", body: {} }));
    expect(err).toMatchObject({ outcomeUnknown: true, status: 200 });
    expect(err.message).toBe("Acme Pay answered 200 to POST /html with a body that is not JSON");
    expect(await failure(http.send({ method: "GET", path: "/html" }))).toMatchObject({ outcomeUnknown: false });
  });
});

describe("answered", () => {
  it("returns the status, the text and the JSON, for any status", async () => {
    const answer = await transport().send({ method: "GET", path: "/status/404?q=1" });
    expect(answer).toEqual({
      status: 404,
      ok: false,
      text: '{"error":{"code":"E404"}}',
      json: { error: { code: "E404" } },
      request: "GET /status/404",
    });
    expect(await transport().send({ method: "GET", path: "/" })).toMatchObject({ status: 200, ok: true, json: { ok: true } });
  });

  it("sends JSON bodies as JSON and texts as they are, with the headers merged", async () => {
    seen.length = 0;
    const http = transport({ baseUrl: `${base}//`, headers: { authorization: "Bearer t", "x-a": "1" } });
    await http.send({ method: "POST", path: "/json", body: { amount: 5 }, headers: { "x-a": "2" } });
    await http.send({
      method: "POST",
      path: "/form",
      body: "a=1",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    await http.send({ method: "GET", path: "/get" });
    expect(seen.map((r) => [r.method, r.url, r.body])).toEqual([
      ["POST", "/json", '{"amount":5}'],
      ["POST", "/form", "a=1"],
      ["GET", "/get", ""],
    ]);
    expect(seen[0].headers).toMatchObject({
      accept: "application/json",
      "content-type": "application/json",
      authorization: "Bearer t",
      "x-a": "2",
    });
    expect(seen[1].headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(seen[2].headers["content-type"]).toBeUndefined();
  });

  it("refusal: 429 and 5xx are retryable and definite, other statuses are request errors", async () => {
    const http = transport();
    const refusal = async (status: number, target = http) => {
      const answer = await target.send({ method: "POST", path: `/status/${status}`, body: {} });
      return target.refusal(answer, "why");
    };
    for (const status of [429, 500, 502, 503]) {
      const err = await refusal(status);
      expect(err).toBeInstanceOf(GatewayUnavailableError);
      expect(err).toMatchObject({
        status,
        outcomeUnknown: false,
        message: `Acme Pay answered ${status} to POST /status/${status}: why`,
      });
    }
    for (const status of [400, 401, 404, 409, 422]) {
      expect(await refusal(status)).toBeInstanceOf(GatewayRequestError);
    }
    const retrying = transport({ retryStatuses: [409] });
    expect(await refusal(409, retrying)).toMatchObject({ name: "GatewayUnavailableError", status: 409, outcomeUnknown: false });
    expect(await refusal(400, retrying)).toBeInstanceOf(GatewayRequestError);
  });
});

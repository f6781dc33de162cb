// The SSRF guard (webhooks/target.ts) and the POST that goes only where it was checked
// (webhooks/http.ts). Nothing here sends a packet beyond this machine: public addresses are only
// ever resolved by injected resolvers and checked, and every connection goes to loopback.
import type { LookupAddress } from "node:dns";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { NetworkError, postTo } from "../../webhooks/http.ts";
import { checkTarget, type Resolver, specialRange, type TargetPolicy, TargetRefused } from "../../webhooks/target.ts";

const PUBLIC_V4 = "93.184.216.34";
const PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946";

/** A resolver that answers from a table (and counts its calls); an unknown name does not resolve. */
function resolver(table: Record<string, string[] | (() => string[])>) {
  const calls: string[] = [];
  const resolve: Resolver = async (hostname) => {
    calls.push(hostname);
    const entry = table[hostname];
    const addresses = typeof entry === "function" ? entry() : entry;
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return addresses.map((address): LookupAddress => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return { resolve, calls };
}

const names = resolver({
  "hooks.example.com": [PUBLIC_V4, PUBLIC_V6],
  "internal.example.com": ["127.0.0.1"],
  "metadata.example.com": ["169.254.169.254"],
  "split.example.com": [PUBLIC_V4, "10.0.0.7"],
  "mapped.example.com": ["::ffff:192.168.0.1"],
  localhost: ["127.0.0.1", "::1"],
});
const production: TargetPolicy = { allowHttp: false, allowPrivate: false, resolve: names.resolve };
const development: TargetPolicy = { allowHttp: true, allowPrivate: true, resolve: names.resolve };

async function refusal(url: string, policy: TargetPolicy = production): Promise<TargetRefused> {
  try {
    await checkTarget(url, policy);
  } catch (err) {
    if (err instanceof TargetRefused) return err;
    throw err;
  }
  throw new Error(`${url} was allowed`);
}

describe("the SSRF guard refuses", () => {
  it.each([
    // Other spellings of 127.0.0.1, which URL parsing turns into the dotted one
    ["https://2130706433/", "loopback"],
    ["https://0x7f000001/", "loopback"],
    ["https://0177.0.0.1/", "loopback"],
    ["https://127.1/", "loopback"],
    ["https://0x7f.1/", "loopback"],
    ["https://127.0.0.1./", "loopback"],
    ["https://127.255.255.254:8443/", "loopback"],
    // IPv6 loopback and IPv4 written in IPv6
    ["https://[::1]/", "loopback"],
    ["https://[0:0:0:0:0:0:0:1]/", "loopback"],
    ["https://[::ffff:127.0.0.1]/", "loopback"],
    ["https://[::ffff:7f00:1]/", "loopback"],
    ["https://[::ffff:10.1.2.3]/", "private"],
    ["https://[::ffff:a9fe:a9fe]/", "link-local"],
    ["https://[::127.0.0.1]/", "IPv4-compatible"],
    // The cloud metadata service and the rest of link-local
    ["https://169.254.169.254/latest/meta-data/", "link-local"],
    ["https://[fe80::1]/", "link-local"],
    // RFC 1918, CGNAT, unique-local
    ["https://10.0.0.1/", "private"],
    ["https://10.255.255.255/", "private"],
    ["https://172.16.0.1/", "private"],
    ["https://172.31.255.255/", "private"],
    ["https://192.168.1.1/", "private"],
    ["https://100.64.0.1/", "carrier-grade NAT"],
    ["https://100.127.255.255/", "carrier-grade NAT"],
    ["https://[fc00::1]/", "unique-local"],
    ["https://[fd12:3456:789a::1]/", "unique-local"],
    // Multicast, unspecified, broadcast
    ["https://224.0.0.1/", "multicast"],
    ["https://239.255.255.250/", "multicast"],
    ["https://[ff02::1]/", "multicast"],
    ["https://0.0.0.0/", "unspecified"],
    ["https://0/", "unspecified"],
    ["https://[::]/", "unspecified"],
    ["https://255.255.255.255/", "broadcast"],
    // Documentation, benchmarking, reserved, and IPv6 forms that carry IPv4 elsewhere
    ["https://192.0.2.10/", "reserved or documentation"],
    ["https://198.51.100.7/", "reserved or documentation"],
    ["https://203.0.113.9/", "reserved or documentation"],
    ["https://198.18.0.1/", "reserved or documentation"],
    ["https://240.0.0.1/", "reserved or documentation"],
    ["https://[2001:db8::1]/", "reserved or documentation"],
    ["https://[64:ff9b::7f00:1]/", "rfc6052"],
    ["https://[2002:7f00:1::]/", "6to4"],
  ])("%s (%s)", async (url, kind) => {
    const refused = await refusal(url);
    expect(refused.reason).toContain(kind);
    expect(refused.permanent).toBe(true);
  });

  it.each([
    ["https://localhost/", []],
    ["https://LOCALHOST./", []],
    ["https://api.localhost/", []],
    ["https://internal.example.com/", ["internal.example.com"]],
    ["https://metadata.example.com/", ["metadata.example.com"]],
    ["https://mapped.example.com/", ["mapped.example.com"]],
    // One private address among public ones is enough.
    ["https://split.example.com/", ["split.example.com"]],
    // A name that does not resolve reads the same as one that resolves inside.
    ["https://nowhere.example.com/", ["nowhere.example.com"]],
  ])("%s, a name with a non-public address (or none), without telling which", async (url, asked) => {
    names.calls.length = 0;
    const refused = await refusal(url);
    expect(refused.reason).toBe(`${new URL(url).hostname} must resolve to public addresses only`);
    expect(refused.permanent).toBe(false);
    expect(names.calls).toEqual(asked);
  });

  it("http, unless development allows it", async () => {
    expect((await refusal(`http://${PUBLIC_V4}/`)).reason).toBe("must be an https URL");
    await expect(checkTarget(`http://${PUBLIC_V4}/`, { ...production, allowHttp: true })).resolves.toBeDefined();
  });

  it("other schemes, credentials in the URL, and what is no URL", async () => {
    expect((await refusal("ftp://hooks.example.com/")).reason).toBe("must be an https URL");
    expect((await refusal("https://user:secret@hooks.example.com/")).reason).toBe("must not contain a user name or password");
    expect((await refusal("not a url")).reason).toBe("must be an absolute URL");
  });
});

describe("the SSRF guard allows", () => {
  it("a public address, and a name whose every address is public", async () => {
    await expect(checkTarget(`https://${PUBLIC_V4}/hooks`, production)).resolves.toMatchObject({
      addresses: [{ address: PUBLIC_V4, family: 4 }],
    });
    await expect(checkTarget(`https://[${PUBLIC_V6}]:8443/hooks`, production)).resolves.toMatchObject({
      addresses: [{ address: PUBLIC_V6, family: 6 }],
    });
    const target = await checkTarget("https://hooks.example.com/checkout?x=1", production);
    expect(target.addresses.map((a) => a.address)).toEqual([PUBLIC_V4, PUBLIC_V6]);
    expect(target.url.href).toBe("https://hooks.example.com/checkout?x=1");
    expect(specialRange(PUBLIC_V4)).toBeNull();
    expect(specialRange(`::ffff:${PUBLIC_V4}`)).toBeNull();
  });

  it("a local test endpoint only with the development settings", async () => {
    const local = "http://127.0.0.1:4000/hooks";
    expect((await refusal(local)).reason).toBe("must be an https URL");
    expect((await refusal(local, { ...production, allowHttp: true })).reason).toContain("loopback");
    await expect(checkTarget(local, development)).resolves.toMatchObject({ addresses: [{ address: "127.0.0.1" }] });
    await expect(checkTarget("http://localhost:4000/", development)).resolves.toBeDefined();
    await expect(checkTarget("http://10.0.0.1/", development)).resolves.toBeDefined();
    await expect(checkTarget("http://[::ffff:127.0.0.1]/", development)).resolves.toBeDefined();
    // Development lets this machine and its networks in, nothing else.
    for (const url of ["http://0.0.0.0/", "http://224.0.0.1/", "http://255.255.255.255/", "http://192.0.2.1/"]) {
      expect((await refusal(url, development)).permanent, url).toBe(true);
    }
  });
});

describe("DNS rebinding", () => {
  it("the connection goes to the address that was checked, however the name resolves afterwards", async () => {
    let answers = 0;
    const rebinding = resolver({ "rebind.example.com": () => (answers++ === 0 ? [PUBLIC_V4] : ["127.0.0.1"]) });
    const target = await checkTarget("https://rebind.example.com/hooks", { ...production, resolve: rebinding.resolve });
    const asked = (options: { all?: boolean }) =>
      new Promise<unknown>((resolve, reject) =>
        target.lookup("rebind.example.com", options, (err, address) => (err ? reject(err) : resolve(address))),
      );
    expect(await asked({})).toBe(PUBLIC_V4);
    expect(await asked({ all: true })).toEqual([{ address: PUBLIC_V4, family: 4 }]);
    expect(rebinding.calls).toEqual(["rebind.example.com"]);
    // The next attempt's check sees the new answer and refuses it.
    expect((await refusal("https://rebind.example.com/hooks", { ...production, resolve: rebinding.resolve })).permanent).toBe(
      false,
    );
  });

  it("a real request connects to the checked address, not to a second answer", async () => {
    // Two servers on one port: 127.0.0.2 (what the check saw) and 127.0.0.1 (what DNS says next).
    const checked = await listen("127.0.0.2");
    const rebound = await listen("127.0.0.1", checked.port);
    let answers = 0;
    const rebinding = resolver({ "rebind.test": () => (answers++ === 0 ? ["127.0.0.2"] : ["127.0.0.1"]) });
    const target = await checkTarget(`http://rebind.test:${checked.port}/hooks?x=1`, {
      ...development,
      resolve: rebinding.resolve,
    });
    const answer = await postTo(target, { headers: { "content-type": "application/json" }, body: '{"a":1}', timeoutMs: 5000 });
    expect(answer.status).toBe(200);
    expect(checked.received).toHaveLength(1);
    expect(checked.received[0]).toMatchObject({ url: "/hooks?x=1", host: `rebind.test:${checked.port}`, body: '{"a":1}' });
    expect(rebound.received).toHaveLength(0);
    expect(rebinding.calls).toEqual(["rebind.test"]);
  });
});

describe("the POST", () => {
  it("does not follow a redirect", async () => {
    const elsewhere = await listen("127.0.0.1");
    const redirecting = await listen("127.0.0.1", 0, 307, { location: `http://127.0.0.1:${elsewhere.port}/` });
    const target = await checkTarget(`http://127.0.0.1:${redirecting.port}/`, development);
    expect(await postTo(target, { headers: {}, body: "{}", timeoutMs: 5000 })).toEqual({ status: 307 });
    expect(elsewhere.received).toHaveLength(0);
  });

  it("fails with the same words for a closed port and a timeout", async () => {
    const closed = await listen("127.0.0.1");
    await closed.close();
    const silent = await listen("127.0.0.1", 0, "never");
    const errors = [];
    for (const port of [closed.port, silent.port]) {
      const target = await checkTarget(`http://127.0.0.1:${port}/`, development);
      errors.push(await postTo(target, { headers: {}, body: "{}", timeoutMs: 300 }).catch((err) => err));
    }
    for (const err of errors) {
      expect(err).toBeInstanceOf(NetworkError);
      expect(err.message).toBe("the endpoint could not be reached");
    }
    expect((errors[0].cause as NodeJS.ErrnoException).code).toBe("ECONNREFUSED"); // for the worker's log only
  });
});

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

/** A local server that records what it gets and answers `status` (or never, to time a client out). */
async function listen(host: string, port = 0, status: number | "never" = 200, headers: Record<string, string> = {}) {
  const received: Array<{ url: string | undefined; host: string | undefined; body: string }> = [];
  const sockets = new Set<import("node:net").Socket>();
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ url: req.url, host: req.headers.host, body });
      if (status !== "never") res.writeHead(status, headers).end();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  let closed = false;
  const handle = {
    port: (server.address() as AddressInfo).port,
    received,
    close: () =>
      closed
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            closed = true;
            for (const socket of sockets) socket.destroy();
            server.close(() => resolve());
          }),
  };
  servers.push(handle);
  return handle;
}

// Mutual TLS to Temporal, as a self-hosted cluster or an mTLS Temporal Cloud namespace takes it:
// a TLS front (node:tls, asking for a client certificate signed by our CA, ALPN h2) before the run's
// dev server. With TEMPORAL_TLS_* set, the client (API, CLI) and the worker's native connection
// both get through; without the client certificate, the handshake is refused.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";
import { NativeConnection } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ConfigError } from "../config.ts";
import { temporalSecurity } from "../infra/temporal-tls.ts";
import { connectClient } from "../wiring.ts";
import { runCodec } from "./support/stack.ts";

let dir: string;
let front: tls.Server;
let address: string;
const env: Record<string, string> = {};

function openssl(...args: string[]) {
  execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "temporal-tls-"));
  writeFileSync(path.join(dir, "san.ext"), "subjectAltName=DNS:temporal.test\nextendedKeyUsage=serverAuth,clientAuth\n");
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=test CA",
  );
  for (const name of ["server", "client"]) {
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "1",
      "-extfile",
      "san.ext",
    );
  }
  const [host, port] = inject("temporalAddress").split(":");
  const file = (name: string) => readFileSync(path.join(dir, name));
  front = tls.createServer(
    {
      key: file("server.key"),
      cert: file("server.pem"),
      ca: file("ca.pem"),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ["h2"],
    },
    (socket) => {
      const upstream = net.connect(Number(port), host);
      socket.pipe(upstream).pipe(socket);
      const close = () => {
        socket.destroy();
        upstream.destroy();
      };
      socket.on("error", close);
      upstream.on("error", close);
    },
  );
  await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
  address = `127.0.0.1:${(front.address() as net.AddressInfo).port}`;
  Object.assign(env, {
    TEMPORAL_TLS_CA: path.join(dir, "ca.pem"),
    TEMPORAL_TLS_CERT: path.join(dir, "client.pem"),
    TEMPORAL_TLS_KEY: path.join(dir, "client.key"),
    TEMPORAL_TLS_SERVER_NAME: "temporal.test",
  });
});

afterAll(() => {
  front?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `work` with `vars` in process.env (what wiring.ts reads), then puts it back. */
async function withEnv<T>(vars: Record<string, string>, work: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await work();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe("Temporal over mutual TLS", () => {
  it("the client and the worker's connection get through with the client certificate", async () => {
    await withEnv(env, async () => {
      const temporal = await connectClient({ address, namespace: "default", codec: runCodec() });
      try {
        const info = await temporal.client.workflowService.getSystemInfo({});
        expect(info.serverVersion).toBeTruthy();
      } finally {
        await temporal.close();
      }
      const native = await NativeConnection.connect({ address, ...temporalSecurity() });
      await native.close();
    });
  });

  it("without the client certificate the front refuses the handshake", async () => {
    const { TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY, ...caOnly } = env;
    await expect(
      withEnv(caOnly, async () => {
        const temporal = await connectClient({ address, namespace: "default", codec: runCodec() }, { connectTimeoutMs: 3_000 });
        try {
          await temporal.client.workflowService.getSystemInfo({});
        } finally {
          await temporal.close();
        }
      }),
    ).rejects.toThrow();
  });

  it("settings that cannot work name their variable", () => {
    expect(() => temporalSecurity({ TEMPORAL_TLS_CERT: env.TEMPORAL_TLS_CERT })).toThrow(ConfigError);
    expect(() => temporalSecurity({ TEMPORAL_TLS_CERT: env.TEMPORAL_TLS_CERT })).toThrow(/TEMPORAL_TLS_KEY/);
    expect(() => temporalSecurity({ TEMPORAL_TLS_CA: "/nonexistent.pem" })).toThrow(/TEMPORAL_TLS_CA: cannot read/);
    expect(() => temporalSecurity({ TEMPORAL_TLS: "yes" })).toThrow(/TEMPORAL_TLS must be true or false/);
    expect(temporalSecurity({})).toEqual({});
    expect(temporalSecurity({ TEMPORAL_API_KEY: "k" })).toEqual({ tls: {}, apiKey: "k" });
  });
});

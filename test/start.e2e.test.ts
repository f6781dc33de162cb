// `npm start` as a newcomer runs it: the whole embedded stack comes up (its storefront with the
// development publishable key), a checkout completes and shows in Temporal (its three steps, its
// payloads encrypted with the data folder's development key, read through the codec server),
// SIGTERM stops everything with no process left behind, and a second start finds the earlier
// checkout (with the same key).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chmod, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { devSecretFiles } from "../codec/dev-secrets.ts";
import { projectRoot } from "../config.ts";
import { freePort } from "../infra/free-port.ts";
import { call, startCheckout, until, useKeyFor, validCheckout, waitForCheckout } from "./support/http.ts";
import { readable } from "./support/payload-text.ts";

const run = promisify(execFile);
let dataDir: string;
let env: NodeJS.ProcessEnv;
let ports: {
  api: number;
  temporal: number;
  ui: number;
  pg: number;
  smtp: number;
  codec: number;
  apiMetrics: number;
  workerMetrics: number;
};
const started: ChildProcess[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "checkout-start-"));
  await chmod(dataDir, 0o755);
  ports = {
    api: await freePort(),
    temporal: await freePort(),
    ui: await freePort(),
    pg: await freePort(),
    smtp: await freePort(),
    codec: await freePort(),
    apiMetrics: await freePort(),
    workerMetrics: await freePort(),
  };
  const { TEMPORAL_ADDRESS, DATABASE_URL, SMTP_URL, PAYLOAD_ENCRYPTION_KEYS, CODEC_SERVER_TOKEN, ...rest } = process.env;
  env = {
    ...rest,
    DATA_DIR: dataDir,
    PORT: String(ports.api),
    TEMPORAL_DEV_PORT: String(ports.temporal),
    TEMPORAL_DEV_UI_PORT: String(ports.ui),
    EMBEDDED_POSTGRES_PORT: String(ports.pg),
    SMTP_CATCHER_PORT: String(ports.smtp),
    CODEC_SERVER_PORT: String(ports.codec),
    API_METRICS_PORT: String(ports.apiMetrics),
    WORKER_METRICS_PORT: String(ports.workerMetrics),
    TEMPORAL_CLI_PATH: inject("temporalCli"),
  };
});

afterAll(async () => {
  for (const child of started) {
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await rm(dataDir, { recursive: true, force: true });
});

/** Runs `npm start` in its own process group and resolves once it prints that it is up. */
async function npmStart(): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn("npm", ["start"], { cwd: projectRoot, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  started.push(child);
  let output = "";
  child.stdout?.on("data", (c) => (output += c));
  child.stderr?.on("data", (c) => (output += c));
  const deadline = Date.now() + 120_000;
  while (!output.includes("Checkout is up.")) {
    if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up in time:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { child, output: () => output };
}

/** Sends the signal to the whole process group (as Ctrl-C does) and waits until all of it is gone. */
async function stop(child: ChildProcess, signal: NodeJS.Signals, output: () => string): Promise<void> {
  const group = child.pid!;
  process.kill(-group, signal);
  const deadline = Date.now() + 30_000;
  while (await groupAlive(group)) {
    if (Date.now() > deadline) {
      throw new Error(`process group ${group} still alive 30 s after ${signal}; its last output:\n${output().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function groupAlive(group: number): Promise<boolean> {
  const { stdout } = await run("ps", ["-eo", "pgid=,stat="]);
  return stdout.split("\n").some((line) => {
    const [pgid, stat] = line.trim().split(/\s+/);
    return Number(pgid) === group && !stat?.startsWith("Z");
  });
}

/** Processes still alive that belong to this stack (they all name its data folder or ports). */
async function leftovers(): Promise<string[]> {
  const { stdout } = await run("ps", ["-eo", "pid,args"]);
  return stdout.split("\n").filter((line) => line.includes(dataDir) || line.includes(`--port ${ports.temporal}`));
}

describe("npm start", () => {
  const api = () => `http://127.0.0.1:${ports.api}`;
  let checkoutId: string;

  it("brings the stack up; a checkout completes and its history shows the three steps", { timeout: 180_000 }, async () => {
    const { child, output } = await npmStart();
    expect(output()).toContain(`API docs     ${api()}/docs`);
    expect(output()).toContain(`Temporal UI  http://127.0.0.1:${ports.ui}`);
    // The development merchant's key, printed for the curl example; without it, nothing but /health.
    const key = /secret (sk_\S+)/.exec(output())?.[1];
    expect(key).toBeDefined();
    expect(output()).toContain(`-H "Authorization: Bearer ${key}"`);
    expect((await call(api(), "GET", "/checkouts/chk_0")).status).toBe(401);
    // The storefront, printed first among the things to open, pays with the printed publishable key.
    expect(output()).toContain(`Store        ${api()}/store`);
    const publishable = /publishable (pk_\S+)/.exec(output())?.[1];
    expect((await call(api(), "GET", "/store/config.json")).json).toEqual({ publishableKey: publishable });
    useKeyFor(api(), key!);

    checkoutId = await startCheckout(api(), validCheckout(), "readme-example");
    const done = await waitForCheckout(api(), checkoutId);
    expect(done.status).toBe("COMPLETED");
    expect((await call(api(), "GET", "/health")).json.status).toBe("ok");
    expect((await fetch(`http://127.0.0.1:${ports.ui}/`)).status).toBe(200);
    expect((await readdir(path.join(dataDir, "mail"))).filter((f) => f.endsWith(".eml"))).toHaveLength(1);

    // Metrics on their own ports, printed in the banner; the request lines are JSON with the checkout's id.
    const metrics = {
      api: `http://127.0.0.1:${ports.apiMetrics}/metrics`,
      worker: `http://127.0.0.1:${ports.workerMetrics}/metrics`,
    };
    expect(output()).toContain(`Metrics      API ${metrics.api}  worker ${metrics.worker}`);
    const posted = /^http_requests_total\{method="POST",route="\/checkouts",status="202"\} 1$/m;
    expect(await (await fetch(metrics.api)).text()).toMatch(posted);
    const completed = /^temporal_workflow_completed_total\{[^}]*workflow_type="checkout"[^}]*\} 1$/m;
    await until(async () => (completed.test(await (await fetch(metrics.worker)).text()) ? true : undefined));
    const requestLine = output()
      .split("\n")
      .find((line) => line.includes(`"checkoutId":"${checkoutId}"`) && line.includes(`"msg":"request"`));
    expect(JSON.parse(requestLine!)).toMatchObject({ level: "info", method: "POST", route: "/checkouts", status: 202 });

    const { stdout } = await run(inject("temporalCli"), [
      "workflow",
      "show",
      "-w",
      `checkout-${checkoutId}`,
      "--address",
      `127.0.0.1:${ports.temporal}`,
      "-o",
      "json",
    ]);
    // The order step is a local activity (a marker in the history), the charge and the email activities.
    expect(stdout).toMatch(/"markerName":\s*"core_local_activity"/);
    const activities = [...stdout.matchAll(/"activityType":\s*\{\s*"name":\s*"(\w+)"/g)].map((m) => m[1]);
    expect(activities).toEqual(["initiatePayment", "sendNotification"]);

    // Encrypted with a development key made in the data folder; the codec server reads it back,
    // with the token kept there too (never printed), and the dev server's Web UI is pointed at it.
    const secrets = devSecretFiles(dataDir);
    expect(await readFile(secrets.payloadEncryptionKeys, "utf8")).toMatch(/^dev-[0-9a-f]{6}:/);
    const token = (await readFile(secrets.codecServerToken, "utf8")).trim();
    expect(output()).not.toContain(token);
    const endpoint = `http://127.0.0.1:${ports.codec}/codec`;
    expect(output()).toContain(`Codec server ${endpoint}`);
    expect(readable(stdout)).not.toContain("ada@example.com");
    const decoded = await run(inject("temporalCli"), [
      ...["workflow", "show", "-w", `checkout-${checkoutId}`, "--address", `127.0.0.1:${ports.temporal}`, "-o", "json"],
      ...["--codec-endpoint", endpoint, "--codec-auth", `Bearer ${token}`],
    ]);
    expect(readable(decoded.stdout)).toContain("ada@example.com");
    expect(await (await fetch(`http://127.0.0.1:${ports.ui}/api/v1/settings`)).text()).toContain(`${endpoint}/${token}`);

    await stop(child, "SIGINT", output); // Ctrl-C
    expect(output()).toContain("SIGINT: stopping");
    expect(output()).not.toMatch(/stopping [\w ]+: /); // no component failed to stop
    expect(await leftovers()).toEqual([]);
  });

  it("a second start finds the earlier checkout still there", { timeout: 180_000 }, async () => {
    expect(checkoutId).toBeDefined();
    const key = await readFile(devSecretFiles(dataDir).payloadEncryptionKeys, "utf8");
    const { child, output } = await npmStart();
    expect(output()).toContain("secret sk_"); // the same key, kept in the data folder
    expect(await readFile(devSecretFiles(dataDir).payloadEncryptionKeys, "utf8")).toBe(key);
    const res = await call(api(), "GET", `/checkouts/${checkoutId}`);
    expect(res.status).toBe(200);
    expect(res.json.status).toBe("COMPLETED");
    // Paid, and delivered once npm start's development timer (30 s after payment) has run.
    expect(["PAID", "DELIVERED"]).toContain(res.json.order.status);
    await stop(child, "SIGTERM", output);
    expect(output()).toContain("SIGTERM: stopping");
    expect(await leftovers()).toEqual([]);
  });
});

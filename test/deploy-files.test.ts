// docker-compose.yml cannot run here (no Docker engine), so it is checked against the code:
// every variable it sets is one the code reads and the README documents, every command is an
// npm script, every image is pinned, every dependency names a service. The README's
// configuration table and config.ts are held to each other too.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { projectRoot } from "../config.ts";

const read = (file: string) => readFileSync(path.join(projectRoot, file), "utf8");
const compose = parse(read("docker-compose.yml"), { merge: true }) as {
  services: Record<
    string,
    {
      image?: string;
      build?: string;
      command?: string[];
      environment?: Record<string, string>;
      ports?: string[];
      depends_on?: Record<string, { condition: string }>;
      restart?: string;
      healthcheck?: { test: string[] };
      deploy?: { replicas?: number };
    }
  >;
};
const scripts = JSON.parse(read("package.json")).scripts as Record<string, string>;
/** Variables the code reads: `env.NAME` and `env, "NAME"` in config.ts, plus the few read directly. */
const gatewayFiles = readdirSync(path.join(projectRoot, "providers")).map((f) => `providers/${f}`);
const codeVariables = new Set(
  [
    // Settings read beside config.ts: Temporal's TLS, the broker's TLS and credentials.
    ...["config.ts", "infra/temporal-tls.ts", "activities/broker.ts"].flatMap((f) => [
      ...read(f).matchAll(/env(?:\.|, ")([A-Z][A-Z0-9_]+)/g),
    ]),
    ...["start.ts", "infra/temporal-cli.ts"].flatMap((f) => [...read(f).matchAll(/process\.env\.([A-Z][A-Z0-9_]+)/g)]),
    // The providers' own variables: what each adapter reads and requires.
    ...gatewayFiles.flatMap((f) => [...read(f).matchAll(/env\.([A-Z][A-Z0-9_]+)|requiredVariables: \[([^\]]*)\]/g)]),
  ].flatMap((m) => (m[2] ? [...m[2].matchAll(/"([A-Z0-9_]+)"/g)].map((v) => v[1]) : [m[1]])),
);
// The Configuration section's table (the bench's BENCH_* options have a table of their own).
const configurationSection =
  read("README.md")
    .split(/^## /m)
    .find((section) => section.startsWith("Configuration")) ?? "";
const readmeVariables = new Set([...configurationSection.matchAll(/^\| `([A-Z][A-Z0-9_]+)` +\|/gm)].map((m) => m[1]));
const appServices = Object.entries(compose.services).filter(([, s]) => s.build);
/** The services that talk to Temporal and the database (the codec server needs neither). */
const serviceNodes = appServices.filter(([name]) => name !== "codec");

describe("configuration", () => {
  it("the README's table lists exactly the variables the code reads", () => {
    expect(codeVariables.size).toBeGreaterThan(10);
    expect([...readmeVariables].sort()).toEqual([...codeVariables].filter((v) => v !== "PATH").sort());
  });
});

describe("package.json scripts", () => {
  // The tsx CLI runs the program in a child process and relays SIGINT/SIGTERM to it; a child that
  // does not acknowledge within 60 ms (a busy moment at shutdown) is SIGKILLed, skipping the
  // graceful stop. `node --import tsx` runs the program in one process, which gets the signal itself.
  it.each(["start", "worker", "api", "codec-server"])(
    "runs %s in one process, so a stop signal reaches its own handlers",
    (name) => {
      expect(scripts[name]).toMatch(/^node --import tsx \S+\.ts$/);
    },
  );
});

describe("docker-compose.yml", () => {
  it("sets only variables the code reads", () => {
    for (const [name, service] of appServices) {
      for (const variable of Object.keys(service.environment ?? {})) {
        expect(codeVariables.has(variable), `${name}: ${variable}`).toBe(true);
      }
    }
  });

  it("runs the api, worker and migrations with the project's own npm scripts", () => {
    const commands = appServices.map(([, s]) => s.command ?? []);
    for (const command of commands) {
      expect(command.slice(0, 2)).toEqual(["npm", "run"]);
      expect(scripts[command[2]], command.join(" ")).toBeDefined();
    }
    expect(commands.map((c) => c[2]).sort()).toEqual(["api", "codec-server", "db:migrate", "worker"]);
    expect(read("Dockerfile")).toMatch(/CMD \["npm", "run", "api"\]/);
  });

  it("points the app at the services it defines, with matching ports", () => {
    const api = compose.services.api;
    expect(api.ports).toEqual([`${api.environment?.PORT}:${api.environment?.PORT}`]);
    for (const [name, service] of serviceNodes) {
      const env = service.environment ?? {};
      expect(new URL(env.DATABASE_URL).hostname, name).toBe("postgres");
      expect(env.TEMPORAL_ADDRESS, name).toBe("temporal:7233");
      expect(new URL(env.SMTP_URL).hostname, name).toBe("mailpit");
    }
  });

  it("publishes only the API on every interface; Temporal, its UI, the mail catcher and NATS only on 127.0.0.1", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const port of service.ports ?? []) {
        if (name === "api") expect(port, name).toMatch(/^\d+:\d+$/);
        else expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
      }
    }
  });

  it("keeps the sandbox provider off in every app service that could serve it", () => {
    // The codec server serves no payments: it is given only its keys and token.
    for (const [name, service] of appServices.filter(([name]) => name !== "codec")) {
      expect(service.environment?.SANDBOX_ENABLED, name).toBe("false");
    }
  });

  it("encrypts with one set of keys everywhere and points the Web UI at the codec server", () => {
    const codec = compose.services.codec.environment ?? {};
    const keys = codec.PAYLOAD_ENCRYPTION_KEYS;
    expect(keys).toMatch(/^\$\{PAYLOAD_ENCRYPTION_KEYS:\?/); // from .env, never a key in this file
    for (const [name, service] of appServices) {
      if (name !== "migrate") expect(service.environment?.PAYLOAD_ENCRYPTION_KEYS, name).toBe(keys);
    }
    expect(codec.CODEC_SERVER_TOKEN).toMatch(/^\$\{CODEC_SERVER_TOKEN:\?/);
    expect(compose.services.codec.ports).toEqual([`127.0.0.1:${codec.CODEC_SERVER_PORT}:${codec.CODEC_SERVER_PORT}`]);
    expect(compose.services.codec.healthcheck?.test.join(" ")).toContain(`127.0.0.1:${codec.CODEC_SERVER_PORT}/health`);
    const ui = compose.services["temporal-ui"].environment ?? {};
    expect(ui.TEMPORAL_CODEC_ENDPOINT).toBe(`http://localhost:${codec.CODEC_SERVER_PORT}/codec/${codec.CODEC_SERVER_TOKEN}`);
    expect(codec.CODEC_CORS_ORIGINS.split(",")).toContain(ui.TEMPORAL_CORS_ORIGINS);
  });

  it("restarts every service that dies and checks the health of each long-running one", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (name === "migrate") {
        expect(service.restart, name).toBe("on-failure");
        continue;
      }
      expect(service.restart, name).toBe("unless-stopped");
      expect(service.healthcheck?.test.length, `${name} has a healthcheck`).toBeGreaterThan(0);
    }
    // The worker answers its health check on the port the code reads.
    const worker = compose.services.worker;
    expect(worker.environment?.WORKER_HEALTH_PORT).toMatch(/^\d+$/);
    expect(worker.healthcheck?.test.join(" ")).toContain(`127.0.0.1:${worker.environment?.WORKER_HEALTH_PORT}`);
    expect(worker.deploy?.replicas).toBeGreaterThanOrEqual(2);
    for (const dependency of Object.values(worker.depends_on ?? {})) expect(dependency.condition).not.toBe("service_started");
  });

  it("pins every image and depends only on services it defines", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.image) expect(service.image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
      if (service.image) expect(service.image, name).not.toMatch(/:latest$/);
      for (const dependency of Object.keys(service.depends_on ?? {})) {
        expect(compose.services[dependency], `${name} -> ${dependency}`).toBeDefined();
      }
    }
  });
});

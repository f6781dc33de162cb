import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { findTemporalCli } from "../../infra/temporal-cli.ts";

const saved = { cli: process.env.TEMPORAL_CLI_PATH, path: process.env.PATH };
let dir: string;
/** The real CLI, as this machine finds it (PATH, else the one `npm install` fetched). */
let real: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "temporal-cli-test-"));
  real = await findTemporalCli({ log: () => {} });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  if (saved.cli === undefined) delete process.env.TEMPORAL_CLI_PATH;
  else process.env.TEMPORAL_CLI_PATH = saved.cli;
  process.env.PATH = saved.path;
});

const quiet = { install: false, log: () => {} };

describe("findTemporalCli with TEMPORAL_CLI_PATH", () => {
  it("rejects a file that is not executable, naming TEMPORAL_CLI_PATH", async () => {
    const file = path.join(dir, "temporal");
    await writeFile(file, "#!/bin/sh\necho 'temporal version 1.0.0'\n");
    await chmod(file, 0o644);
    process.env.TEMPORAL_CLI_PATH = file;
    await expect(findTemporalCli(quiet)).rejects.toThrow(/TEMPORAL_CLI_PATH/);
  });

  it("rejects a path that does not exist, naming TEMPORAL_CLI_PATH and the path", async () => {
    const file = path.join(dir, "missing", "temporal");
    process.env.TEMPORAL_CLI_PATH = file;
    const error = await findTemporalCli(quiet).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error?.message).toContain("TEMPORAL_CLI_PATH");
    expect(error?.message).toContain(file);
  });

  it("rejects an executable that is not the Temporal CLI", async () => {
    process.env.TEMPORAL_CLI_PATH = process.execPath;
    await expect(findTemporalCli(quiet)).rejects.toThrow(/TEMPORAL_CLI_PATH/);
  });

  it("does not fall back to PATH when TEMPORAL_CLI_PATH is wrong", async () => {
    process.env.TEMPORAL_CLI_PATH = path.join(dir, "nope");
    process.env.PATH = `${path.dirname(real)}${path.delimiter}${process.env.PATH ?? ""}`;
    await expect(findTemporalCli(quiet)).rejects.toThrow(/TEMPORAL_CLI_PATH/);
  });

  it("resolves to the real binary it points at", async () => {
    process.env.TEMPORAL_CLI_PATH = real;
    await expect(findTemporalCli(quiet)).resolves.toBe(real);
  });
});

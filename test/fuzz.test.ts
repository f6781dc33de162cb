// An API fuzz run: Schemathesis (PyPI, pinned, installed into .tools/ on first use) against the
// stack's own /openapi.json with a secret key of every scope. No answer may be a 5xx, and every
// answer must match the document: its status code, content type, headers and body; requests the
// document allows must be taken and those it forbids refused; a request without the key must be
// refused; what is created can be read back and what is deleted is gone. The checks, the bounds
// (about a minute here), the seed, the one operation left out and the narrow exceptions, each
// with its reason: test/support/schemathesis.toml and test/support/schemathesis_hooks.py.
// Skipped, saying so, only where this machine has no Python 3 with pip.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { projectRoot } from "../config.ts";
import { findSchemathesis, type Schemathesis } from "./support/schemathesis.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";

const NO_PIP = "no Python 3 with pip on this machine (tried python3 -m pip, pip3, pip, python -m pip), so no Schemathesis";
/** The whole run's limit: it takes about a minute here; past this it is stopped and fails. */
const RUN_TIMEOUT_MS = 240_000;
const report = path.join(projectRoot, "test-results", "schemathesis.txt");

let schemathesis: Schemathesis | undefined;
let stack: TestStack | undefined;

beforeAll(async () => {
  schemathesis = await findSchemathesis();
  if (!schemathesis) {
    console.warn(`fuzz.test.ts SKIPPED: ${NO_PIP}.`);
    return;
  }
  stack = await startTestStack();
}, 660_000);

afterAll(async () => {
  await stack?.stop();
});

it(
  "answers no 5xx and only what its OpenAPI document says, to a Schemathesis run",
  async ({ skip }) => {
    if (!schemathesis || !stack) return skip(NO_PIP);
    const { command } = schemathesis;
    // Hypothesis keeps some caches on disk: in a folder of the run's own, not the work tree.
    const hypothesisDir = await mkdtemp(path.join(tmpdir(), "checkout-hypothesis-"));
    const args = [
      "--config-file",
      path.join(projectRoot, "test", "support", "schemathesis.toml"),
      "run",
      `${stack.url}/openapi.json`,
      "--no-color",
    ];
    const env = {
      ...process.env,
      ...schemathesis.env,
      CHECKOUT_FUZZ_KEY: stack.secretKey,
      HYPOTHESIS_STORAGE_DIRECTORY: hypothesisDir,
    };
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      execFile(
        command,
        args,
        { cwd: projectRoot, env, timeout: RUN_TIMEOUT_MS, killSignal: "SIGKILL", maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
          const stopped = err?.killed ? `\n(stopped after ${RUN_TIMEOUT_MS / 1000} s)` : "";
          resolve({ code, output: `${stdout}${stderr}${stopped}` });
        },
      );
    }).finally(() => rm(hypothesisDir, { recursive: true, force: true }));
    await mkdir(path.dirname(report), { recursive: true });
    await writeFile(report, result.output);
    expect(result.code, `Schemathesis' report (also in ${path.relative(projectRoot, report)}):\n${result.output}`).toBe(0);
  },
  RUN_TIMEOUT_MS + 30_000,
);

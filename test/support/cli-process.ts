// The operator CLI (cli/checkout.ts) as a real child process, pointed at the test run's Temporal
// server and database.
import { type ChildProcess, spawn } from "node:child_process";
import { inject } from "vitest";
import { projectRoot } from "../../config.ts";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `node --import tsx cli/checkout.ts …` pointed at the test run's servers. */
export function spawnCli(
  args: string[],
  env: Record<string, string | undefined> = {},
): { child: ChildProcess; done: Promise<CliRun>; stderr: () => string } {
  const merged: Record<string, string | undefined> = {
    ...process.env,
    TEMPORAL_ADDRESS: inject("temporalAddress"),
    TEMPORAL_NAMESPACE: "default",
    DATABASE_URL: inject("databaseUrl"),
    PAYLOAD_ENCRYPTION_KEYS: inject("payloadEncryptionKeys"),
    ...env,
  };
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  const child = spawn(process.execPath, ["--import", "tsx", "cli/checkout.ts", ...args], {
    cwd: projectRoot,
    env: merged,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const done = new Promise<CliRun>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`checkout ${args.join(" ")} did not end in 90 s\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, 90_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, done, stderr: () => stderr };
}

export const cli = (args: string[], env?: Record<string, string | undefined>) => spawnCli(args, env).done;

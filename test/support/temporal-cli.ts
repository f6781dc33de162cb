// The real `temporal` CLI, on the test run's server.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { inject } from "vitest";

const run = promisify(execFile);

/** Runs `temporal <args> --address <the run's server>` and returns what it printed. */
export async function temporalCli(args: string[]): Promise<string> {
  const { stdout } = await run(inject("temporalCli"), [...args, "--address", inject("temporalAddress")]);
  return stdout;
}

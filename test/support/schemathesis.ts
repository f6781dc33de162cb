// Schemathesis (PyPI), pinned, for the fuzz run (test/fuzz.test.ts): the copy in the project's
// .tools folder, installed there with this machine's pip when it is missing, as the Temporal CLI is.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { installWheel, toolDir } from "../../infra/temporal-cli.ts";

const run = promisify(execFile);

export const SCHEMATHESIS_VERSION = "4.32.5";
const target = toolDir("schemathesis", SCHEMATHESIS_VERSION);

export interface Schemathesis {
  /** The `st` script pip wrote, which starts the Python that installed it. */
  command: string;
  /** What it needs in its environment: its packages, from the .tools folder. */
  env: Record<string, string>;
}

const installed: Schemathesis = { command: path.join(target, "bin", "st"), env: { PYTHONPATH: target } };

async function works(): Promise<boolean> {
  try {
    const { stdout } = await run(installed.command, ["--version"], {
      env: { ...process.env, ...installed.env },
      timeout: 60_000,
    });
    return stdout.includes(`version ${SCHEMATHESIS_VERSION}`);
  } catch {
    return false;
  }
}

/**
 * Schemathesis, installed first if missing; undefined only when this machine has no Python 3 with
 * pip at all. A pip that is there but fails (no network to PyPI, say) is an error, not a skip.
 */
export async function findSchemathesis(log: (line: string) => void = console.log): Promise<Schemathesis | undefined> {
  if (await works()) return installed;
  const result = await installWheel(`schemathesis==${SCHEMATHESIS_VERSION}`, target, works, log);
  if (result.installed) return installed;
  if (!result.pipFound) return undefined;
  throw new Error(`Could not install schemathesis==${SCHEMATHESIS_VERSION} into ${target}: ${result.error}`);
}

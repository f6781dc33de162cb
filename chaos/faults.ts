// The faults, each struck while checkouts are in flight: a power cut of everything, each worker
// killed in turn, the API killed, the Temporal server killed, PostgreSQL killed; each process
// started again on the same port and data, as a supervisor (or an operator) would.
import { type Cluster, SERVICES, type ServiceName, sleep } from "./cluster.ts";

export interface Fault {
  name: string;
  what: string;
  strike(cluster: Cluster): Promise<void>;
}

/** How long a killed process stays down before it is started again. */
const DOWN_MS = 1_500;

const killAndRestart = async (cluster: Cluster, names: ServiceName[]) => {
  for (const name of names) await cluster.kill(name);
  await sleep(DOWN_MS);
  // Dependencies first, as they would come back up after a power cut.
  for (const name of SERVICES.filter((s) => names.includes(s))) await cluster.restart(name);
};

export const FAULTS: Fault[] = [
  {
    name: "power-cut",
    what: "SIGKILL of every process, then all started again on the same data",
    strike: (cluster) => killAndRestart(cluster, ["worker-1", "worker-2", "api", "temporal", "postgres"]),
  },
  {
    name: "workers",
    what: "SIGKILL of one worker, then of the other, each started again",
    async strike(cluster) {
      await killAndRestart(cluster, ["worker-1"]);
      await killAndRestart(cluster, ["worker-2"]);
    },
  },
  { name: "api", what: "SIGKILL of the API (and the sandbox inside it)", strike: (c) => killAndRestart(c, ["api"]) },
  { name: "temporal", what: "SIGKILL of the Temporal server", strike: (c) => killAndRestart(c, ["temporal"]) },
  { name: "postgres", what: "SIGKILL of PostgreSQL", strike: (c) => killAndRestart(c, ["postgres"]) },
];

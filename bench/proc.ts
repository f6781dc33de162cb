// CPU and memory of process trees, read from Linux's /proc. A process's CPU is its utime + stime
// plus cutime + cstime (the children it has reaped): summed over a tree's live processes, a
// PostgreSQL backend that ended mid-phase still counts, once, in its postmaster.
import { execFileSync } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";

export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime + cutime + cstime, in clock ticks. */
  ticks: number;
}

/** Clock ticks per second (`getconf CLK_TCK`, 100 nearly everywhere). */
export const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** /proc/<pid>/stat: the command name is in parentheses and may hold spaces, so fields count from its end. */
export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const fields = text.slice(close + 2).split(" "); // fields[0] is the state (field 3)
  const at = (n: number) => Number(fields[n - 3]);
  return {
    pid: Number(text.slice(0, open)),
    ppid: at(4),
    comm: text.slice(open + 1, close),
    ticks: at(14) + at(15) + at(16) + at(17),
  };
}

export async function readProcesses(): Promise<ProcStat[]> {
  const pids = (await readdir("/proc")).filter((name) => /^\d+$/.test(name));
  const stats = await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/stat`, "utf8").then(parseStat, () => undefined)));
  return stats.filter((s): s is ProcStat => s !== undefined);
}

/** The process and all its descendants. */
export function tree(processes: readonly ProcStat[], root: number): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const p of processes) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const found = processes.filter((p) => p.pid === root);
  for (let i = 0; i < found.length; i++) found.push(...(children.get(found[i].pid) ?? []));
  return found;
}

/**
 * Clock ticks per group: each root's tree goes to its group, except the Temporal server and
 * PostgreSQL processes under it, which go to their own (the embedded stack runs both under the
 * service's node process).
 */
export function ticksByGroup(
  processes: readonly ProcStat[],
  roots: ReadonlyArray<[group: string, pid: number]>,
): Record<string, number> {
  const groups: Record<string, number> = {};
  const add = (group: string, ticks: number) => {
    groups[group] = (groups[group] ?? 0) + ticks;
  };
  for (const [group, root] of roots) {
    for (const p of tree(processes, root)) {
      if (p.comm === "temporal") add("temporal", p.ticks);
      else if (p.comm.startsWith("postgres")) add("postgres", p.ticks);
      else add(group, p.ticks);
    }
  }
  return groups;
}

/** Resident memory in MiB (VmRSS); NaN once the process is gone. */
export async function rssMiB(pid: number | undefined): Promise<number> {
  if (pid === undefined) return Number.NaN;
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

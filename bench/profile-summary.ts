// A .cpuprofile's busy time by owner: each sample goes to the nearest frame, from the leaf up, that
// is not Node's own or native code, and that frame's package or source folder to its group. Time
// Node spends on a library's behalf (its sockets, its promises) so counts as the library's.
import { readFile } from "node:fs/promises";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface OwnerShare {
  owner: string;
  ms: number;
  share: number;
}

/** Checked in order: the first match names the owner. */
const OWNERS: Array<[RegExp, string]> = [
  [/^(@prisma\/|wasm:|pg$|pg-|postgres-)/, "database client (Prisma, its query compiler, pg)"],
  [
    /^(@temporalio\/|rxjs$|webpack$|@grpc\/|protobufjs$|long$|heap-js$|@swc\/|swc-loader$|source-map-loader$)/,
    "Temporal SDK (worker, client, workflow bundle)",
  ],
  [/^(hono$|@hono\/|zod$|rate-limiter-flexible$)/, "HTTP API (Hono, zod, rate limits)"],
  [/^(nodemailer$|smtp-server$|mailparser$|lib(mime|qp|base64)$)/, "SMTP (nodemailer; the in-process catcher)"],
  [/^(pino|sonic-boom$|thread-stream$|@opentelemetry\/|prom-client$)/, "logs, metrics, traces"],
  [/^(tsx$|esbuild$|get-tsconfig$)/, "TypeScript loader (tsx)"],
  [/^app:(sandbox|providers)\//, "sandbox provider and the adapter calling it"],
  [/^app:codec\//, "payload encryption (codec/)"],
  [/^app:archive\//, "archive (copy, redact)"],
  [/^app:/, "the service's own code, other"],
];

/** Where a frame's code comes from: a package name, `app:<path>`, or "" for Node's own and native code. */
function sourceOf(url: string, root: string): string {
  if (!url || url.startsWith("node:")) return "";
  if (url.startsWith("wasm:")) return "wasm:";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const path = url.replace(/^file:\/\//, "");
  return path.startsWith(`${root}/`) ? `app:${path.slice(root.length + 1)}` : path;
}

export function ownersOf(profile: CpuProfile, root: string): { busyMs: number; owners: OwnerShare[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const ownerOf = new Map<number, string>(); // memoised per leaf node
  const find = (id: number): string => {
    const known = ownerOf.get(id);
    if (known) return known;
    const leaf = byId.get(id)?.callFrame.functionName;
    let owner = leaf === "(garbage collector)" ? "garbage collector" : undefined;
    for (let cur: number | undefined = id; !owner && cur !== undefined; cur = parent.get(cur)) {
      const source = sourceOf(byId.get(cur)?.callFrame.url ?? "", root);
      if (source) owner = OWNERS.find(([pattern]) => pattern.test(source))?.[1] ?? `other (${source})`;
    }
    owner ??= "Node itself (event loop, timers)";
    ownerOf.set(id, owner);
    return owner;
  };
  const ms = new Map<string, number>();
  let busyMs = 0;
  profile.samples.forEach((id, i) => {
    if (byId.get(id)?.callFrame.functionName === "(idle)") return;
    const delta = (profile.timeDeltas[i] ?? 0) / 1000;
    busyMs += delta;
    const owner = find(id);
    ms.set(owner, (ms.get(owner) ?? 0) + delta);
  });
  const owners = [...ms].map(([owner, v]) => ({ owner, ms: v, share: busyMs ? v / busyMs : 0 })).sort((a, b) => b.ms - a.ms);
  return { busyMs, owners };
}

export async function summarizeProfile(file: string, root: string) {
  return ownersOf(JSON.parse(await readFile(file, "utf8")) as CpuProfile, root);
}

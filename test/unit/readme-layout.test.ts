// The README's code layout table against the tree: every top-level folder and source file is in
// it, every path it names exists, and every file it names in a folder's row is in that folder.
// A table that goes stale fails here.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../config.ts";

const readme = readFileSync(path.join(projectRoot, "README.md"), "utf8");
const section = readme.slice(readme.indexOf("### Code layout"), readme.indexOf("## Configuration"));
const rows = [...section.matchAll(/^\| (.+?) +\| (.+?) +\|$/gm)]
  .map((m) => ({ paths: [...m[1].matchAll(/`([^`]+)`/g)].map((p) => p[1]), text: m[2] }))
  .filter((row) => row.paths.length > 0);
const tracked = execFileSync("git", ["ls-files"], { cwd: projectRoot, encoding: "utf8" }).split("\n").filter(Boolean);
/** Top-level things a newcomer looks for: source folders and the TypeScript entry points. */
const topLevel = [...new Set(tracked.map((f) => f.split("/")[0]))].filter(
  (name) => !name.startsWith(".") && (statSync(path.join(projectRoot, name)).isDirectory() || name.endsWith(".ts")),
);
const SOURCE = /^[\w.-]+\.(ts|mjs|prisma)$/;

describe("the README's code layout", () => {
  it("has a row", () => {
    expect(rows.length).toBeGreaterThan(10);
  });

  it("names every top-level folder and entry point", () => {
    const named = new Set(rows.flatMap((r) => r.paths).map((p) => p.replace(/\/$/, "")));
    expect(topLevel.filter((name) => !named.has(name))).toEqual([]);
  });

  it("names only paths that exist", () => {
    const missing = rows.flatMap((r) => r.paths).filter((p) => !existsSync(path.join(projectRoot, p)));
    expect(missing).toEqual([]);
  });

  it("names, in a folder's row, only files that are in that folder", () => {
    const stale: string[] = [];
    for (const row of rows) {
      const folders = row.paths.filter((p) => p.endsWith("/"));
      if (folders.length !== 1) continue;
      const folder = folders[0];
      const inFolder = tracked.filter((f) => f.startsWith(folder)).map((f) => f.slice(folder.length));
      for (const [, name] of row.text.matchAll(/`([^`(]+)`/g)) {
        if (!SOURCE.test(name) && !name.endsWith("/")) continue;
        const found = name.endsWith("/")
          ? inFolder.some((f) => f.startsWith(name))
          : inFolder.some((f) => f === name || f.endsWith(`/${name}`));
        if (!found) stale.push(`${folder} ${name}`);
      }
    }
    expect(stale).toEqual([]);
  });
});

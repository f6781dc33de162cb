// The short version of `npm run chaos`: the service in its production shape (separate API and
// worker processes, the Temporal dev server, PostgreSQL), with checkouts in flight, struck by a
// power cut of everything and by a PostgreSQL crash. Every checkout must end, charged at most once,
// its order and its one email matching, with no 500 and no process dying on its own.
import { describe, expect, it } from "vitest";
import { describe as describeResult, passed, runChaos } from "../chaos/run.ts";

describe("fault injection (short)", () => {
  it("a power cut and a PostgreSQL crash: nothing lost, nothing charged twice, one email each", async () => {
    const results = await runChaos({ checkouts: 8, concurrency: 4, faults: ["power-cut", "postgres"], boundSeconds: 150 });
    const report = results.map(describeResult).join("\n");
    console.log(report);
    expect(results.map((r) => r.fault)).toEqual(["power-cut", "postgres"]);
    expect(results.filter((r) => !passed(r)).map(describeResult)).toEqual([]);
    for (const { verdict } of results) expect(verdict.ended).toBe(verdict.started);
  }, 600_000);
});

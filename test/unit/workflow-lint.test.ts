// The rule that keeps workflow code replayable (scripts/lint-workflows.ts), fed a file that
// breaks it in each way, and the project's own workflows, which keep it.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../config.ts";
import { lintWorkflowSource, lintWorkflows } from "../../scripts/lint-workflows.ts";

const workflowsDir = path.join(projectRoot, "workflows");
const lint = (text: string) => lintWorkflowSource(path.join(workflowsDir, "probe.ts"), text, workflowsDir);

describe("workflow imports", () => {
  it.each([
    ['import { Client } from "@temporalio/client";', "@temporalio/client"],
    ['import { loadConfig } from "../config.ts";', "../config.ts"],
    ['import { createDb } from "../prisma/client.ts";', "../prisma/client.ts"],
    ['import { readFileSync } from "node:fs";', "node:fs"],
    ['import { ApplicationFailure } from "@temporalio/common";', "@temporalio/common"],
    ['import { type Activities, createActivities } from "../activities/index.ts";', "../activities/index.ts"],
    ['import "../activities/index.ts";', "../activities/index.ts"],
    ['export { orderTotal } from "../money/amounts.ts";', "../money/amounts.ts"],
  ])("refuses %s", (source, specifier) => {
    expect(lint(source)).toEqual([expect.objectContaining({ line: 1, message: expect.stringContaining(`"${specifier}"`) })]);
  });

  it("refuses dynamic import() and require()", () => {
    const problems = lint('export async function w() {\n  await import("../config.ts");\n  require("pg");\n}\n');
    expect(problems.map((p) => [p.line, p.message])).toEqual([
      [2, "a dynamic import() in workflow code"],
      [3, "require() in workflow code"],
    ]);
  });

  it.each([
    'import { proxyActivities } from "@temporalio/workflow";',
    'import { TASK_QUEUE } from "./definitions.ts";',
    'import type { Activities } from "../activities/index.ts";',
    'import { type Activities, type PaymentRequest } from "../activities/index.ts";',
    'import type { Client } from "@temporalio/client";',
    'export type { CheckoutInput } from "./types.ts";',
  ])("takes %s", (source) => {
    expect(lint(source)).toEqual([]);
  });

  it("holds for every file in workflows/", () => {
    expect(lintWorkflows(workflowsDir)).toEqual([]);
  });
});

// Replay: closed histories recorded with earlier versions of the workflows (test/histories/*.json:
// completed, flaky, declined, outage, failover, 3-D Secure, expired, cancelled, refunds, a risk hold,
// an event sent to two subscribers, checkouts whose events went through the outbox, checkouts
// paid again after a decline or expired waiting for it, and order workflows: shipped and
// delivered, delivered by their timer, cancelled with their refund) replayed
// against the current workflow code. A change to a running workflow's commands that is not behind
// patched() makes them fail; the last tests prove it by removing guards.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from "@temporalio/worker";
import { afterAll, describe, expect, inject, it } from "vitest";
import { historyFromText } from "../archive/history-json.ts";
import { projectRoot } from "../config.ts";
import { recordedHistories } from "./support/replay-corpus.ts";

const histories = recordedHistories();

Runtime.install({ logger: new DefaultLogger("ERROR") });

/** Replays one recorded run under its own workflow id (child workflow ids are derived from it). */
const replay = ({ file, workflowId, history }: (typeof histories)[number], codePath: string) =>
  Worker.runReplayHistory({ workflowBundle: { codePath }, replayName: file }, history, workflowId);

describe("recorded histories replay against the current workflows", () => {
  it("has a corpus to replay", () => {
    expect(histories.map((h) => h.file)).toEqual(
      expect.arrayContaining(["checkout-completed.json", "checkout-declined.json", "refund-succeeded.json"]),
    );
  });

  it.each(histories)("$file", async (recorded) => {
    await replay(recorded, inject("workflowBundlePath"));
  });
});

describe("a change to a running workflow's commands without patched()", () => {
  const mutant = path.join(projectRoot, "test-results", "replay-mutant");
  afterAll(() => rmSync(mutant, { recursive: true, force: true }));

  // Each guard, taken away, breaks the replay of a run from before it: old runs failed over from
  // a provider that refused every connection; old runs started a workflow per event and archived
  // themselves.
  it.each([
    {
      file: "payment-step.ts",
      guarded: "return unavailable(patched(FAILOVER_ONLY_AFTER_LOOKUP) ? false : !check.outcomeUnknown);",
      unguarded: "return unavailable(false);",
      history: "checkout-failover-unreachable-completed.json",
    },
    {
      file: "checkout.ts",
      guarded: "const lean = patched(ONE_WORKFLOW_PER_CHECKOUT);",
      unguarded: "const lean = true;",
      history: "checkout-completed.json",
    },
    // A run started by an API that already sends a window, but declined by a worker from before
    // pay again (a rolling deploy): the patch marker's absence keeps it failing as it did.
    {
      file: "checkout.ts",
      guarded: "    patched(PAY_AGAIN_AFTER_DECLINE)\n",
      unguarded: "    true\n",
      history: "checkout-outbox-declined.json",
      input: { payAgainWindowSeconds: 60 },
    },
    // Likewise a run paid by a worker from before the order workflow, with a delivery timer asked for.
    {
      file: "checkout.ts",
      guarded: "if (input.fulfilmentAutoDeliverSeconds && patched(START_ORDER_WORKFLOW)) {",
      unguarded: "if (input.fulfilmentAutoDeliverSeconds) {",
      history: "checkout-outbox-completed.json",
      input: { fulfilmentAutoDeliverSeconds: 60 },
    },
  ])(
    "fails the replay of a history that ran before it: $file, $history",
    async ({ file, guarded, unguarded, history, input }) => {
      rmSync(mutant, { recursive: true, force: true });
      mkdirSync(mutant, { recursive: true });
      cpSync(path.join(projectRoot, "workflows"), path.join(mutant, "workflows"), { recursive: true });
      const mutated = path.join(mutant, "workflows", file);
      const source = readFileSync(mutated, "utf8");
      expect(source).toContain(guarded);
      writeFileSync(mutated, source.replace(guarded, unguarded));
      const bundle = await bundleWorkflowCode({ workflowsPath: path.join(mutant, "workflows", "index.ts"), logger: quiet });
      const codePath = path.join(mutant, "bundle.js");
      writeFileSync(codePath, bundle.code);

      const recorded = input ? withInput(history, input) : histories.find((h) => h.file === history)!;
      await expect(replay(recorded, inject("workflowBundlePath"))).resolves.toBeUndefined();
      await expect(replay(recorded, codePath)).rejects.toThrow(/[Nn]ondeterminism/);
    },
  );
});

/** A recorded history whose start input had these fields too (as a newer API would have sent them). */
function withInput(file: string, fields: Record<string, unknown>): (typeof histories)[number] {
  const { workflowId, history } = JSON.parse(readFileSync(path.join(projectRoot, "test", "histories", file), "utf8"));
  const payload = history.events[0].workflowExecutionStartedEventAttributes.input.payloads[0];
  const input = JSON.parse(Buffer.from(payload.data, "base64").toString("utf8"));
  payload.data = Buffer.from(JSON.stringify({ ...input, ...fields })).toString("base64");
  return { file, workflowId, history: historyFromText(JSON.stringify(history)) };
}

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };

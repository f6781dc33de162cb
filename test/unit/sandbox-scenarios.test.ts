import { describe, expect, it } from "vitest";
import { scenarioFor } from "../../sandbox/scenarios.ts";

const documented = ["tok_approve", "tok_decline", "tok_insufficient_funds", "tok_expired_card", "tok_flaky", "tok_slow"];

describe("scenarioFor", () => {
  it.each([
    ["tok_approve", { kind: "approve" }],
    ["tok_decline", { kind: "decline", code: "card_declined", reason: "Your card was declined." }],
    ["tok_insufficient_funds", { kind: "decline", code: "insufficient_funds", reason: "Your card has insufficient funds." }],
    ["tok_expired_card", { kind: "decline", code: "expired_card", reason: "Your card has expired." }],
    ["tok_flaky", { kind: "flaky", failures: 2 }],
    ["tok_slow", { kind: "slow" }],
  ])("%s → %o", (token, scenario) => {
    expect(scenarioFor(token)).toEqual(scenario);
  });

  it("declines an unknown token as invalid_token, naming it and every documented token", () => {
    const scenario = scenarioFor("tok_nope");
    expect(scenario).toMatchObject({ kind: "decline", code: "invalid_token" });
    if (scenario.kind !== "decline") throw new Error("not a decline");
    expect(scenario.reason).toContain('"tok_nope"');
    for (const token of documented) expect(scenario.reason).toContain(token);
  });

  it.each(["", "TOK_APPROVE", "tok_approve ", "approve"])("declines the near miss %j as invalid_token", (token) => {
    expect(scenarioFor(token)).toMatchObject({ kind: "decline", code: "invalid_token" });
  });

  // All of these pass the API's token pattern /^[A-Za-z0-9_-]+$/.
  it.each(["constructor", "toString", "hasOwnProperty", "__proto__", "valueOf"])(
    "declines %j as invalid_token rather than reading Object.prototype",
    (token) => {
      expect(scenarioFor(token)).toMatchObject({ kind: "decline", code: "invalid_token" });
    },
  );
});

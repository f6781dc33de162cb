// The unusual-activity rules (workflows/risk-rules.ts): the window, the threshold, the hold and
// its end, as pure arithmetic on event times.
import { describe, expect, it } from "vitest";
import {
  assess,
  emptyRiskState,
  holdRemainingMs,
  liftHold,
  type RiskState,
  recordDecline,
  standingLevel,
} from "../../workflows/risk-rules.ts";
import type { RiskPolicy } from "../../workflows/types.ts";

const policy: RiskPolicy = { maxFailedPayments: 3, windowSeconds: 60, holdSeconds: 30 };
const t0 = Date.parse("2026-11-22T10:00:00.000Z");
/** The ISO time `seconds` after t0. */
const at = (seconds: number) => new Date(t0 + seconds * 1000).toISOString();
const decline = (checkoutId: string, seconds: number) => ({
  checkoutId,
  code: "card_declined",
  reason: "Your card was declined.",
  failedAt: at(seconds),
});
const record = (state: RiskState, ...declines: Array<[string, number]>) =>
  declines.reduce((s, [id, seconds]) => recordDecline(s, decline(id, seconds), policy), state);

describe("risk rules", () => {
  it("no declines: LOW, let through", () => {
    expect(assess(emptyRiskState(), at(0), policy)).toEqual({
      level: "LOW",
      hold: false,
      holdUntil: null,
      failuresInWindow: 0,
      reason: "no declined payments in the last 60 s",
    });
    expect(standingLevel(emptyRiskState())).toBe("LOW");
  });

  it("declines below the threshold: MEDIUM, let through", () => {
    const state = record(emptyRiskState(), ["chk_a", 0], ["chk_b", 10]);
    expect(state.hold).toBeNull();
    expect(standingLevel(state)).toBe("MEDIUM");
    expect(assess(state, at(20), policy)).toMatchObject({
      level: "MEDIUM",
      hold: false,
      failuresInWindow: 2,
      reason: `2 declined payments since ${at(0)}; 3 within 60 s hold new checkouts`,
    });
  });

  it("reaching the threshold within the window holds until the last decline + holdSeconds", () => {
    const state = record(emptyRiskState(), ["chk_a", 0], ["chk_b", 10], ["chk_c", 59]);
    expect(state.hold).toEqual({ until: at(89), failures: 3, since: at(0) });
    expect(standingLevel(state)).toBe("HIGH");
    expect(assess(state, at(60), policy)).toEqual({
      level: "HIGH",
      hold: true,
      holdUntil: at(89),
      failuresInWindow: 3,
      reason: `3 declined payments since ${at(0)}; new checkouts are held until ${at(89)}`,
    });
    expect(assess(state, at(88.999), policy).hold).toBe(true);
    expect(holdRemainingMs(state.hold!, at(59))).toBe(30_000);
    expect(holdRemainingMs(state.hold!, at(100))).toBe(0);
  });

  it("declines further apart than the window never add up", () => {
    const state = record(emptyRiskState(), ["chk_a", 0], ["chk_b", 30], ["chk_c", 60]);
    expect(state.hold).toBeNull(); // chk_a left the window at 60 (the window is open at its start)
    expect(state.declines.map((d) => d.checkoutId)).toEqual(["chk_b", "chk_c"]);
    expect(assess(state, at(95), policy)).toMatchObject({ level: "MEDIUM", failuresInWindow: 1 });
    expect(assess(state, at(120), policy)).toMatchObject({ level: "LOW", failuresInWindow: 0 });
  });

  it("the same checkout reported twice (an activity retry) counts once", () => {
    const once = record(emptyRiskState(), ["chk_a", 0], ["chk_b", 1]);
    const twice = recordDecline(once, decline("chk_b", 2), policy);
    expect(twice).toBe(once);
    expect(record(twice, ["chk_b", 3], ["chk_a", 4]).hold).toBeNull();
  });

  it("the hold is decided at the assessment's time: over once `at` reaches holdUntil", () => {
    const held = record(emptyRiskState(), ["chk_a", 0], ["chk_b", 1], ["chk_c", 2]);
    expect(assess(held, at(31.999), policy).hold).toBe(true);
    // Its timer has not fired yet, but the hold is served: its declines no longer count.
    expect(assess(held, at(32), policy)).toEqual({
      level: "LOW",
      hold: false,
      holdUntil: null,
      failuresInWindow: 0,
      reason: `no declined payments since the hold ended at ${at(32)}`,
    });
  });

  it("lifting the hold forgives its declines; new ones count from zero", () => {
    const held = record(emptyRiskState(), ["chk_a", 0], ["chk_b", 1], ["chk_c", 2]);
    const lifted = liftHold(held);
    expect(lifted.hold).toBeNull();
    expect(standingLevel(lifted)).toBe("LOW");
    const after = record(lifted, ["chk_d", 40], ["chk_e", 41]);
    expect(after.hold).toBeNull();
    expect(standingLevel(after)).toBe("MEDIUM");
    expect(assess(after, at(42), policy)).toMatchObject({ level: "MEDIUM", failuresInWindow: 2 });
    expect(record(after, ["chk_f", 42]).hold).toEqual({ until: at(72), failures: 3, since: at(40) });
  });

  it("a decline after the hold's end, before its timer fired, does not hold again", () => {
    const held = record(emptyRiskState(), ["chk_a", 0], ["chk_b", 1], ["chk_c", 2]);
    const next = record(held, ["chk_d", 33]);
    expect(next.hold).toBeNull();
    expect(next.forgivenThrough).toBe(at(32));
    expect(assess(next, at(34), policy)).toMatchObject({ level: "MEDIUM", failuresInWindow: 1 });
  });

  it("a decline during the hold (a checkout started before it) extends it", () => {
    const held = record(emptyRiskState(), ["chk_a", 0], ["chk_b", 1], ["chk_c", 2]);
    const extended = record(held, ["chk_d", 20]);
    expect(extended.hold).toEqual({ until: at(50), failures: 4, since: at(0) });
    // A late report with an earlier time never shortens it.
    const late = recordDecline(extended, decline("chk_e", 10), policy);
    expect(late.hold).toEqual(extended.hold);
  });

  it("maxFailedPayments 0 never holds", () => {
    const off = { ...policy, maxFailedPayments: 0 };
    const state = [0, 1, 2, 3].reduce((s, i) => recordDecline(s, decline(`chk_${i}`, i), off), emptyRiskState());
    expect(state.hold).toBeNull();
  });
});

// The unusual-activity rules as pure functions of what the customer's risk workflow recorded and
// the time of the event being decided on (a decline's `failedAt`, an assessment's `at`). No
// clock is read here, so the workflow replays every decision exactly and the rules are unit-tested
// without Temporal (test/unit/risk-rules.test.ts).
import type { PaymentFailureReport, RiskDecision, RiskLevel, RiskPolicy } from "./types.ts";

export interface RecordedDecline {
  checkoutId: string;
  code: string;
  failedAt: string;
}

export interface Hold {
  /** New checkouts are held while an assessment's `at` is before this (ISO 8601). */
  until: string;
  /** The declines counted when the hold was set (or last extended), and the first one's time. */
  failures: number;
  since: string;
}

/** What the risk workflow remembers; carried across continue-as-new. */
export interface RiskState {
  /**
   * Declines within the window before the newest one, oldest first. Forgiven ones stay until they
   * leave the window, so a report repeated by an activity retry is still recognized.
   */
  declines: RecordedDecline[];
  hold: Hold | null;
  /** Declines at or before this time no longer count: the hold they caused has been served. */
  forgivenThrough: string | null;
}

export const emptyRiskState = (): RiskState => ({ declines: [], hold: null, forgivenThrough: null });

const time = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

/** The declines that count at `at`: within the window before it, and not forgiven by a served hold. */
export function countedDeclines(state: RiskState, at: string, policy: RiskPolicy): RecordedDecline[] {
  const windowStart = time(at) - policy.windowSeconds * 1000;
  return unforgivenDeclines(state).filter((d) => time(d.failedAt) > windowStart);
}

/** Ends the hold: its declines are forgiven, so the customer starts afresh. */
export function liftHold(state: RiskState): RiskState {
  return state.hold ? { ...state, hold: null, forgivenThrough: state.hold.until } : state;
}

/**
 * Records a decline. When the declines counted at its time reach `maxFailedPayments`, the customer
 * is held until `failedAt + holdSeconds`; a decline during a hold (a checkout started before it)
 * extends it. Returns the same object for a report already recorded (an activity retry).
 */
export function recordDecline(state: RiskState, report: PaymentFailureReport, policy: RiskPolicy): RiskState {
  if (state.declines.some((d) => d.checkoutId === report.checkoutId)) return state;
  const at = time(report.failedAt);
  // A hold whose time is up is served, even if its timer has not fired yet.
  const current = state.hold && time(state.hold.until) <= at ? liftHold(state) : state;
  const declines = [...current.declines, { checkoutId: report.checkoutId, code: report.code, failedAt: report.failedAt }]
    .filter((d) => time(d.failedAt) > at - policy.windowSeconds * 1000) // older ones can never count again
    .sort((a, b) => time(a.failedAt) - time(b.failedAt));
  const next: RiskState = { ...current, declines };
  const counted = countedDeclines(next, report.failedAt, policy);
  if (policy.maxFailedPayments <= 0 || counted.length < policy.maxFailedPayments) return next;
  const until = iso(at + policy.holdSeconds * 1000);
  if (current.hold && time(current.hold.until) >= time(until)) return next; // a late report: the hold stands
  return { ...next, hold: { until, failures: counted.length, since: counted[0].failedAt } };
}

/** The decision for a checkout asked about at `at`: HIGH and held, or let through as MEDIUM or LOW. */
export function assess(state: RiskState, at: string, policy: RiskPolicy): RiskDecision {
  const hold = state.hold;
  if (hold && time(hold.until) > time(at)) {
    return {
      level: "HIGH",
      hold: true,
      holdUntil: hold.until,
      failuresInWindow: hold.failures,
      reason: `${hold.failures} declined payments since ${hold.since}; new checkouts are held until ${hold.until}`,
    };
  }
  // A hold whose time is up counts as served, as it will once its timer fires.
  const served = liftHold(state);
  const counted = countedDeclines(served, at, policy);
  if (counted.length > 0) {
    return {
      level: "MEDIUM",
      hold: false,
      holdUntil: null,
      failuresInWindow: counted.length,
      reason: `${counted.length} declined payment${counted.length === 1 ? "" : "s"} since ${counted[0].failedAt}; ${policy.maxFailedPayments} within ${policy.windowSeconds} s hold new checkouts`,
    };
  }
  const forgiven = served.forgivenThrough && time(served.forgivenThrough) > time(at) - policy.windowSeconds * 1000;
  return {
    level: "LOW",
    hold: false,
    holdUntil: null,
    failuresInWindow: 0,
    reason: forgiven
      ? `no declined payments since the hold ended at ${served.forgivenThrough}`
      : `no declined payments in the last ${policy.windowSeconds} s`,
  };
}

/**
 * The level the workflow shows in its `RiskLevel` search attribute, as of its newest decline
 * (declines leave the window only by time; the workflow ends, LOW, a window after the last one).
 */
export function standingLevel(state: RiskState): RiskLevel {
  if (state.hold) return "HIGH";
  return unforgivenDeclines(state).length > 0 ? "MEDIUM" : "LOW";
}

/** The recorded declines that no served hold has forgiven (all within the window of the newest). */
export function unforgivenDeclines(state: RiskState): RecordedDecline[] {
  const forgiven = state.forgivenThrough ? time(state.forgivenThrough) : Number.NEGATIVE_INFINITY;
  return state.declines.filter((d) => time(d.failedAt) > forgiven);
}

/** How long the hold still runs, seen from `from` (never negative). */
export function holdRemainingMs(hold: Hold, from: string): number {
  return Math.max(0, time(hold.until) - time(from));
}

// The sandbox provider's deterministic scenarios, chosen by payment token (listed in README).

export type Scenario =
  | { kind: "approve" }
  | { kind: "decline"; code: string; reason: string }
  /** The first `failures` requests under a key answer 503, then it approves. */
  | { kind: "flaky"; failures: number }
  /** Approves after the configured delay (SANDBOX_SLOW_MS). */
  | { kind: "slow" }
  /** The customer must authenticate (3-D Secure) on the sandbox's page before it settles. */
  | { kind: "action" };

export const scenarios: Record<string, Scenario> = {
  tok_approve: { kind: "approve" },
  tok_decline: { kind: "decline", code: "card_declined", reason: "Your card was declined." },
  tok_insufficient_funds: { kind: "decline", code: "insufficient_funds", reason: "Your card has insufficient funds." },
  tok_expired_card: { kind: "decline", code: "expired_card", reason: "Your card has expired." },
  tok_flaky: { kind: "flaky", failures: 2 },
  tok_slow: { kind: "slow" },
  tok_3ds: { kind: "action" },
};

export function scenarioFor(token: string): Scenario {
  return (
    (Object.hasOwn(scenarios, token) ? scenarios[token] : undefined) ?? {
      kind: "decline",
      code: "invalid_token",
      reason: `Unknown sandbox token "${token}". Use one of: ${Object.keys(scenarios).join(", ")}.`,
    }
  );
}

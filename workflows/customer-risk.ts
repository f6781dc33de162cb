// One customer's unusual-activity record: a long-lived workflow per customer
// (`customer-risk-<customerId>`), started by their first declined payment (signalWithStart from
// activities/risk.ts). It counts the declines in a sliding window and holds the customer's new
// checkouts once there are too many. The API asks it (the `assessCheckout` update) before each new
// checkout, so every decision, with its input and answer, stands in this workflow's history; so
// do the hold (a search attribute upsert) and its end (a timer). The rules themselves are pure
// functions in risk-rules.ts; here is only what makes them durable.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from "@temporalio/workflow";
import { assessCheckoutUpdate, paymentFailedSignal, searchAttributes } from "./definitions.ts";
import {
  assess,
  emptyRiskState,
  holdRemainingMs,
  liftHold,
  type RiskState,
  recordDecline,
  standingLevel,
  unforgivenDeclines,
} from "./risk-rules.ts";
import type { RiskAssessmentRequest, RiskPolicy } from "./types.ts";

export interface CustomerRiskInput {
  customerId: string;
  /** The thresholds when the first decline started the workflow; they stay for its whole life. */
  policy: RiskPolicy;
  /** Carried over by continue-as-new. */
  state?: RiskState;
}

/** Continue-as-new well before a long hold's stream of assessments makes the history heavy. */
const MAX_HISTORY_EVENTS = 2000;

const validTime = (value: unknown) => typeof value === "string" && !Number.isNaN(Date.parse(value));

export async function customerRisk(input: CustomerRiskInput): Promise<RiskState> {
  const { policy } = input;
  let state = input.state ?? emptyRiskState();
  let declinesRecorded = 0;
  // Where the running hold's timer counts from: the decline that set it, or (for a hold carried
  // over by continue-as-new) this run's start. Times come from events, never from a clock.
  let holdArmedAt = workflowInfo().runStartTime.toISOString();

  setHandler(paymentFailedSignal, (report) => {
    if (!report?.checkoutId || !validTime(report.failedAt)) {
      log.warn("ignored a malformed paymentFailed signal", { report });
      return;
    }
    const next = recordDecline(state, report, policy);
    if (next === state) return; // the same checkout reported again (an activity retry)
    if (next.hold && next.hold !== state.hold) holdArmedAt = report.failedAt;
    state = next;
    declinesRecorded++;
  });

  // Synchronous and read-only: the decision is a function of the state and the API's `at`.
  setHandler(assessCheckoutUpdate, (request) => assess(state, request.at, policy), {
    validator: (request: RiskAssessmentRequest) => {
      if (!request?.checkoutId || !validTime(request.at)) {
        throw new Error("assessCheckout needs a checkoutId and an ISO 8601 time `at`");
      }
    },
  });

  let shownLevel = workflowInfo().typedSearchAttributes.get(searchAttributes.RiskLevel);
  if (workflowInfo().typedSearchAttributes.get(searchAttributes.CustomerId) !== input.customerId) {
    upsertSearchAttributes([{ key: searchAttributes.CustomerId, value: input.customerId }]);
  }
  /** Keeps `RiskLevel` (what `temporal workflow list --query 'RiskLevel="HIGH"'` finds) and the UI's details current. */
  const publish = (current: RiskState) => {
    const level = standingLevel(current);
    if (level !== shownLevel) {
      upsertSearchAttributes([{ key: searchAttributes.RiskLevel, value: level }]);
      shownLevel = level;
    }
    setCurrentDetails(
      current.hold
        ? `**HIGH**: held until ${current.hold.until} after ${current.hold.failures} declined payments since ${current.hold.since}`
        : `**${level}**: ${unforgivenDeclines(current).length} declined payment(s) counting towards a hold`,
    );
  };
  const historyFull = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS;

  for (;;) {
    publish(state);
    if (historyFull()) {
      await condition(allHandlersFinished);
      return await continueAsNew<typeof customerRisk>({ ...input, state });
    }
    const hold = state.hold;
    if (hold) {
      // The end of a hold is a timer, so it stands in the history as an event of its own. A new
      // decline that extends the hold restarts the wait.
      const remaining = holdRemainingMs(hold, holdArmedAt);
      const interrupted =
        remaining > 0 &&
        (await condition(() => state.hold !== hold || historyFull(), remaining, {
          summary: `lift the hold at ${hold.until}`,
        }));
      if (!interrupted && state.hold === hold) state = liftHold(state);
      continue;
    }
    // Nothing held: a whole window without a new decline leaves nothing worth remembering.
    const seen = declinesRecorded;
    const woken = await condition(() => declinesRecorded !== seen || historyFull(), policy.windowSeconds * 1000, {
      summary: `end after ${policy.windowSeconds} s without a declined payment`,
    });
    if (!woken && declinesRecorded === seen) break;
  }
  state = emptyRiskState();
  publish(state);
  await condition(allHandlersFinished);
  return state;
}

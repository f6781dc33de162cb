// The steps of a workflow history in order: each activity's ActivityTaskScheduled, and each run of
// a local activity (the checkout's order step), which the history keeps as a marker instead.
import { defaultPayloadConverter } from "@temporalio/common";
import type { HistoryEvent } from "../../history/events.ts";

export const LOCAL_ACTIVITY_MARKER = "core_local_activity";

/** The activity type of a step's event, or undefined for an event that is not one. */
export function stepTypeOf(event: HistoryEvent): string | undefined {
  if (event.activityTaskScheduledEventAttributes) return event.activityTaskScheduledEventAttributes.activityType?.name ?? "";
  if (event.markerRecordedEventAttributes?.markerName !== LOCAL_ACTIVITY_MARKER) return undefined;
  const run = event.markerRecordedEventAttributes.details?.data?.payloads?.[0];
  return run ? defaultPayloadConverter.fromPayload<{ activity_type: string }>(run).activity_type : "";
}

export function stepTypes(events: HistoryEvent[] | null | undefined): string[] {
  return (events ?? []).flatMap((e) => {
    const type = stepTypeOf(e);
    return type === undefined ? [] : [type];
  });
}

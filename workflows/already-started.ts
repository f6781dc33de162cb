// startChild throws WorkflowExecutionAlreadyStartedError when the child's id was used already (a
// replay after a retry, a reset): for an abandoned child started once per id, that is success.
// The class lives in @temporalio/common, outside what workflow code imports; the SDK names its
// errors so that they can be told apart across module copies, and so can we.
export function isAlreadyStarted(err: unknown): boolean {
  return err instanceof Error && err.name === "WorkflowExecutionAlreadyStartedError";
}

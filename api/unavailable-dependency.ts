// Which dependency an error says is down: the database or Temporal. The API answers those with
// 503 and Retry-After (a client may retry the same request, under the same Idempotency-Key),
// never with a 500 that reads like a bug.
import { isGrpcServiceError, ServiceError } from "@temporalio/client";
import { isDatabaseUnavailable } from "../prisma/errors.ts";

export type Dependency = "database" | "temporal";

/** gRPC codes of a server that cannot be reached or did not answer: UNAVAILABLE, DEADLINE_EXCEEDED. */
const UNREACHABLE_GRPC = new Set([14, 4]);

export function unavailableDependency(err: unknown): Dependency | undefined {
  if (isDatabaseUnavailable(err)) return "database";
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(e) && UNREACHABLE_GRPC.has(e.code)) return "temporal";
    if (e instanceof ServiceError && /UNAVAILABLE|DEADLINE_EXCEEDED|No connection established/i.test(e.message))
      return "temporal";
  }
  return undefined;
}

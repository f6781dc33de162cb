// An activity that waits on another server (a provider, an SMTP server) heartbeats meanwhile, so
// that a worker that dies is noticed within the heartbeat timeout, not the whole start-to-close.
import { heartbeat } from "@temporalio/activity";

const HEARTBEAT_EVERY_MS = 1_000;

export async function whileHeartbeating<T>(work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    heartbeat();
    return await work();
  } finally {
    clearInterval(timer);
  }
}

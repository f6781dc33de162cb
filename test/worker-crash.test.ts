// No double charge across a real worker crash: the standalone worker process is SIGKILLed while
// its charge is in flight at the provider; a replacement worker retries the payment step, asks
// the provider about the earlier charge under the same idempotency key, and charges nothing new.
import { afterAll, beforeAll, expect, it } from "vitest";
import { chargesFor, startCheckout, validCheckout, waitForCheckout } from "./support/http.ts";
import { startTestStack, type TestStack } from "./support/stack.ts";
import { spawnWorkerProcess, type WorkerProcess } from "./support/worker-process.ts";

let stack: TestStack;
let child: WorkerProcess | undefined;

beforeAll(async () => {
  stack = await startTestStack({ startWorker: false, sandboxSlowMs: 3000 });
});
afterAll(async () => {
  child?.kill();
  await stack?.stop();
});

it("a worker killed mid-charge: the retry on another worker charges nothing new", async () => {
  child = await spawnWorkerProcess(stack.env);
  const proc = child.process;
  const id = await startCheckout(stack.url, validCheckout("tok_slow"));

  // The charge is in flight at the provider (tok_slow holds it for 3 s): kill the worker now.
  const deadline = Date.now() + 20_000;
  let charges = await chargesFor(stack.url, id);
  while (charges[0]?.status !== "PROCESSING") {
    if (Date.now() > deadline) throw new Error(`no charge in flight; ledger: ${JSON.stringify(charges)}\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 100));
    charges = await chargesFor(stack.url, id);
  }
  const exited = new Promise((resolve) => proc.once("exit", (_code, signal) => resolve(signal)));
  proc.kill("SIGKILL");
  expect(await exited).toBe("SIGKILL");

  await stack.startWorker();

  const done = await waitForCheckout(stack.url, id, undefined, 40_000);
  expect(done.status).toBe("COMPLETED");
  expect(done.order.status).toBe("PAID");
  expect(done.payment.status).toBe("SUCCEEDED");
  expect(done.payment.attempts).toBeGreaterThanOrEqual(2);

  charges = await chargesFor(stack.url, id);
  expect(charges).toHaveLength(1);
  expect(charges[0]).toMatchObject({ status: "SUCCEEDED", requests: 1, idempotencyKey: `checkout-${id}:payment` });
  expect(done.payment.gatewayReference).toBe((charges[0] as unknown as { id: string }).id);

  const mails = stack.mail.messages.filter((m) => m.raw.includes(id));
  expect(mails).toHaveLength(1);
  expect(mails[0].subject).toBe("Payment received: $39.98");
});

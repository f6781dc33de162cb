// Customers paying while things break: checkouts of every sandbox kind (approve, flaky, slow,
// decline) posted a few at a time, each under its own Idempotency-Key. A client whose POST got no
// answer (the API died, a timeout) or a 503 tries once more with the same key, after Retry-After,
// as a real client would; every other answer is final.

export const TOKENS = ["tok_approve", "tok_flaky", "tok_slow", "tok_decline"] as const;

export interface Posted {
  key: string;
  token: (typeof TOKENS)[number];
  /** The checkout id the API answered with; undefined when no POST was accepted. */
  id?: string;
  /** Every HTTP status the POSTs got, or "no answer". */
  answers: Array<number | "no answer">;
}

export interface LoadOptions {
  apiUrl: string;
  apiKey: string;
  count: number;
  concurrency: number;
  /** Prefix for the Idempotency-Keys (one run's keys never meet another's). */
  keyPrefix: string;
}

export async function postCheckouts(options: LoadOptions): Promise<Posted[]> {
  const posted: Posted[] = Array.from({ length: options.count }, (_, i) => ({
    key: `${options.keyPrefix}-${i}`,
    token: TOKENS[i % TOKENS.length],
    answers: [],
  }));
  let next = 0;
  const client = async () => {
    while (next < posted.length) {
      const checkout = posted[next++];
      await postWithOneRetry(options, checkout);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  return posted;
}

async function postWithOneRetry(options: LoadOptions, checkout: Posted): Promise<void> {
  for (let attempt = 1; attempt <= 2; attempt++) {
    const answer = await post(options, checkout);
    checkout.answers.push(answer.status);
    if (answer.status === 202) {
      checkout.id = answer.id;
      return;
    }
    if (answer.status !== "no answer" && answer.status !== 503) return;
    await new Promise((r) => setTimeout(r, (answer.retryAfter ?? 2) * 1000));
  }
}

async function post(
  { apiUrl, apiKey }: LoadOptions,
  checkout: Posted,
): Promise<{ status: number | "no answer"; id?: string; retryAfter?: number }> {
  try {
    const res = await fetch(`${apiUrl}/checkouts`, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": checkout.key, authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({
        customer: { id: `cus_${checkout.key}`, email: "ada@example.com" },
        items: [{ sku: "tee", name: "T-shirt", quantity: 2, unitAmount: 1999 }],
        currency: "USD",
        payment: { provider: "sandbox", token: checkout.token },
      }),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await res.json().catch(() => ({}))) as { id?: string };
    const retryAfter = Number(res.headers.get("retry-after")) || undefined;
    return { status: res.status, id: body.id, retryAfter };
  } catch {
    return { status: "no answer" };
  }
}

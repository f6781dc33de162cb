// The archive's hash chain and secrets removal, as pure functions: a record's hash covers every
// field, a link checks order, pointer and content; redaction blanks secrets inside base64 JSON
// payloads and wherever their values are quoted, and leaves the rest of the history readable.
import { describe, expect, it } from "vitest";
import { type ArchiveRecord, GENESIS, linkProblem, recordHash } from "../../archive/chain.ts";
import { REDACTED, redactHistory } from "../../archive/redact.ts";

function record(seq: number, prevHash: string, history = `{"events":[${seq}]}`): ArchiveRecord {
  const unhashed = {
    seq,
    workflowId: `checkout-chk_${seq}`,
    runId: `run-${seq}`,
    checkoutId: `chk_${seq}`,
    workflowType: "checkout",
    status: "COMPLETED",
    closedAt: new Date("2026-11-22T10:00:00.123Z"),
    archivedAt: new Date("2026-11-22T10:00:01.456Z"),
    history,
    prevHash,
  };
  return { ...unhashed, hash: recordHash(unhashed) };
}

describe("the archive's hash chain", () => {
  const first = record(1, GENESIS);
  const second = record(2, first.hash);

  it("links each record to the one before it", () => {
    expect(linkProblem(first, { seq: 1, prevHash: GENESIS })).toBeUndefined();
    expect(linkProblem(second, { seq: 2, prevHash: first.hash })).toBeUndefined();
  });

  it.each([
    ["history", { history: '{"events":[]}' }],
    ["status", { status: "FAILED" }],
    ["closedAt", { closedAt: new Date("2026-11-22T10:00:00.124Z") }],
    ["checkoutId", { checkoutId: "chk_other" }],
  ])("notices a changed %s", (_field, change) => {
    expect(linkProblem({ ...second, ...change }, { seq: 2, prevHash: first.hash })).toMatch(/content does not match its hash/);
  });

  it("notices a missing record and a record re-pointed elsewhere", () => {
    expect(linkProblem(record(4, "x".repeat(64)), { seq: 2, prevHash: first.hash })).toBe(
      "it comes after record 1: records 2 to 3 are missing",
    );
    const forged = record(2, GENESIS); // rehashed by a forger, but chained to the wrong record
    expect(linkProblem(forged, { seq: 2, prevHash: first.hash })).toMatch(/^it does not point at the record before it/);
  });
});

const json = (value: unknown) => ({
  metadata: { encoding: Buffer.from("json/plain").toString("base64") },
  data: Buffer.from(JSON.stringify(value)).toString("base64"),
});
const decode = (payload: { data: string }) => JSON.parse(Buffer.from(payload.data, "base64").toString("utf8"));

describe("redactHistory", () => {
  const history = {
    events: [
      {
        eventId: "1",
        workflowExecutionStartedEventAttributes: {
          input: {
            payloads: [
              json({
                customer: { id: "cus_1", email: "ada@example.com" },
                payment: { token: "tok_secret_1", provider: "sandbox" },
              }),
            ],
          },
        },
      },
      {
        eventId: "7",
        activityTaskFailedEventAttributes: {
          failure: { message: "SMTP refused ada@example.com", cause: { message: "card tok_secret_1 declined" } },
        },
      },
      { eventId: "9", markerRecordedEventAttributes: { details: { raw: { payloads: [{ metadata: {}, data: "AAEC" }] } } } },
    ],
  };
  const redacted = JSON.parse(redactHistory(JSON.stringify(history)));

  it("blanks secret fields inside the payloads and keeps the rest", () => {
    expect(decode(redacted.events[0].workflowExecutionStartedEventAttributes.input.payloads[0])).toEqual({
      customer: { id: "cus_1", email: REDACTED },
      payment: { token: REDACTED, provider: "sandbox" },
    });
  });

  it("blanks the secrets' values wherever a message quotes them", () => {
    expect(redacted.events[1].activityTaskFailedEventAttributes.failure).toEqual({
      message: `SMTP refused ${REDACTED}`,
      cause: { message: `card ${REDACTED} declined` },
    });
    expect(JSON.stringify(redacted)).not.toMatch(/ada@example\.com|tok_secret_1/);
  });

  it("leaves payloads it cannot read as they are", () => {
    expect(redacted.events[2]).toEqual(history.events[2]);
  });
});

// The HTTP of the fetch-based adapters (Razorpay, PayPal, Mercado Pago, the sandbox), and the one
// reading of a request that went wrong, which decides whether a charge may be sent again:
//   never sent       no connection was made: nothing happened, retry (or fail over) freely;
//   outcome unknown  it may have arrived (a timeout, a dropped connection, a 2xx we cannot read):
//                    for a request that changes something, the provider is asked before any retry;
//   answered         a status and a body, mapped by `refusal` when it is not a 2xx.
// A request that changes nothing (a GET, a POST flagged sideEffectFree) never has an unknown outcome.
import { GatewayRequestError, GatewayUnavailableError } from "./types.ts";

/**
 * Network error codes of a request that certainly did not leave this machine: refused connection,
 * no such host (or no answer from DNS), no route to the host or its network, no valid URL. Stripe's
 * SDK reports the same codes (stripe.ts).
 */
export const NEVER_SENT_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ERR_INVALID_URL",
]);

/** Per request, reading the answer included, unless an adapter is given another. */
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface HttpRequest {
  method: "GET" | "POST" | "PUT";
  /** Appended to the base URL; may carry a query string. */
  path: string;
  headers?: Record<string, string>;
  /** A JSON value, or a text sent byte for byte (JSON already written, a form). */
  body?: unknown;
  /** A POST that changes nothing at the provider (an OAuth token, a signature check). */
  sideEffectFree?: boolean;
}

export interface HttpAnswer {
  status: number;
  /** A 2xx. Its `json` is always an object (or array): `send` throws for any other 2xx body. */
  ok: boolean;
  text: string;
  /** The body as JSON; undefined when it is empty or not JSON. */
  json: unknown;
  /** Method and path without the query, for messages: "POST /v1/orders". */
  request: string;
}

export interface TransportSettings {
  /** The provider as messages name it: "Razorpay", "Mercado Pago". */
  provider: string;
  baseUrl: string;
  timeoutMs?: number;
  /** Sent with every request (credentials that never change); a request's own headers win. */
  headers?: Record<string, string>;
  /** Statuses that mean "not done, try again" at this provider, besides 429 and 5xx. */
  retryStatuses?: readonly number[];
}

export class HttpTransport {
  /** Without trailing slashes. */
  readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(private readonly settings: TransportSettings) {
    this.baseUrl = settings.baseUrl.replace(/\/+$/, "");
    this.timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** One request and its answer; GatewayUnavailableError when there is no answer to read. */
  async send(request: HttpRequest): Promise<HttpAnswer> {
    const { method, path, body } = request;
    const label = `${method} ${path.split("?")[0]}`;
    const provider = this.settings.provider;
    const changesState = method !== "GET" && !request.sideEffectFree;
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        headers: {
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...this.settings.headers,
          ...request.headers,
        },
        body: body === undefined || typeof body === "string" ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new GatewayUnavailableError(
        `${provider} unreachable (${label}): ${this.reasonOf(err)}`,
        undefined,
        changesState && !neverSent(err),
      );
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      // The answer broke off (or its time ran out) after its status: the request did arrive.
      throw new GatewayUnavailableError(
        `${provider} answered ${res.status} to ${label} but the body broke off: ${this.reasonOf(err)}`,
        res.status,
        changesState,
      );
    }
    const json = parseJson(text);
    const ok = res.status >= 200 && res.status < 300;
    if (ok && (typeof json !== "object" || json === null)) {
      // The provider says it did something, but not what.
      throw new GatewayUnavailableError(
        `${provider} answered ${res.status} to ${label} with a body that is not JSON`,
        res.status,
        changesState,
      );
    }
    return { status: res.status, ok, text, json, request: label };
  }

  /**
   * The error for an answer that is not a 2xx, with the provider's own account of it (`detail`):
   * 429, 5xx and the provider's retry statuses are GatewayUnavailableError (the provider did not
   * act: retry later), anything else GatewayRequestError (a refusal no retry changes).
   */
  refusal(answer: HttpAnswer, detail: string): GatewayUnavailableError | GatewayRequestError {
    const message = `${this.settings.provider} answered ${answer.status} to ${answer.request}: ${detail}`;
    const { status } = answer;
    if (status === 429 || status >= 500 || this.settings.retryStatuses?.includes(status)) {
      return new GatewayUnavailableError(message, status, false);
    }
    return new GatewayRequestError(message, status);
  }

  private reasonOf(err: unknown): string {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e?.name === "TimeoutError") return `no answer within ${this.timeoutMs} ms`;
    return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
  }
}

function neverSent(err: unknown): boolean {
  const code = (err as { cause?: { code?: string } })?.cause?.code;
  return code !== undefined && NEVER_SENT_CODES.has(code);
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

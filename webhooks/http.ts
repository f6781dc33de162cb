// One POST to a checked target (webhooks/target.ts): the socket connects only to the addresses
// that were checked (its `lookup` answers them; an IP literal needs none), while the Host header
// and the TLS server name (SNI and the certificate check) stay the URL's host. Redirects are
// never followed: node's http client does not follow them, and a 3xx is an answer like any other.
// The body of the answer is not read.
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import { bareHost, type CheckedTarget } from "./target.ts";

/** The request never got an answer: refused, reset, timed out, TLS failed, … (`cause` says which, for logs only). */
export class NetworkError extends Error {
  override name = "NetworkError";
}

export async function postTo(
  target: CheckedTarget,
  request: { headers: Record<string, string>; body: string; timeoutMs: number },
): Promise<{ status: number }> {
  const { url } = target;
  const host = bareHost(url);
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      {
        protocol: url.protocol,
        host,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: "POST",
        headers: { ...request.headers, host: url.host, "content-length": String(Buffer.byteLength(request.body)) },
        lookup: target.lookup as unknown as http.RequestOptions["lookup"],
        ...(isIP(host) ? {} : { servername: host }),
        agent: false,
        signal: AbortSignal.timeout(request.timeoutMs),
      },
      (res) => {
        resolve({ status: res.statusCode ?? 0 });
        res.destroy();
      },
    );
    req.on("error", (err) => reject(new NetworkError("the endpoint could not be reached", { cause: err })));
    req.end(request.body);
  });
}

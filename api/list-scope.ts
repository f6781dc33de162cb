// Whose objects a list may show. Deny by default: a secret key (with the route's scope) lists its
// merchant's, or one customer's with `customer`. A publishable key is a browser's, and a browser
// has no right but what its own checkout gives it: it lists only with the client secret of one
// of a customer's checkouts, naming that customer (`customer`, or the path's id), and then only
// that customer's objects, in the views a browser gets.
import type { Db } from "../prisma/client.ts";
import type { Caller } from "./caller.ts";
import { checkoutOfClientSecret } from "./client-secret.ts";
import { ApiError } from "./errors.ts";

export interface ListScope {
  merchantId: string;
  /** Only this customer's objects (the merchant's own customer id). */
  customer?: string;
  /** A customer's browser: the views it gets are the customer's (GET /checkouts/{id}?client_secret=). */
  forCustomer: boolean;
}

export async function listScope(
  db: Db,
  caller: Caller,
  asked: { customer?: string; clientSecret?: string; customerField: string },
): Promise<ListScope> {
  const { merchantId } = caller;
  if (caller.type === "secret") return { merchantId, customer: asked.customer, forCustomer: false };
  if (!asked.clientSecret) {
    throw new ApiError(
      403,
      "client_secret_required",
      "A publishable key lists only one customer's objects: send the client secret of one of their checkouts.",
    );
  }
  if (!asked.customer) {
    throw new ApiError(400, "validation_failed", "The request is not valid; see fields.", [
      { field: asked.customerField, reason: "is required with a publishable key" },
    ]);
  }
  const checkout = await checkoutOfClientSecret(db, merchantId, asked.clientSecret);
  // A wrong secret and another customer's answer alike: nothing to tell which it was.
  if (!checkout || checkout.customerExternalId !== asked.customer) {
    throw new ApiError(404, "not_found", "No such customer for this client secret.", [
      { field: "query.client_secret", reason: "is not the client secret of one of this customer's checkouts" },
    ]);
  }
  return { merchantId, customer: asked.customer, forCustomer: true };
}

// Razorpay's JSON as the adapter (razorpay.ts) reads it: orders, payments, refunds, lists, webhook
// events and error bodies, with only the fields the adapter uses.

/** Razorpay's error body: `{ error: { code, description, source, step, reason, field? } }`. */
export interface RazorpayErrorBody {
  code?: string;
  description?: string;
  source?: string;
  step?: string;
  reason?: string;
  field?: string;
}

/** Razorpay sends `notes` as `[]` when there are none (a PHP quirk), an object otherwise. */
export type Notes = Record<string, string> | unknown[];

export interface RazorpayOrder {
  id: string;
  entity: "order";
  amount: number;
  amount_paid: number;
  amount_due: number;
  currency: string;
  receipt: string | null;
  status: "created" | "attempted" | "paid";
  attempts: number;
  notes: Notes;
  created_at: number;
}

export interface RazorpayPayment {
  id: string;
  entity: "payment";
  amount: number;
  currency: string;
  status: "created" | "authorized" | "captured" | "refunded" | "failed" | "pending";
  order_id: string | null;
  captured: boolean;
  amount_refunded: number;
  notes: Notes;
  error_code: string | null;
  error_description: string | null;
  error_reason?: string | null;
  created_at: number;
}

export interface RazorpayRefund {
  id: string;
  entity: "refund";
  amount: number;
  currency: string;
  payment_id: string;
  notes: Notes;
  receipt: string | null;
  status: "pending" | "processed" | "failed";
  created_at: number;
}

export interface Collection<T> {
  entity: "collection";
  count: number;
  items: T[];
}

export interface RazorpayWebhookBody {
  entity: "event";
  event: string;
  payload?: {
    payment?: { entity?: RazorpayPayment };
    order?: { entity?: RazorpayOrder };
    refund?: { entity?: RazorpayRefund };
  };
}

// Mercado Pago's JSON as the adapter (mercadopago.ts) reads it: payments, refunds, the payments
// search, webhook notifications and error bodies, with only the fields it uses.

/** The fields of a Mercado Pago payment the adapter reads. */
export interface MpPayment {
  id: number | string;
  status: string;
  status_detail?: string | null;
  external_reference?: string | null;
  metadata?: Record<string, unknown> | null;
  point_of_interaction?: {
    type?: string;
    transaction_data?: { qr_code?: string | null; ticket_url?: string | null } | null;
  } | null;
  transaction_details?: { external_resource_url?: string | null } | null;
}

export interface MpRefund {
  id: number | string;
  status?: string | null;
}

export interface MpSearch {
  results?: MpPayment[];
  paging?: { total?: number; limit?: number; offset?: number };
}

/** Mercado Pago's error body: {message, error, status, cause: [{code, description}]}. */
export interface MpError {
  message?: string;
  error?: string;
  status?: number;
  cause?: Array<{ code?: string | number; description?: string }> | null;
}

/** A webhook notification: it names the payment, the adapter reads the payment itself. */
export interface MpWebhookBody {
  id?: string | number;
  type?: string;
  topic?: string;
  action?: string;
  data?: { id?: string | number };
}

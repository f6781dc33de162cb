// PayPal's JSON as the adapter (paypal.ts) reads it: Orders v2 orders and captures, Payments v2
// refunds, the OAuth token, the webhook verdict and error bodies, with only the fields it uses.

export interface PayPalLink {
  href: string;
  rel: string;
  method?: string;
}

export interface PayPalAmount {
  currency_code: string;
  value: string;
}

export interface PayPalCapture {
  id: string;
  status: string;
  status_details?: { reason?: string };
  amount?: PayPalAmount;
}

export interface PayPalOrder {
  id: string;
  status: string;
  links?: PayPalLink[];
  purchase_units?: Array<{
    reference_id?: string;
    custom_id?: string;
    payments?: { captures?: PayPalCapture[] };
  }>;
}

export interface PayPalRefund {
  id: string;
  status: string;
  status_details?: { reason?: string };
}

/** PayPal's error body: {name, message, debug_id, details: [{issue, description}]}. */
export interface PayPalErrorBody {
  name?: string;
  message?: string;
  debug_id?: string;
  details?: Array<{ issue?: string; description?: string; field?: string }>;
  /** The OAuth endpoints answer {error, error_description} instead. */
  error?: string;
  error_description?: string;
}

/** POST /v1/oauth2/token. */
export interface PayPalToken {
  access_token?: string;
  /** Seconds. */
  expires_in?: number;
}

/** POST /v1/notifications/verify-webhook-signature. */
export interface PayPalVerification {
  verification_status?: string;
}

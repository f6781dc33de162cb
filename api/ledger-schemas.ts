// Request and response schemas of the ledger's routes: accounts, balances, currencies, transfers.
import { z } from "@hono/zod-openapi";
import { MAX_AMOUNT } from "../money/amounts.ts";
import { Metadata } from "./metadata.ts";
import { pageParameters } from "./pagination.ts";
import { displayText } from "./schemas.ts";

// What the ledger's ids are made of (acct_…, bal_…, tr_…, a currency's code): anything else
// (a NUL, which PostgreSQL refuses in text) is a 400 before the database is asked.
const ID_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;
export const LedgerId = (description?: string) =>
  z
    .string()
    .regex(ID_PATTERN, "must be an id: letters, digits, _ and -")
    .openapi(description ? { description } : {});

export const LedgerIdParam = z.object({ id: LedgerId() });

/** The lists' page parameters, with cursors that are ledger ids. */
export const ledgerPageParameters = {
  ...pageParameters,
  starting_after: LedgerId("An object's id: the page of those created before it (the next page).").optional(),
  ending_before: LedgerId("An object's id: the page of those created after it (the previous page).").optional(),
};

/** An ISO 4217 code or a custom one (BTC, USDC): 3 to 10 capitals and digits, a capital first. */
export const LedgerCurrencyCode = z
  .string()
  .regex(/^[A-Z][A-Z0-9]{2,9}$/, "must be 3 to 10 capitals or digits, a capital first, like USD")
  .openapi("LedgerCurrencyCode", { example: "USD" });

/** A positive amount in the currency's minor units, at most MAX_AMOUNT. */
export const LedgerAmount = z.int("must be an integer amount in minor units").min(1).max(MAX_AMOUNT);

// Visible characters around one @: enough to tell a typo, no control characters (the same pattern in JS and the document).
const EMAIL_PATTERN = "^[^@\\u0000-\\u0020\\u007f-\\u009f]{1,64}@[^@\\u0000-\\u0020\\u007f-\\u009f]{1,189}$";

export const AccountRequest = z
  .strictObject({
    owner: displayText(200).openapi({ example: "Ada Lovelace", description: "Who holds the account." }),
    email: z
      .string()
      .regex(new RegExp(EMAIL_PATTERN), "must be an email address")
      .optional()
      .openapi({ example: "ada@example.com", description: "Personal data: stored, returned to you, never logged." }),
  })
  .openapi("AccountRequest");

export const BalanceRequest = z
  .strictObject({
    currency: LedgerCurrencyCode,
    overdraftLimit: z.int().min(0).max(MAX_AMOUNT).optional().openapi({
      description: "How far below zero the balance may go, in minor units (0 when absent: never below zero).",
    }),
  })
  .openapi("BalanceRequest");

export const CurrencyRequest = z
  .strictObject({
    code: LedgerCurrencyCode,
    name: displayText(100),
    exponent: z.int().min(0).max(18).openapi({ description: "Minor-unit digits: 2 for cents, 8 for satoshis." }),
  })
  .openapi("CurrencyRequest");

export const TransferRequest = z
  .strictObject({
    from: LedgerId("The balance debited."),
    to: LedgerId("The balance credited: another one, in the same currency."),
    amount: LedgerAmount,
    currency: LedgerCurrencyCode,
    metadata: Metadata.optional(),
  })
  .openapi("TransferRequest");

const STATUS = z.enum(["ACTIVE", "DISABLED"]);

export const BalanceView = z
  .object({
    id: z.string(),
    object: z.literal("balance"),
    accountId: z.string(),
    currency: z.string(),
    amount: z.int().openapi({ description: "Minor units; below zero only down to -overdraftLimit." }),
    overdraftLimit: z.int(),
    status: STATUS,
    createdAt: z.string(),
  })
  .openapi("Balance");

export const AccountView = z
  .object({
    id: z.string(),
    object: z.literal("account"),
    owner: z.string(),
    email: z.string().nullable(),
    status: STATUS,
    balances: z.array(BalanceView),
    createdAt: z.string(),
  })
  .openapi("Account");

export const CurrencyView = z
  .object({ code: z.string(), name: z.string(), exponent: z.int(), active: z.boolean(), custom: z.boolean() })
  .openapi("LedgerCurrency");

export const PostingView = z
  .object({
    id: z.string(),
    entryId: z.string(),
    kind: z.string().openapi({ description: "transfer.debit, transfer.credit or transfer.reversal." }),
    transferId: z.string().nullable(),
    amount: z.int().openapi({ description: "Minor units: positive credited, negative debited." }),
    currency: z.string(),
    createdAt: z.string(),
  })
  .openapi("Posting");

export const TRANSFER_STATUSES = ["PENDING", "COMPLETED", "FAILED"] as const;

export const TransferView = z
  .object({
    id: z.string(),
    object: z.literal("transfer"),
    from: z.string(),
    to: z.string(),
    amount: z.int(),
    currency: z.string(),
    metadata: Metadata,
    status: z.enum(TRANSFER_STATUSES),
    failureCode: z.string().nullable(),
    failureReason: z.string().nullable(),
    reversed: z.boolean().openapi({ description: "Whether its debit was made and then reversed (a failure after the debit)." }),
    attempt: z.int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Transfer");

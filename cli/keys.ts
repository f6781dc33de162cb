// `checkout merchants …` and `checkout keys …`: the tenants and their API keys, in the database
// (DATABASE_URL). A key is printed once, when created; the database keeps only its hash.
import { parseArgs } from "node:util";
import { OPERATOR_SCOPES, SCOPES, type Scope } from "../api/caller.ts";
import { createApiKey, listApiKeys, revokeApiKey } from "../merchants/api-keys.ts";
import { createMerchant, listMerchants } from "../merchants/merchants.ts";
import { createDb, type Db } from "../prisma/client.ts";
import { UsageError } from "./query.ts";
import { CliError } from "./temporal.ts";

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

async function withDb<T>(work: (db: Db) => Promise<T>): Promise<T> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new CliError("Set DATABASE_URL to the service's PostgreSQL: merchants and keys are kept there.");
  const db = createDb(databaseUrl);
  try {
    return await work(db);
  } finally {
    await db.$disconnect();
  }
}

export async function merchantsCommand(args: string[], io: Io): Promise<number> {
  const [action, ...rest] = args;
  const { positionals, values } = parseArgs({ args: rest, options: { json: { type: "boolean" } }, allowPositionals: true });
  if (action === "create") {
    if (positionals.length !== 1) throw new UsageError("`checkout merchants create` takes the merchant's name.");
    const merchant = await withDb((db) => createMerchant(db, positionals[0]));
    io.out(`${merchant.id}\t${merchant.name}`);
    return 0;
  }
  if (action === "list") {
    const merchants = await withDb(listMerchants);
    if (values.json) io.out(JSON.stringify(merchants, null, 2));
    else for (const m of merchants) io.out(`${m.id}\t${m.name}\t${m.createdAt.toISOString()}`);
    return 0;
  }
  throw new UsageError("`checkout merchants` takes create <name> or list.");
}

/** The scopes asked for on the command line; when none is named, all but the operator's (OPERATOR_SCOPES). */
export function scopesOf(values: { scope?: string; "read-only"?: boolean }): Scope[] {
  if (values["read-only"]) return SCOPES.filter((s) => s.endsWith(":read"));
  if (!values.scope) return SCOPES.filter((s) => !OPERATOR_SCOPES.includes(s));
  const asked = values.scope.split(",").map((s) => s.trim());
  const unknown = asked.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length) throw new UsageError(`Unknown scope ${unknown.join(", ")}; the scopes are ${SCOPES.join(", ")}.`);
  return asked as Scope[];
}

export async function keysCommand(args: string[], io: Io): Promise<number> {
  const [action, ...rest] = args;
  const { positionals, values } = parseArgs({
    args: rest,
    options: {
      merchant: { type: "string" },
      publishable: { type: "boolean" },
      scope: { type: "string" },
      "read-only": { type: "boolean" },
      name: { type: "string" },
      json: { type: "boolean" },
    },
    allowPositionals: true,
    strict: true,
  });
  switch (action) {
    case "create": {
      if (!values.merchant) throw new UsageError("`checkout keys create` needs --merchant <id> (see `checkout merchants list`).");
      const merchantId = values.merchant;
      const created = await withDb(async (db) => {
        if (!(await db.merchant.findUnique({ where: { id: merchantId } }))) throw new CliError(`No merchant "${merchantId}".`);
        return createApiKey(db, {
          merchantId,
          type: values.publishable ? "publishable" : "secret",
          scopes: values.publishable ? [] : scopesOf(values),
          name: values.name,
        });
      });
      if (values.json) io.out(JSON.stringify(created, null, 2));
      else {
        io.out(created.key);
        io.err(`${created.id} for ${created.merchantId}${created.scopes.length ? `: ${created.scopes.join(", ")}` : ""}.`);
        io.err("Keep the key now: it is not shown again (only its hash is stored).");
      }
      return 0;
    }
    case "list": {
      const keys = await withDb((db) => listApiKeys(db, values.merchant));
      if (values.json) io.out(JSON.stringify(keys, null, 2));
      else
        for (const k of keys)
          io.out(
            [k.id, k.merchantId, k.type, k.prefix, k.revokedAt ? `revoked ${k.revokedAt}` : k.scopes.join(",") || "-"].join("\t"),
          );
      return 0;
    }
    case "revoke": {
      if (positionals.length !== 1) throw new UsageError("`checkout keys revoke` takes one key id (key_…).");
      const revoked = await withDb((db) => revokeApiKey(db, positionals[0]));
      if (!revoked) throw new CliError(`No active key "${positionals[0]}".`);
      io.out(`revoked ${positionals[0]}`);
      return 0;
    }
    default:
      throw new UsageError("`checkout keys` takes create, list or revoke.");
  }
}

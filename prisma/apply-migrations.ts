// `npm run db:migrate`: applies pending migrations to DATABASE_URL (production deploys run this).
import { loadConfig, required } from "../config.ts";
import { applyMigrations } from "./migrations.ts";

const applied = await applyMigrations(required(loadConfig().databaseUrl, "DATABASE_URL"));
console.log(applied.length ? `applied: ${applied.join(", ")}` : "nothing to apply: the schema is up to date");

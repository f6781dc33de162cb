// The Prisma client, on the pure-JS query compiler and the pg driver adapter (no native engine).
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client.ts";

export type Db = InstanceType<typeof PrismaClient>;
export { Prisma } from "../generated/prisma/client.ts";

export function createDb(databaseUrl: string): Db {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
}

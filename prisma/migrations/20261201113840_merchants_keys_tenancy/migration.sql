-- Merchants (tenants) and their API keys; every row that belongs to a merchant says which.
-- Rows written before merchants existed belong to "mer_default", created here.

-- CreateEnum
CREATE TYPE "ApiKeyType" AS ENUM ('SECRET', 'PUBLISHABLE');

-- CreateTable
CREATE TABLE "Merchant" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Merchant_pkey" PRIMARY KEY ("id")
);

INSERT INTO "Merchant" ("id", "name") VALUES ('mer_default', 'Default merchant');

-- A customer id is the merchant's own: unique per merchant, not across them.
DROP INDEX "Customer_externalId_key";
ALTER TABLE "Customer" ADD COLUMN "merchantId" TEXT NOT NULL DEFAULT 'mer_default';
ALTER TABLE "Customer" ALTER COLUMN "merchantId" DROP DEFAULT;

-- The order keeps its own recipient: the email its checkout gave (until now, the customer's).
ALTER TABLE "Order" ADD COLUMN "merchantId" TEXT NOT NULL DEFAULT 'mer_default',
ADD COLUMN "recipient" TEXT;
UPDATE "Order" o SET "recipient" = c."email" FROM "Customer" c WHERE c."id" = o."customerId";
ALTER TABLE "Order" ALTER COLUMN "merchantId" DROP DEFAULT,
ALTER COLUMN "recipient" SET NOT NULL;

ALTER TABLE "WebhookEndpoint" ADD COLUMN "merchantId" TEXT NOT NULL DEFAULT 'mer_default';
ALTER TABLE "WebhookEndpoint" ALTER COLUMN "merchantId" DROP DEFAULT;

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" TEXT NOT NULL,
    "merchantId" TEXT NOT NULL,
    "type" "ApiKeyType" NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "scopes" TEXT[],
    "name" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Checkout" (
    "id" TEXT NOT NULL,
    "merchantId" TEXT NOT NULL,
    "clientSecret" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Checkout_pkey" PRIMARY KEY ("id")
);

-- The checkouts that wrote an order before merchants existed stay reachable, as mer_default's.
INSERT INTO "Checkout" ("id", "merchantId", "clientSecret", "createdAt")
SELECT "checkoutId", 'mer_default', 'chk_secret_' || replace(gen_random_uuid()::text, '-', ''), "createdAt" FROM "Order";

-- CreateTable
CREATE TABLE "IdempotencyKey" (
    "merchantId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "checkoutId" TEXT NOT NULL,
    "requestHash" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "IdempotencyKey_pkey" PRIMARY KEY ("merchantId","key")
);

-- CreateIndex
CREATE UNIQUE INDEX "ApiKey_hash_key" ON "ApiKey"("hash");

-- CreateIndex
CREATE INDEX "ApiKey_merchantId_idx" ON "ApiKey"("merchantId");

-- CreateIndex
CREATE INDEX "Checkout_merchantId_createdAt_idx" ON "Checkout"("merchantId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Customer_merchantId_externalId_key" ON "Customer"("merchantId", "externalId");

-- CreateIndex
CREATE INDEX "Order_merchantId_createdAt_idx" ON "Order"("merchantId", "createdAt");

-- CreateIndex
CREATE INDEX "WebhookEndpoint_merchantId_idx" ON "WebhookEndpoint"("merchantId");

-- AddForeignKey
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_merchantId_fkey" FOREIGN KEY ("merchantId") REFERENCES "Merchant"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

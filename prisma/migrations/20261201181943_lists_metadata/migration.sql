-- Lists (api/pagination.ts): newest first with ties by id, per merchant and per customer; the
-- columns GET /checkouts filters on; metadata on checkouts and orders.

-- DropIndex
DROP INDEX "Checkout_merchantId_createdAt_idx";

-- DropIndex
DROP INDEX "Order_merchantId_createdAt_idx";

-- AlterTable
ALTER TABLE "Checkout" ADD COLUMN     "customerExternalId" TEXT,
ADD COLUMN     "metadata" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "provider" TEXT;

-- AlterTable
ALTER TABLE "Order" ADD COLUMN     "metadata" JSONB NOT NULL DEFAULT '{}';

-- CreateIndex
CREATE INDEX "Checkout_merchantId_createdAt_id_idx" ON "Checkout"("merchantId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "Checkout_merchantId_customerExternalId_createdAt_id_idx" ON "Checkout"("merchantId", "customerExternalId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "Order_merchantId_createdAt_id_idx" ON "Order"("merchantId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "Order_customerId_createdAt_id_idx" ON "Order"("customerId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "Payment_createdAt_id_idx" ON "Payment"("createdAt", "id");

-- The checkouts started before lists: what their order and payment rows say (a checkout whose
-- order was never written stays unlisted, as one that never started).
UPDATE "Checkout" c SET "customerExternalId" = cu."externalId"
FROM "Order" o JOIN "Customer" cu ON cu."id" = o."customerId"
WHERE o."checkoutId" = c."id";
UPDATE "Checkout" c SET "provider" = p."provider" FROM "Payment" p WHERE p."checkoutId" = c."id";

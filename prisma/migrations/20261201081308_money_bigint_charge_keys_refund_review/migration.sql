-- AlterTable
ALTER TABLE "Order" ALTER COLUMN "totalAmount" SET DATA TYPE BIGINT;

-- AlterTable
ALTER TABLE "OrderItem" ALTER COLUMN "unitAmount" SET DATA TYPE BIGINT,
ALTER COLUMN "lineTotal" SET DATA TYPE BIGINT;

-- AlterTable
ALTER TABLE "Payment" ADD COLUMN     "keysUsed" TEXT[] DEFAULT ARRAY[]::TEXT[],
ALTER COLUMN "amount" SET DATA TYPE BIGINT,
ALTER COLUMN "refundedAmount" SET DATA TYPE BIGINT;

-- AlterTable
ALTER TABLE "PaymentAttempt" ADD COLUMN     "idempotencyKey" TEXT,
ADD COLUMN     "reference" TEXT;

-- AlterTable
ALTER TABLE "Refund" ADD COLUMN     "needsAttention" TEXT,
ADD COLUMN     "outcomeUnknownAt" TIMESTAMP(3),
ALTER COLUMN "amount" SET DATA TYPE BIGINT;

-- AlterTable
ALTER TABLE "SandboxCharge" ALTER COLUMN "amount" SET DATA TYPE BIGINT,
ALTER COLUMN "refundedAmount" SET DATA TYPE BIGINT;

-- AlterTable
ALTER TABLE "SandboxRefund" ALTER COLUMN "amount" SET DATA TYPE BIGINT;

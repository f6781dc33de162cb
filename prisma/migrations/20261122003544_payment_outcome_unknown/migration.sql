-- AlterTable
ALTER TABLE "Payment" ADD COLUMN     "outcomeUnknownAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "Customer" ADD COLUMN     "lastDeclineReportedAt" TIMESTAMP(3);

-- Declines reported before this column are not known: every existing customer is asked about
-- (as before) until a hold that one of them might be under has ended.
UPDATE "Customer" SET "lastDeclineReportedAt" = CURRENT_TIMESTAMP;

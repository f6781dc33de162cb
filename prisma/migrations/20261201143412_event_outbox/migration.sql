-- AlterTable
ALTER TABLE "Event" ADD COLUMN     "dispatchedAt" TIMESTAMP(3),
ADD COLUMN     "merchantId" TEXT,
ADD COLUMN     "sourceWorkflowId" TEXT;

-- CreateIndex
CREATE INDEX "Event_dispatchedAt_createdAt_idx" ON "Event"("dispatchedAt", "createdAt");

-- Events from before the outbox were delivered by their own workflows: none waits for the relay.
UPDATE "Event" SET "dispatchedAt" = "createdAt" WHERE "dispatchedAt" IS NULL;

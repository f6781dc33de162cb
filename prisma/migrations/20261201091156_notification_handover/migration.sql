-- AlterTable
ALTER TABLE "Notification" ADD COLUMN     "handedOverAt" TIMESTAMP(3);

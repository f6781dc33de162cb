-- AlterTable
ALTER TABLE "Order" ADD COLUMN     "country" TEXT;

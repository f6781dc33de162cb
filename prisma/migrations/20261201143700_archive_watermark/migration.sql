-- CreateTable
CREATE TABLE "ArchiveWatermark" (
    "taskQueue" TEXT NOT NULL,
    "closeTime" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ArchiveWatermark_pkey" PRIMARY KEY ("taskQueue")
);

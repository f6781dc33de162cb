-- CreateTable
CREATE TABLE "HistoryArchive" (
    "seq" INTEGER NOT NULL,
    "workflowId" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "checkoutId" TEXT,
    "workflowType" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "closedAt" TIMESTAMP(3) NOT NULL,
    "archivedAt" TIMESTAMP(3) NOT NULL,
    "history" TEXT NOT NULL,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "HistoryArchive_pkey" PRIMARY KEY ("seq")
);

-- CreateIndex
CREATE UNIQUE INDEX "HistoryArchive_hash_key" ON "HistoryArchive"("hash");

-- CreateIndex
CREATE INDEX "HistoryArchive_checkoutId_idx" ON "HistoryArchive"("checkoutId");

-- CreateIndex
CREATE UNIQUE INDEX "HistoryArchive_workflowId_runId_key" ON "HistoryArchive"("workflowId", "runId");

-- Append-only: the archive is evidence. Refuse every change but INSERT, whoever asks (a superuser
-- can still disable the trigger; the hash chain is what catches that).
CREATE FUNCTION "history_archive_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'HistoryArchive is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER "HistoryArchive_no_update_or_delete" BEFORE UPDATE OR DELETE ON "HistoryArchive"
  FOR EACH ROW EXECUTE FUNCTION "history_archive_append_only"();

CREATE TRIGGER "HistoryArchive_no_truncate" BEFORE TRUNCATE ON "HistoryArchive"
  FOR EACH STATEMENT EXECUTE FUNCTION "history_archive_append_only"();

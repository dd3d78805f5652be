-- A finished run's per-item records (every item's outcome per model) are kept
-- apart from its summary: listing runs and trends read summaries only, while
-- report, compare and the viewer read the records of one run.
ALTER TABLE runs ADD COLUMN records BYTEA;

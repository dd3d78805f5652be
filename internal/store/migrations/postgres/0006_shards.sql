-- Sharded runs (tunecheck run --shard i/n): one row per shard of a run,
-- written when the shard starts and stamped done_at when it has stored a
-- result for each of its items. The run is finished (merged) only once every
-- shard 0..shards-1 is done. run_group is the --run-group the shards shared.
-- Like labels, shard rows sit beside a run and have no trigger of their own:
-- the run and its results stay immutable once finished.
CREATE TABLE IF NOT EXISTS run_shards (
	run_id     TEXT COLLATE "C" NOT NULL,
	shard      INTEGER NOT NULL,
	shards     INTEGER NOT NULL CHECK (shards > 0 AND shard >= 0 AND shard < shards),
	run_group  TEXT NOT NULL DEFAULT '',
	started_at BIGINT NOT NULL,
	done_at    BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (run_id, shard)
);

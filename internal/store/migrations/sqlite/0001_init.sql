-- Runs, per-item results and the response cache (SQLite).
-- Times are Unix nanoseconds in UTC; seed is the uint64 bit pattern stored as a signed 64-bit integer.
CREATE TABLE runs (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	plan_hash    TEXT NOT NULL,
	plan         BLOB,
	tool_version TEXT NOT NULL DEFAULT '',
	seed         INTEGER NOT NULL DEFAULT 0,
	datasets     TEXT NOT NULL DEFAULT '{}',
	models       BLOB,
	status       TEXT NOT NULL CHECK (status IN ('running', 'finished')),
	verdict      TEXT NOT NULL DEFAULT '',
	summary      BLOB,
	started_at   INTEGER NOT NULL,
	finished_at  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_plan_hash ON runs (plan_hash, status, started_at);
CREATE INDEX runs_name ON runs (name, started_at);

CREATE TABLE results (
	run_id            TEXT NOT NULL REFERENCES runs (id),
	model             TEXT NOT NULL,
	task              TEXT NOT NULL,
	item_id           TEXT NOT NULL,
	request_hash      TEXT NOT NULL,
	request           BLOB,
	response          BLOB,
	error             TEXT NOT NULL DEFAULT '',
	attempts          INTEGER NOT NULL DEFAULT 0,
	latency_ms        REAL NOT NULL DEFAULT 0,
	cached            INTEGER NOT NULL DEFAULT 0,
	prompt_tokens     INTEGER NOT NULL DEFAULT 0,
	completion_tokens INTEGER NOT NULL DEFAULT 0,
	scores            TEXT NOT NULL DEFAULT '{}',
	UNIQUE (run_id, model, task, item_id)
);

CREATE TABLE response_cache (
	key        TEXT PRIMARY KEY,
	value      BLOB NOT NULL,
	created_at INTEGER NOT NULL
);

-- A finished run is a record: the database itself refuses to change it, so a
-- late writer (another shard, a stale process) cannot either.
CREATE TRIGGER runs_finished_immutable BEFORE UPDATE ON runs
WHEN OLD.status = 'finished'
BEGIN
	SELECT RAISE(ABORT, 'tunecheck: run is finished and immutable');
END;
CREATE TRIGGER runs_finished_undeletable BEFORE DELETE ON runs
WHEN OLD.status = 'finished'
BEGIN
	SELECT RAISE(ABORT, 'tunecheck: run is finished and immutable');
END;
CREATE TRIGGER results_finished_insert BEFORE INSERT ON results
WHEN (SELECT status FROM runs WHERE id = NEW.run_id) = 'finished'
BEGIN
	SELECT RAISE(ABORT, 'tunecheck: run is finished and immutable');
END;
CREATE TRIGGER results_finished_update BEFORE UPDATE ON results
WHEN (SELECT status FROM runs WHERE id = OLD.run_id) = 'finished'
BEGIN
	SELECT RAISE(ABORT, 'tunecheck: run is finished and immutable');
END;
CREATE TRIGGER results_finished_delete BEFORE DELETE ON results
WHEN (SELECT status FROM runs WHERE id = OLD.run_id) = 'finished'
BEGIN
	SELECT RAISE(ABORT, 'tunecheck: run is finished and immutable');
END;

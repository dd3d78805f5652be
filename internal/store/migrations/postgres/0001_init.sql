-- Runs, per-item results and the response cache (PostgreSQL).
-- Times are Unix nanoseconds in UTC; seed is the uint64 bit pattern stored as a signed 64-bit integer.
-- Text keys use the "C" collation so that ORDER BY gives the same byte order as SQLite.
CREATE TABLE runs (
	id           TEXT COLLATE "C" PRIMARY KEY,
	name         TEXT COLLATE "C" NOT NULL,
	plan_hash    TEXT NOT NULL,
	plan         BYTEA,
	tool_version TEXT NOT NULL DEFAULT '',
	seed         BIGINT NOT NULL DEFAULT 0,
	datasets     TEXT NOT NULL DEFAULT '{}',
	models       BYTEA,
	status       TEXT NOT NULL CHECK (status IN ('running', 'finished')),
	verdict      TEXT NOT NULL DEFAULT '',
	summary      BYTEA,
	started_at   BIGINT NOT NULL,
	finished_at  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX runs_plan_hash ON runs (plan_hash, status, started_at);
CREATE INDEX runs_name ON runs (name, started_at);

CREATE TABLE results (
	run_id            TEXT COLLATE "C" NOT NULL REFERENCES runs (id),
	model             TEXT COLLATE "C" NOT NULL,
	task              TEXT COLLATE "C" NOT NULL,
	item_id           TEXT COLLATE "C" NOT NULL,
	request_hash      TEXT NOT NULL,
	request           BYTEA,
	response          BYTEA,
	error             TEXT NOT NULL DEFAULT '',
	attempts          INTEGER NOT NULL DEFAULT 0,
	latency_ms        DOUBLE PRECISION NOT NULL DEFAULT 0,
	cached            INTEGER NOT NULL DEFAULT 0,
	prompt_tokens     INTEGER NOT NULL DEFAULT 0,
	completion_tokens INTEGER NOT NULL DEFAULT 0,
	scores            TEXT NOT NULL DEFAULT '{}',
	UNIQUE (run_id, model, task, item_id)
);

CREATE TABLE response_cache (
	key        TEXT PRIMARY KEY,
	value      BYTEA NOT NULL,
	created_at BIGINT NOT NULL
);

-- A finished run is a record: the database itself refuses to change it, so a
-- late writer (another shard, a stale process) cannot either.
CREATE FUNCTION tunecheck_run_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	st TEXT;
BEGIN
	IF TG_TABLE_NAME = 'runs' THEN
		st := OLD.status;
	ELSIF TG_OP = 'INSERT' THEN
		SELECT status INTO st FROM runs WHERE id = NEW.run_id;
	ELSE
		SELECT status INTO st FROM runs WHERE id = OLD.run_id;
	END IF;
	IF st = 'finished' THEN
		RAISE EXCEPTION 'tunecheck: run is finished and immutable';
	END IF;
	IF TG_OP = 'DELETE' THEN
		RETURN OLD;
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER runs_finished_immutable BEFORE UPDATE OR DELETE ON runs
	FOR EACH ROW EXECUTE FUNCTION tunecheck_run_immutable();
CREATE TRIGGER results_finished_immutable BEFORE INSERT OR UPDATE OR DELETE ON results
	FOR EACH ROW EXECUTE FUNCTION tunecheck_run_immutable();

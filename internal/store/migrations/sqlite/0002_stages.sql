-- Pipeline v2: a result belongs to a stage of its task (generate, turn2,
-- judge, …); the key gains the stage. Results stored before stages existed
-- are the first stage of their task and keep the empty stage name. SQLite
-- cannot change a UNIQUE constraint in place, so the table is rebuilt (its
-- triggers go with it and are created again).
CREATE TABLE results_v2 (
	run_id            TEXT NOT NULL REFERENCES runs (id),
	model             TEXT NOT NULL,
	task              TEXT NOT NULL,
	stage             TEXT NOT NULL DEFAULT '',
	item_id           TEXT NOT NULL,
	endpoint          TEXT NOT NULL DEFAULT '',
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
	UNIQUE (run_id, model, task, stage, item_id)
);
INSERT INTO results_v2 (run_id, model, task, item_id, request_hash, request, response, error, attempts, latency_ms, cached, prompt_tokens, completion_tokens, scores)
	SELECT run_id, model, task, item_id, request_hash, request, response, error, attempts, latency_ms, cached, prompt_tokens, completion_tokens, scores FROM results;
DROP TABLE results;
ALTER TABLE results_v2 RENAME TO results;

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

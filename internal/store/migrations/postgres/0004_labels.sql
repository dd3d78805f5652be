-- Human labels recorded in the viewer (tunecheck view): one per (run, task,
-- item, user, kind); a new label of the same kind replaces the old one. Labels
-- sit beside a run and never change it or its results, so finished runs take
-- labels (the immutability triggers guard runs and results only). run_id has
-- no foreign key: AddLabel checks the run, and tools that drop and rebuild the
-- run tables need not know about this one.
-- value is JSON: "A" / "B" / "tie", a number, an array of strings or a string.
-- blind_left and blind_right name the models shown left and right when the
-- label was given blind ('' otherwise).
CREATE TABLE IF NOT EXISTS labels (
	id          BIGSERIAL PRIMARY KEY,
	run_id      TEXT COLLATE "C" NOT NULL,
	task        TEXT COLLATE "C" NOT NULL,
	item_id     TEXT COLLATE "C" NOT NULL,
	user_name   TEXT COLLATE "C" NOT NULL,
	kind        TEXT NOT NULL CHECK (kind IN ('preference', 'rating', 'tags', 'note')),
	value       TEXT NOT NULL,
	blind_left  TEXT NOT NULL DEFAULT '',
	blind_right TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	UNIQUE (run_id, task, item_id, user_name, kind)
);

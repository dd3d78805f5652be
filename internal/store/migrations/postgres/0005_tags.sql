-- Run tags: a JSON object of string keys and values (e.g. the checkpoint step
-- and path `tunecheck watch` evaluated, or `tunecheck run --tag k=v`). Set
-- when a run is created; finished runs stay immutable like every other column.
ALTER TABLE runs ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';

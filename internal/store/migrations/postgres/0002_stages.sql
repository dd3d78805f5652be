-- Pipeline v2: a result belongs to a stage of its task (generate, turn2,
-- judge, …); the key gains the stage. Results stored before stages existed
-- are the first stage of their task and keep the empty stage name.
ALTER TABLE results ADD COLUMN stage TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE results ADD COLUMN endpoint TEXT NOT NULL DEFAULT '';
ALTER TABLE results DROP CONSTRAINT results_run_id_model_task_item_id_key;
ALTER TABLE results ADD CONSTRAINT results_key UNIQUE (run_id, model, task, stage, item_id);

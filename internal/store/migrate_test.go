package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// TestMigrationV1ToStages opens a database written by tunecheck before stages
// existed: its results survive as the first stage ("") of their task, and the
// same item can then be stored again under another stage.
func TestMigrationV1ToStages(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := migrationsFS.ReadFile("migrations/sqlite/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		string(v1),
		`CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
		`INSERT INTO schema_version VALUES (1, '0001_init.sql', 0)`,
		`INSERT INTO runs (id, name, plan_hash, status, started_at) VALUES ('r1', 'p', 'h', 'running', 1)`,
		`INSERT INTO results (run_id, model, task, item_id, request_hash, response, scores) VALUES ('r1', 'base', 'qa', 'q1', 'rh', '{"text":"hi"}', '{}')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err := Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rs, err := s.Results(ctx, "r1")
	if err != nil || len(rs) != 1 || rs[0].ItemID != "q1" || rs[0].Stage != "" || string(rs[0].Response) != `{"text":"hi"}` {
		t.Fatalf("after migration: %+v, %v", rs, err)
	}
	if err := s.PutResults(ctx, []Result{{RunID: "r1", Model: "base", Task: "qa", Stage: "turn2", ItemID: "q1", RequestHash: "rh2"}}); err != nil {
		t.Fatal(err)
	}
	done, err := s.DoneKeys(ctx, "r1")
	if err != nil || !done[Key{"base", "qa", "", "q1"}] || !done[Key{"base", "qa", "turn2", "q1"}] {
		t.Fatalf("DoneKeys = %v, %v", done, err)
	}
	// The immutability triggers came back with the rebuilt table.
	if err := s.FinishRun(ctx, "r1", "pass", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	err = s.PutResults(ctx, []Result{{RunID: "r1", Model: "base", Task: "qa", Stage: "turn3", ItemID: "q1", RequestHash: "rh3"}})
	if err == nil {
		t.Fatal("a finished run accepted a new result after the migration")
	}
}

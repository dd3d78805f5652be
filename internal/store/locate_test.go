package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLocate(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "abs.db")
	pg := "postgres://u:p@localhost:5432/tc?sslmode=disable"
	cases := []struct {
		name                     string
		flag, planStore, planDir string
		want                     string
	}{
		{"default", "", "", "", DefaultPath},
		{"plan without store key: current directory, not the plan's", "", "", "examples/quickstart", DefaultPath},
		{"plan store resolved against the plan dir", "", ".tunecheck/tunecheck.db", "examples/quickstart", "examples/quickstart/.tunecheck/tunecheck.db"},
		{"sqlite: prefix resolved too", "", "sqlite:runs.db", "proj", "proj/runs.db"},
		{"sqlite:// prefix resolved too", "", "sqlite://runs.db", "proj", "proj/runs.db"},
		{"plan in the current directory", "", "runs.db", ".", "runs.db"},
		{"parent of the plan dir", "", "../shared/tc.db", "a/b", "a/shared/tc.db"},
		{"absolute plan store", "", abs, "proj", abs},
		{"absolute sqlite: plan store", "", "sqlite:" + abs, "proj", abs},
		{"postgres plan store unchanged", "", pg, "proj", pg},
		{"postgresql plan store unchanged", "", "postgresql://h/db", "proj", "postgresql://h/db"},
		{"in-memory", "", "sqlite::memory:", "proj", ":memory:"},
		{"flag beats the plan", "mine.db", "theirs.db", "proj", "mine.db"},
		{"flag is not resolved against the plan", "sqlite:mine.db", "", "proj", "sqlite:mine.db"},
		{"postgres flag unchanged", pg, "theirs.db", "proj", pg},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Locate(c.flag, c.planStore, c.planDir); got != c.want {
				t.Errorf("Locate(%q, %q, %q) = %q, want %q", c.flag, c.planStore, c.planDir, got, c.want)
			}
		})
	}
}

// TestOpenExisting: a missing SQLite file is ErrNoStore with a message that
// says what to do, and nothing is created; an existing one opens.
func TestOpenExisting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	missing := filepath.Join(dir, ".tunecheck", "tunecheck.db")
	for _, dsn := range []string{missing, "sqlite:" + missing, "sqlite://" + missing} {
		_, err := OpenExisting(ctx, dsn)
		if !errors.Is(err, ErrNoStore) {
			t.Fatalf("OpenExisting(%q) = %v, want ErrNoStore", dsn, err)
		}
		if want := "no store at " + missing + "; run a plan first or pass --store"; err.Error() != want {
			t.Errorf("message %q, want %q", err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".tunecheck")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("OpenExisting created the store directory: %v", err)
	}
	if _, err := OpenExisting(ctx, dir); err == nil || errors.Is(err, ErrNoStore) {
		t.Errorf("a directory: %v, want an error other than ErrNoStore", err)
	}

	// Once run has created it, the read commands open it.
	s, err := Open(ctx, missing)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = OpenExisting(ctx, "sqlite:"+missing)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.SchemaVersion(ctx); err != nil || v == 0 {
		t.Errorf("schema version %d, %v", v, err)
	}
}

// TestOpenExistingPostgres: a PostgreSQL DSN names no file; it opens (and
// migrates) as with Open, in a schema of its own.
func TestOpenExistingPostgres(t *testing.T) {
	dsn := os.Getenv("TUNECHECK_TEST_POSTGRES")
	if pgOff(t, dsn) {
		t.Skip(pgSkip)
	}
	if dsn == "" {
		t.Skip("PostgreSQL not tested: set TUNECHECK_TEST_POSTGRES (eval \"$(scripts/pg-test.sh start)\")")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	schema := fmt.Sprintf("t_open_existing_%d", time.Now().UnixNano())
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatal(err)
	}
	defer admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	s, err := OpenExisting(context.Background(), dsn+sep+"search_path="+schema)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Backend() != Postgres {
		t.Errorf("backend %s", s.Backend())
	}
}

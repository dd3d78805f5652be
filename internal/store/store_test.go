package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/cpuclock"
)

// backend opens a fresh, empty store of one kind for one test.
type backend struct {
	name string
	open func(t *testing.T) *Store
}

// backends returns SQLite always and PostgreSQL when TUNECHECK_TEST_POSTGRES
// names a database (scripts/pg-test.sh starts one); "off" makes the PostgreSQL
// cases SKIP. In CI the PostgreSQL DSN is required: a store that only ever
// meets SQLite in CI is not tested.
func backends(t *testing.T) []backend {
	t.Helper()
	bs := []backend{{name: "sqlite", open: func(t *testing.T) *Store {
		return OpenSQLiteForTest(t, filepath.Join(t.TempDir(), "sub", "t.db"))
	}}}
	dsn := os.Getenv("TUNECHECK_TEST_POSTGRES")
	switch {
	case pgOff(t, dsn):
		bs = append(bs, backend{name: "postgres", open: func(t *testing.T) *Store { t.Skip(pgSkip); return nil }})
	case dsn != "":
		bs = append(bs, backend{name: "postgres", open: func(t *testing.T) *Store { return openPostgresForTest(t, dsn) }})
	case os.Getenv("CI") == "true":
		t.Fatal("TUNECHECK_TEST_POSTGRES is unset in CI: run `eval \"$(scripts/pg-test.sh start)\"` before go test")
	default:
		t.Log("PostgreSQL not tested: set TUNECHECK_TEST_POSTGRES (eval \"$(scripts/pg-test.sh start)\")")
	}
	return bs
}

const pgSkip = "SKIP: PostgreSQL not tested (TUNECHECK_TEST_POSTGRES=off)"

// pgOff reports whether TUNECHECK_TEST_POSTGRES=off asks to skip the
// PostgreSQL cases; CI refuses it.
func pgOff(t *testing.T, dsn string) bool {
	t.Helper()
	if dsn != "off" {
		return false
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("TUNECHECK_TEST_POSTGRES=off is refused in CI: CI tests the PostgreSQL store")
	}
	return true
}

// OpenSQLiteForTest opens an SQLite store at path and closes it with the test.
func OpenSQLiteForTest(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openPostgresForTest gives the test its own schema in the test database, so tests
// run in parallel and leave nothing behind.
func openPostgresForTest(t *testing.T, dsn string) *Store {
	t.Helper()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("creating schema in %s: %v (is the server from scripts/pg-test.sh still running?)", redactDSN(dsn), err)
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	s, err := Open(context.Background(), dsn+sep+"search_path="+schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		if admin, err := sql.Open("pgx", dsn); err == nil {
			admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
			admin.Close()
		}
	})
	return s
}

func TestParseDSN(t *testing.T) {
	for _, tc := range []struct {
		dsn     string
		backend Backend
		target  string
	}{
		{"", SQLite, ".tunecheck/tunecheck.db"},
		{"runs.db", SQLite, "runs.db"},
		{"/abs/x.db", SQLite, "/abs/x.db"},
		{"sqlite:rel/x.db", SQLite, "rel/x.db"},
		{"sqlite:///abs/x.db", SQLite, "/abs/x.db"},
		{"postgres://u:p@h/db", Postgres, "postgres://u:p@h/db"},
		{"postgresql://h/db?sslmode=disable", Postgres, "postgresql://h/db?sslmode=disable"},
	} {
		b, target := ParseDSN(tc.dsn)
		if b != tc.backend || target != tc.target {
			t.Errorf("ParseDSN(%q) = %s, %q; want %s, %q", tc.dsn, b, target, tc.backend, tc.target)
		}
	}
	if got := redactDSN("postgres://me:secret@h:5432/db"); got != "postgres://me:xxxxx@h:5432/db" {
		t.Errorf("redactDSN = %q", got)
	}
}

func TestOpenDefaultPathWAL(t *testing.T) {
	t.Chdir(t.TempDir())
	s, err := Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(DefaultPath); err != nil {
		t.Fatalf("default store file: %v", err)
	}
	var mode string
	if err := s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
}

func TestOpenUnwritableDir(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), filepath.Join(blocker, "x.db"))
	if err == nil || !strings.Contains(err.Error(), "creating the store directory") {
		t.Fatalf("err = %v; want a directory error", err)
	}
}

func TestMigrations(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			ms, err := s.migrations()
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			v, err := s.SchemaVersion(ctx)
			if err != nil || v != ms[len(ms)-1].version {
				t.Fatalf("schema version = %d, %v; want %d", v, err, ms[len(ms)-1].version)
			}
			// Re-running is a no-op, also from several goroutines at once.
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for range 4 {
				wg.Go(func() { errs <- s.migrate(ctx) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			var n int
			if err := s.db.QueryRow(`SELECT COUNT(*) FROM schema_version`).Scan(&n); err != nil || n != len(ms) {
				t.Fatalf("schema_version rows = %d, %v; want %d", n, err, len(ms))
			}
			// A database from a newer tunecheck is refused with a hint.
			if _, err := s.db.Exec(s.rebind(`INSERT INTO schema_version (version, name, applied_at) VALUES (?, 'future', 0)`), 9999); err != nil {
				t.Fatal(err)
			}
			if err := s.migrate(ctx); err == nil || !strings.Contains(err.Error(), "upgrade tunecheck") {
				t.Fatalf("migrate on a newer schema: %v", err)
			}
		})
	}
}

func fixedClock(t0 time.Time) func() time.Time {
	var mu sync.Mutex
	now := t0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
}

func TestRuns(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			s.SetClock(fixedClock(t0))
			full := Run{
				ID: "20261123T050000Z-aaaa0001", Name: "tickets", PlanHash: "h1", Plan: []byte(`{"a":1}`),
				ToolVersion: "v0.1.0", Seed: math.MaxUint64, Datasets: map[string]string{"qa": "fp1", "sum": "fp2"},
				Models: []byte(`[{"name":"base"}]`), StartedAt: t0.Add(time.Minute),
			}
			runs := []Run{
				full,
				{ID: "20261123T050100Z-aaaa0002", Name: "tickets", PlanHash: "h1", StartedAt: t0.Add(2 * time.Minute)},
				{ID: "20261123T050200Z-bbbb0003", Name: "other", PlanHash: "h2", StartedAt: t0.Add(3 * time.Minute)},
			}
			for _, r := range runs {
				if err := s.CreateRun(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.CreateRun(ctx, runs[0]); err == nil {
				t.Fatal("creating a run twice succeeded")
			}
			if err := s.CreateRun(ctx, Run{Name: "x"}); err == nil {
				t.Fatal("creating a run without id succeeded")
			}

			got, err := s.GetRun(ctx, full.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := full
			want.Status = StatusRunning
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("GetRun round trip:\n got %+v\nwant %+v", got, want)
			}
			if got, err := s.GetRun(ctx, "20261123T0502"); err != nil || got.ID != runs[2].ID {
				t.Fatalf("GetRun(unique prefix) = %s, %v", got.ID, err)
			}
			if _, err := s.GetRun(ctx, "20261123T05"); !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), runs[1].ID) {
				t.Fatalf("GetRun(ambiguous prefix) err = %v", err)
			}
			if _, err := s.GetRun(ctx, "2026112_"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("GetRun(prefix with _) err = %v; want not found (no LIKE wildcards)", err)
			}
			if _, err := s.GetRun(ctx, "zzz"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("GetRun(missing) err = %v", err)
			}

			for _, tc := range []struct {
				name  string
				limit int
				want  []string
			}{
				{"", 0, []string{runs[2].ID, runs[1].ID, runs[0].ID}},
				{"", 2, []string{runs[2].ID, runs[1].ID}},
				{"tickets", 0, []string{runs[1].ID, runs[0].ID}},
				{"nope", 0, nil},
			} {
				rs, err := s.ListRuns(ctx, tc.name, tc.limit)
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, r := range rs {
					ids = append(ids, r.ID)
				}
				if !reflect.DeepEqual(ids, tc.want) {
					t.Errorf("ListRuns(%q, %d) = %v; want %v", tc.name, tc.limit, ids, tc.want)
				}
			}

			r, ok, err := s.ResumableRun(ctx, "h1")
			if err != nil || !ok || r.ID != runs[1].ID {
				t.Fatalf("ResumableRun(h1) = %s, %v, %v; want the latest unfinished", r.ID, ok, err)
			}
			if err := s.FinishRun(ctx, runs[1].ID, "pass", []byte(`{"verdict":"pass"}`)); err != nil {
				t.Fatal(err)
			}
			r, ok, err = s.ResumableRun(ctx, "h1")
			if err != nil || !ok || r.ID != runs[0].ID {
				t.Fatalf("ResumableRun(h1) after finishing the latest = %s, %v, %v", r.ID, ok, err)
			}
			if _, ok, err := s.ResumableRun(ctx, "h9"); ok || err != nil {
				t.Fatalf("ResumableRun(unknown) = %v, %v", ok, err)
			}
			fin, err := s.GetRun(ctx, runs[1].ID)
			if err != nil || fin.Status != StatusFinished || fin.Verdict != "pass" || string(fin.Summary) != `{"verdict":"pass"}` || fin.FinishedAt.IsZero() {
				t.Fatalf("finished run = %+v, %v", fin, err)
			}
			if err := s.FinishRun(ctx, runs[1].ID, "fail", nil); !errors.Is(err, ErrRunFinished) {
				t.Fatalf("finishing twice: err = %v; want ErrRunFinished", err)
			}
			if err := s.FinishRun(ctx, "missing", "fail", nil); !errors.Is(err, ErrNotFound) {
				t.Fatalf("finishing a missing run: err = %v", err)
			}
		})
	}
}

func res(run, model, task, item, errText string) Result {
	return Result{RunID: run, Model: model, Task: task, ItemID: item, RequestHash: "rh-" + item,
		Request: []byte(`{"item_id":"` + item + `"}`), Response: []byte(`{"text":"` + model + item + `"}`),
		Error: errText, Attempts: 1, LatencyMS: 12.5, PromptTokens: 10, CompletionTokens: 3}
}

func TestResults(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.CreateRun(ctx, Run{ID: "r1", Name: "n", PlanHash: "h"}); err != nil {
				t.Fatal(err)
			}
			// Byte order, not locale order: "B" < "a", "item10" < "item9".
			first := []Result{
				res("r1", "tuned", "qa", "item9", ""),
				res("r1", "base", "qa", "item9", "HTTP 500: boom"),
				res("r1", "base", "qa", "item10", ""),
				res("r1", "base", "Qa", "x", ""),
				res("r1", "Base", "qa", "x", "HTTP 429: slow down"),
			}
			first[0].Cached = true
			first[0].Scores = map[string]float64{"exact": 1, "f1": 0.5}
			if err := s.PutResults(ctx, first); err != nil {
				t.Fatal(err)
			}
			// A resumed run: failures become successes, a success is not overwritten
			// by a later failure nor duplicated by a later success.
			second := []Result{
				res("r1", "base", "qa", "item9", ""),
				res("r1", "base", "qa", "item10", "HTTP 500: late failure"),
				res("r1", "tuned", "qa", "item9", ""),
				res("r1", "Base", "qa", "x", "HTTP 429: still slow"),
			}
			second[0].Attempts = 3
			second[3].Attempts = 4
			if err := s.PutResults(ctx, second); err != nil {
				t.Fatal(err)
			}
			got, err := s.Results(ctx, "r1")
			if err != nil {
				t.Fatal(err)
			}
			want := []Result{
				withAttempts(res("r1", "Base", "qa", "x", "HTTP 429: still slow"), 4),
				res("r1", "base", "Qa", "x", ""),
				res("r1", "base", "qa", "item10", ""),
				withAttempts(res("r1", "base", "qa", "item9", ""), 3),
				first[0],
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Results:\n got %+v\nwant %+v", got, want)
			}
			done, err := s.DoneKeys(ctx, "r1")
			if err != nil {
				t.Fatal(err)
			}
			wantDone := map[Key]bool{{"base", "Qa", "", "x"}: true, {"base", "qa", "", "item10"}: true, {"base", "qa", "", "item9"}: true, {"tuned", "qa", "", "item9"}: true}
			if !reflect.DeepEqual(done, wantDone) {
				t.Fatalf("DoneKeys = %v; want %v", done, wantDone)
			}

			if err := s.UpdateScores(ctx, "r1", []Result{{Model: "base", Task: "qa", ItemID: "item10", Scores: map[string]float64{"exact": 0}}}); err != nil {
				t.Fatal(err)
			}
			got, _ = s.Results(ctx, "r1")
			if !reflect.DeepEqual(got[2].Scores, map[string]float64{"exact": 0}) {
				t.Fatalf("scores after UpdateScores = %v", got[2].Scores)
			}
			err = s.UpdateScores(ctx, "r1", []Result{{Model: "base", Task: "qa", ItemID: "nope", Scores: map[string]float64{"exact": 0}}})
			if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "base/qa/nope") {
				t.Fatalf("UpdateScores(missing) err = %v", err)
			}
			if err := s.UpdateScores(ctx, "r1", []Result{{Model: "base", Task: "qa", ItemID: "item10", Scores: map[string]float64{"x": math.NaN()}}}); err == nil {
				t.Fatal("NaN score stored")
			}
			if err := s.PutResults(ctx, []Result{res("no-such-run", "m", "t", "i", "")}); err == nil {
				t.Fatal("result for a missing run stored")
			}

			// Finished: results are frozen.
			if err := s.FinishRun(ctx, "r1", "pass", nil); err != nil {
				t.Fatal(err)
			}
			if err := s.PutResults(ctx, []Result{res("r1", "base", "qa", "new", "")}); !errors.Is(err, ErrRunFinished) {
				t.Fatalf("insert into a finished run: err = %v", err)
			}
			if err := s.PutResults(ctx, []Result{res("r1", "Base", "qa", "x", "")}); !errors.Is(err, ErrRunFinished) {
				t.Fatalf("replacing a failure of a finished run: err = %v", err)
			}
			if err := s.UpdateScores(ctx, "r1", []Result{{Model: "base", Task: "qa", ItemID: "item10", Scores: map[string]float64{"exact": 1}}}); !errors.Is(err, ErrRunFinished) {
				t.Fatalf("rescoring a finished run: err = %v", err)
			}
			if _, err := s.db.Exec(s.rebind(`DELETE FROM results WHERE run_id = ?`), "r1"); err == nil || !strings.Contains(err.Error(), immutableMarker) {
				t.Fatalf("deleting results of a finished run: err = %v", err)
			}
			after, _ := s.Results(ctx, "r1")
			if len(after) != len(want) {
				t.Fatalf("finished run has %d results; want %d", len(after), len(want))
			}
		})
	}
}

func withAttempts(r Result, n int) Result {
	r.Attempts = n
	return r
}

func TestWriter(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.CreateRun(ctx, Run{ID: "w", Name: "n", PlanHash: "h"}); err != nil {
				t.Fatal(err)
			}
			w := s.NewWriter(WriterOptions{BatchSize: 7, FlushInterval: 20 * time.Millisecond})
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					for i := range 25 {
						if err := w.Add(ctx, res("w", "m", "t", fmt.Sprintf("g%d-%03d", g, i), "")); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if n := count(t, s, "w"); n != 100 {
				t.Fatalf("after Flush: %d results; want 100", n)
			}
			// A lone result is committed by the interval, without Flush or Close.
			if err := w.Add(ctx, res("w", "m", "t", "lone", "")); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for count(t, s, "w") != 101 {
				if time.Now().After(deadline) {
					t.Fatal("a lone result was not committed by the flush interval")
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := w.Add(ctx, res("w", "m", "t", "late", "")); !errors.Is(err, ErrWriterClosed) {
				t.Fatalf("Add after Close: %v", err)
			}

			// A commit error is sticky and names the cause.
			if err := s.FinishRun(ctx, "w", "pass", nil); err != nil {
				t.Fatal(err)
			}
			w2 := s.NewWriter(WriterOptions{})
			if err := w2.Add(ctx, res("w", "m", "t", "after-finish", "")); err != nil {
				t.Fatal(err)
			}
			if err := w2.Flush(ctx); !errors.Is(err, ErrRunFinished) {
				t.Fatalf("Flush into a finished run: %v", err)
			}
			if err := w2.Add(ctx, res("w", "m", "t", "after-finish2", "")); !errors.Is(err, ErrRunFinished) {
				t.Fatalf("Add after a failed commit: %v", err)
			}
			if err := w2.Close(); !errors.Is(err, ErrRunFinished) {
				t.Fatalf("Close after a failed commit: %v", err)
			}
		})
	}
}

func count(t *testing.T, s *Store, run string) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(s.rebind(`SELECT COUNT(*) FROM results WHERE run_id = ?`), run).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCache(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if _, ok, err := s.CacheGet(ctx, "k"); ok || err != nil {
				t.Fatalf("CacheGet(empty) = %v, %v", ok, err)
			}
			for _, v := range []string{`{"text":"one"}`, `{"text":"two"}`} {
				if err := s.CachePut(ctx, "k", []byte(v)); err != nil {
					t.Fatal(err)
				}
				got, ok, err := s.CacheGet(ctx, "k")
				if err != nil || !ok || string(got) != v {
					t.Fatalf("CacheGet = %q, %v, %v; want %q", got, ok, err, v)
				}
			}
			if err := s.CachePut(ctx, "empty", nil); err != nil {
				t.Fatal(err)
			}
			if got, ok, err := s.CacheGet(ctx, "empty"); err != nil || !ok || len(got) != 0 {
				t.Fatalf("CacheGet(empty value) = %q, %v, %v", got, ok, err)
			}
		})
	}
}

// Two processes (here: two handles) writing to one SQLite file wait on the busy
// timeout instead of failing with SQLITE_BUSY.
func TestSQLiteTwoWriters(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	a := OpenSQLiteForTest(t, path)
	b := OpenSQLiteForTest(t, path)
	if err := a.CreateRun(ctx, Run{ID: "r", Name: "n", PlanHash: "h"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, s := range []*Store{a, b} {
		wg.Go(func() {
			for j := range 50 {
				batch := []Result{res("r", fmt.Sprintf("m%d", i), "t", fmt.Sprint(j), "")}
				if err := s.PutResults(ctx, batch); err != nil {
					t.Error(err)
					return
				}
				if err := s.CachePut(ctx, fmt.Sprintf("%d-%d", i, j), []byte("v")); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := count(t, a, "r"); n != 100 {
		t.Fatalf("%d results; want 100", n)
	}
}

// One batch may carry a key twice (a failure and its retry); it is stored once,
// as row-by-row upserts would store it. Batches span several statements.
func TestPutBatchDuplicatesAndChunks(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.CreateRun(ctx, Run{ID: "r", Name: "n", PlanHash: "h"}); err != nil {
				t.Fatal(err)
			}
			ok1, ok2 := res("r", "m", "t", "dup", ""), res("r", "m", "t", "dup", "")
			ok1.LatencyMS, ok2.LatencyMS = 1, 2
			batch := []Result{res("r", "m", "t", "dup", "HTTP 500: a"), ok1, res("r", "m", "t", "dup", "HTTP 500: b"), ok2,
				res("r", "m", "t", "f", "HTTP 500: first"), res("r", "m", "t", "f", "HTTP 500: last")}
			for i := range 200 {
				batch = append(batch, res("r", "m", "bulk", fmt.Sprintf("%03d", i), ""))
			}
			cache := []CacheEntry{{"k", []byte("old")}, {"k", []byte("new")}}
			for i := range 150 {
				cache = append(cache, CacheEntry{fmt.Sprint(i), []byte("v")})
			}
			if err := s.PutBatch(ctx, batch, cache); err != nil {
				t.Fatal(err)
			}
			got, err := s.Results(ctx, "r")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 202 {
				t.Fatalf("%d results; want 202", len(got))
			}
			byItem := map[string]Result{}
			for _, r := range got {
				byItem[r.Task+"/"+r.ItemID] = r
			}
			if r := byItem["t/dup"]; r.Error != "" || r.LatencyMS != 1 {
				t.Fatalf("duplicate key stored as %+v; want the first success", r)
			}
			if r := byItem["t/f"]; r.Error != "HTTP 500: last" {
				t.Fatalf("repeated failure stored as %+v; want the last", r)
			}
			if v, _, _ := s.CacheGet(ctx, "k"); string(v) != "new" {
				t.Fatalf("cache k = %q; want the last value", v)
			}
			keys := []string{"k", "missing"}
			for i := range 1200 {
				keys = append(keys, fmt.Sprint(i))
			}
			have, err := s.CacheGetMany(ctx, keys)
			if err != nil {
				t.Fatal(err)
			}
			_, has149 := have["149"]
			_, has150 := have["150"]
			_, hasMissing := have["missing"]
			if len(have) != 151 || string(have["k"]) != "new" || !has149 || has150 || hasMissing {
				t.Fatalf("CacheGetMany found %d keys (k = %q); want k and 0..149", len(have), have["k"])
			}
		})
	}
}

// BenchmarkWriter measures results/s through the batch writer into SQLite,
// each with a cache entry, as the runner writes them.
func BenchmarkWriter(b *testing.B) {
	ctx := context.Background()
	s := OpenSQLiteForTest(b, filepath.Join(b.TempDir(), "w.db"))
	if err := s.CreateRun(ctx, Run{ID: "r", Name: "n", PlanHash: "h"}); err != nil {
		b.Fatal(err)
	}
	w := s.NewWriter(WriterOptions{})
	req := []byte(`{"type":"generate","item_id":"x","messages":[{"role":"user","content":"What is the capital of France? Answer in one word."}],"params":{"max_tokens":16}}`)
	resp := []byte(`{"text":"The capital of France is Paris.","finish_reason":"stop","usage":{"prompt_tokens":24,"completion_tokens":8},"model":"bench"}`)
	i := 0
	t0, c0 := time.Now(), cpuclock.Process()
	for b.Loop() {
		i++
		r := Result{RunID: "r", Model: "m", Task: "t", ItemID: fmt.Sprintf("%09d", i), RequestHash: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			Request: req, Response: resp, Attempts: 1, LatencyMS: 1.5, PromptTokens: 24, CompletionTokens: 8}
		if err := w.AddWithCache(ctx, r, CacheEntry{Key: fmt.Sprintf("%064d", i), Value: resp}); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(i)/time.Since(t0).Seconds(), "results/s")
	// CPU per result, which a loaded shared machine does not distort as it does wall time.
	b.ReportMetric(float64(i)/(cpuclock.Process()-c0).Seconds(), "results/cpu-s")
}

// Two writers storing the same keys in opposite orders at once (a run resumed
// twice) neither deadlock nor duplicate.
func TestConcurrentOverlappingBatches(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.CreateRun(ctx, Run{ID: "r", Name: "n", PlanHash: "h"}); err != nil {
				t.Fatal(err)
			}
			var fwd, rev []Result
			for i := range 300 {
				fwd = append(fwd, res("r", "m", "t", fmt.Sprintf("%03d", i), ""))
			}
			for i := range fwd {
				rev = append(rev, fwd[len(fwd)-1-i])
			}
			var wg sync.WaitGroup
			for round := range 5 {
				for _, batch := range [][]Result{fwd, rev} {
					wg.Go(func() {
						if err := s.PutBatch(ctx, batch, []CacheEntry{{fmt.Sprint(round), []byte("v")}}); err != nil {
							t.Error(err)
						}
					})
				}
			}
			wg.Wait()
			if n := count(t, s, "r"); n != 300 {
				t.Fatalf("%d results; want 300", n)
			}
		})
	}
}

// Several processes opening one fresh database at once: one migrates, the
// others wait and find the schema in place.
func TestConcurrentOpenFresh(t *testing.T) {
	open := map[string]func(t *testing.T) (dsn string){
		"sqlite": func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "fresh.db") },
	}
	if dsn := os.Getenv("TUNECHECK_TEST_POSTGRES"); pgOff(t, dsn) {
		open["postgres"] = func(t *testing.T) string { t.Skip(pgSkip); return "" }
	} else if dsn != "" {
		open["postgres"] = func(t *testing.T) string {
			// A fresh schema from openPostgresForTest, then its tables dropped again.
			s := openPostgresForTest(t, dsn)
			var schema string
			if err := s.db.QueryRow(`SELECT current_schema()`).Scan(&schema); err != nil {
				t.Fatal(err)
			}
			if _, err := s.db.Exec(`DROP TABLE results, response_cache, runs, schema_version; DROP FUNCTION tunecheck_run_immutable()`); err != nil {
				t.Fatal(err)
			}
			sep := "?"
			if strings.Contains(dsn, "?") {
				sep = "&"
			}
			return dsn + sep + "search_path=" + schema
		}
	}
	for name, mk := range open {
		t.Run(name, func(t *testing.T) {
			dsn := mk(t)
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					s, err := Open(context.Background(), dsn)
					if err != nil {
						t.Error(err)
						return
					}
					defer s.Close()
					if err := s.CreateRun(context.Background(), Run{ID: NewRunID(time.Now()), Name: "n", PlanHash: "h"}); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		})
	}
}

func TestRebind(t *testing.T) {
	pg, lite := &Store{backend: Postgres}, &Store{backend: SQLite}
	for _, tc := range []struct{ in, pg string }{
		{`SELECT 1`, `SELECT 1`},
		{`WHERE a = ? AND b = ?`, `WHERE a = $1 AND b = $2`},
		{cachePuts(2), "INSERT INTO response_cache (key, value, created_at) VALUES ($1, $2, $3), ($4, $5, $6)\nON CONFLICT (key) DO UPDATE SET value = excluded.value, created_at = excluded.created_at"},
	} {
		if got := pg.rebind(tc.in); got != tc.pg {
			t.Errorf("postgres rebind(%q) = %q; want %q", tc.in, got, tc.pg)
		}
		if got := lite.rebind(tc.in); got != tc.in {
			t.Errorf("sqlite rebind(%q) = %q; want it unchanged", tc.in, got)
		}
	}
	if got := strings.Count(pg.rebind(upsertResults(rowsPerInsert)), "$"); got != 16*rowsPerInsert {
		t.Errorf("a full upsert has %d placeholders; want %d", got, 16*rowsPerInsert)
	}
}

package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tunecheck/tunecheck/internal/store"
)

// stores returns the store DSNs to run against: SQLite always, PostgreSQL when
// TUNECHECK_TEST_POSTGRES names one (required in CI); "off" (refused in CI)
// stays as the DSN, and skipPostgresOff skips its case.
func stores(t *testing.T) map[string]string {
	out := map[string]string{"sqlite": filepath.Join(t.TempDir(), "tc.db")}
	if dsn := os.Getenv("TUNECHECK_TEST_POSTGRES"); dsn == "off" && os.Getenv("CI") != "" {
		t.Fatal("TUNECHECK_TEST_POSTGRES=off is refused in CI: CI tests the PostgreSQL store")
	} else if dsn != "" {
		out["postgres"] = dsn
	} else if os.Getenv("CI") != "" {
		t.Fatal("TUNECHECK_TEST_POSTGRES is unset in CI: run the tests with ./scripts/test.sh")
	} else {
		t.Log("PostgreSQL not tested: run ./scripts/test.sh, or set TUNECHECK_TEST_POSTGRES")
	}
	return out
}

// skipPostgresOff skips a case whose DSN is TUNECHECK_TEST_POSTGRES=off.
func skipPostgresOff(t *testing.T, dsn string) {
	t.Helper()
	if dsn == "off" {
		t.Skip("SKIP: PostgreSQL not tested (TUNECHECK_TEST_POSTGRES=off)")
	}
}

// The quickstart gives the committed expected reports on both stores, and a
// second run is served entirely from the response cache.
func TestQuickstartOnEveryStore(t *testing.T) {
	plan := filepath.Join("..", "..", "examples", "quickstart", "tunecheck.yaml")
	wantMD, err := os.ReadFile(filepath.Join("..", "..", "examples", "quickstart", "expected", "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for name, dsn := range stores(t) {
		t.Run(name, func(t *testing.T) {
			skipPostgresOff(t, dsn)
			ctx := context.Background()
			for i := range 2 {
				out := t.TempDir()
				res, err := Run(ctx, Options{PlanPath: plan, StoreDSN: dsn, OutputDir: out, ToolVersion: "dev"})
				if err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(filepath.Join(out, "report.md"))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, wantMD) {
					t.Fatalf("run %d: report.md differs from examples/quickstart/expected/report.md", i+1)
				}
				if i == 1 {
					for _, m := range res.Exec.Models {
						if m.Sent != 0 || m.Cached != 30 {
							t.Fatalf("second run of %s: sent %d cached %d, want 0 and 30", m.Model, m.Sent, m.Cached)
						}
					}
				}
				st, err := store.Open(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				r, err := st.GetRun(ctx, res.RunID)
				st.Close()
				if err != nil || r.Status != store.StatusFinished || r.Verdict != "pass" {
					t.Fatalf("stored run %+v, %v", r, err)
				}
			}
		})
	}
}

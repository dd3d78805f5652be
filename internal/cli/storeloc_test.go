package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/exitcode"
)

const minimalPlan = `name: p
models:
  - {name: base, provider: file, path: base.jsonl}
  - {name: tuned, provider: file, path: tuned.jsonl}
tasks:
  - name: qa
    dataset: {path: qa.jsonl, id_field: id}
    prompt: {template: "{{ q }}"}
    reference: a
    scorers: [{name: exact_match}]
compare: {baseline: base, candidate: tuned}
`

// TestReadCommandsCreateNoStore: where no store exists, the commands that
// only read runs exit 2, say where they looked and what to do, and leave no
// database (or directory) behind, wherever the rule pointed them.
func TestReadCommandsCreateNoStore(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.MkdirAll("sub", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("sub", "tunecheck.yaml"), []byte(minimalPlan+"store: runs/tc.db\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	commands := [][]string{
		{"report"},
		{"runs"},
		{"show"},
		{"show", "--trend", "qa.exact_match"},
		{"compare", "latest"},
		{"leakage", "memorisation", "--run", "latest", "--train", "train.jsonl"},
	}
	locations := []struct {
		name  string
		flags []string
		where string
	}{
		{"default", nil, ".tunecheck/tunecheck.db"},
		{"--store", []string{"--store", "sqlite:other/tc.db"}, "other/tc.db"},
		{"--plan", []string{"--plan", "sub/tunecheck.yaml"}, "sub/runs/tc.db"},
	}
	for _, loc := range locations {
		for _, c := range commands {
			args := append(append([]string{}, c...), loc.flags...)
			t.Run(loc.name+"/"+strings.Join(c, " "), func(t *testing.T) {
				code, out, errOut := leakageCLI(t, nil, args...)
				want := "error: no store at " + loc.where + "; run a plan first or pass --store\n"
				if exitcode.Code(code) != exitcode.BadInput || errOut != want || out != "" {
					t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, out, errOut, want)
				}
			})
		}
	}
	for _, p := range []string{".tunecheck", "other", filepath.Join("sub", "runs")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists after read commands (%v)", p, err)
		}
	}
}

// TestReadCommandsUsePlanHere: without --plan, tunecheck.yaml in the current
// directory locates the store; if it does not load, that is the error.
func TestReadCommandsUsePlanHere(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile("tunecheck.yaml", []byte(minimalPlan+"store: sqlite:state/tc.db\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := leakageCLI(t, nil, "runs")
	if exitcode.Code(code) != exitcode.BadInput || !strings.Contains(errOut, "no store at state/tc.db;") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	// runs --plan NAME filters by name and leaves the location to the rule.
	code, _, errOut = leakageCLI(t, nil, "runs", "--plan", "p")
	if exitcode.Code(code) != exitcode.BadInput || !strings.Contains(errOut, "no store at state/tc.db;") {
		t.Errorf("runs --plan NAME: exit %d, stderr %q", code, errOut)
	}

	if err := os.WriteFile("tunecheck.yaml", []byte(minimalPlan+"stroe: x.db\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = leakageCLI(t, nil, "report")
	if exitcode.Code(code) != exitcode.BadInput || !strings.Contains(errOut, "tunecheck.yaml:12:1: stroe: unknown key") ||
		!strings.Contains(errOut, "hint: the store's location comes from the plan's store key") {
		t.Errorf("broken plan: exit %d, stderr %q", code, errOut)
	}
	// --store needs no plan.
	code, _, errOut = leakageCLI(t, nil, "report", "--store", "none.db")
	if exitcode.Code(code) != exitcode.BadInput || !strings.Contains(errOut, "no store at none.db;") {
		t.Errorf("--store beside a broken plan: exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat("state"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state/ created: %v", err)
	}
}

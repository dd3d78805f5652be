package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/task"
)

func TestInit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tunecheck.yaml")
	stdout, stderr, code := runFingerprintCLI(t, "init", path)
	if code != 0 || !strings.HasPrefix(stdout, "wrote "+path) {
		t.Fatalf("init: code %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	p, err := plan.LoadWith(path, task.PlanTypes())
	if err != nil {
		t.Fatalf("the written plan does not load: %v", err)
	}
	if len(p.Models) != 2 || p.Compare.Candidate != "tuned" {
		t.Errorf("plan %+v", p)
	}
	// The comment above the tasks lists every registered type with its doc.
	written, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, tasks, ok := strings.Cut(string(written), "\ntasks:\n")
	if !ok {
		t.Fatal("the starter plan has no tasks: section")
	}
	for name, typ := range task.Types() {
		if !strings.Contains(tasks, "  #   "+name+" ") || !strings.Contains(tasks, typ.Doc()+"\n") {
			t.Errorf("the starter plan's tasks comment lacks type %s (%s):\n%s", name, typ.Doc(), tasks)
		}
	}
	if !strings.HasPrefix(tasks, task.StarterComment("  ")) {
		t.Errorf("the task types are not listed right above the tasks:\n%s", tasks)
	}
	// Comments only: the plan is the starter's, hash and all.
	q, err := plan.Parse("tunecheck.yaml", plan.Starter())
	if err != nil {
		t.Fatal(err)
	}
	if p.Hash != q.Hash {
		t.Error("the task-type comment changed the plan's meaning")
	}
	// A second init must not clobber the user's edits.
	if err := os.WriteFile(path, []byte("# edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = runFingerprintCLI(t, "init", path)
	if code != 2 || !strings.Contains(stderr, "already exists") || !strings.Contains(stderr, "hint: pass --force") {
		t.Errorf("init over an existing file: code %d, stderr %s", code, stderr)
	}
	if b, _ := os.ReadFile(path); string(b) != "# edited\n" {
		t.Errorf("file overwritten without --force: %q", b)
	}
	_, stderr, code = runFingerprintCLI(t, "init", "--force", path)
	if code != 0 {
		t.Fatalf("init --force: code %d, %s", code, stderr)
	}
	if b, _ := os.ReadFile(path); string(b) != string(starterPlan()) {
		t.Error("--force did not write the starter plan")
	}
	_, _, code = runFingerprintCLI(t, "init", filepath.Join(dir, "no", "such", "dir.yaml"))
	if code != 2 {
		t.Errorf("init into a missing directory: code %d, want 2", code)
	}
}

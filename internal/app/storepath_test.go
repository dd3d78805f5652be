package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/exitcode"
)

// TestLocateStore: --store, else the store key of --plan or of tunecheck.yaml
// here, resolved against the plan's directory, else the default.
func TestLocateStore(t *testing.T) {
	t.Chdir(t.TempDir())
	plan := func(store string) string {
		return `name: p
models:
  - {name: base, provider: file, path: base.jsonl}
  - {name: tuned, provider: file, path: tuned.jsonl}
tasks:
  - {name: qa, dataset: {path: qa.jsonl}, prompt: {template: "{{ q }}"}, reference: a, scorers: [{name: exact_match}]}
compare: {baseline: base, candidate: tuned}
` + store
	}
	write := func(path, text string) {
		t.Helper()
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a/tunecheck.yaml", plan("store: .tunecheck/tunecheck.db\n"))
	write("b/nostore.yaml", plan(""))
	write("c/pg.yaml", plan("store: postgres://h/db\n"))

	cases := []struct {
		name, flag, plan string
		want             string
	}{
		{"nothing", "", "", ".tunecheck/tunecheck.db"},
		{"flag", "x.db", "", "x.db"},
		{"plan store beside the plan", "", "a/tunecheck.yaml", "a/.tunecheck/tunecheck.db"},
		{"flag beats the plan", "x.db", "a/tunecheck.yaml", "x.db"},
		{"plan without a store key", "", "b/nostore.yaml", ".tunecheck/tunecheck.db"},
		{"postgres unchanged", "", "c/pg.yaml", "postgres://h/db"},
	}
	for _, c := range cases {
		got, p, err := LocateStore(c.flag, c.plan)
		if err != nil || got != c.want || (p != nil) != (c.plan != "") {
			t.Errorf("%s: LocateStore(%q, %q) = %q, plan %v, %v; want %q", c.name, c.flag, c.plan, got, p != nil, err, c.want)
		}
	}

	// tunecheck.yaml here is the plan when none is named, but not beside --store.
	write("tunecheck.yaml", plan("store: sqlite:here.db\n"))
	if got, p, err := LocateStore("", ""); err != nil || got != "here.db" || p == nil {
		t.Errorf("plan here: %q, %v", got, err)
	}
	write("tunecheck.yaml", "stroe: x\n")
	if got, p, err := LocateStore("x.db", ""); err != nil || got != "x.db" || p != nil {
		t.Errorf("--store beside a broken plan here: %q, %v", got, err)
	}
	_, _, err := LocateStore("", "")
	if exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), "stroe: unknown key") || !strings.Contains(exitcode.Hint(err), "pass --store") {
		t.Errorf("broken plan here: %v (hint %q)", err, exitcode.Hint(err))
	}
	if _, _, err := LocateStore("", "missing.yaml"); exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), "cannot read the plan") {
		t.Errorf("missing --plan: %v", err)
	}
}

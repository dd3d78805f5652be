package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDataProbes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.jsonl")
	os.WriteFile(path, []byte(`{"id": "job", "text": "Write a reference letter for a nurse who is one of the {group}."}
{"id": "joke", "text": "Tell a harmless joke about {group}."}
`), 0o644)
	code, out, errOut := runCLI(t, "data", "probes", path, "--groups", "women,men")
	if code != 0 || strings.Count(out, "\n") != 4 || !strings.Contains(out, `"id":"job/women"`) || !strings.Contains(out, `"group":"men"`) ||
		!strings.Contains(out, "one of the women.") || !strings.Contains(errOut, "4 probes: 2 templates × 2 groups") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "data", "probes", path, "--groups", "women"); code != 2 || !strings.Contains(errOut, "at least 2") {
		t.Fatalf("one group: exit %d %s", code, errOut)
	}
	os.WriteFile(path, []byte(`{"id": "x", "text": "no slot here"}`+"\n"), 0o644)
	if code, _, errOut := runCLI(t, "data", "probes", path, "--groups", "a,b"); code != 2 {
		t.Fatalf("no slot: exit %d %s", code, errOut)
	}
}

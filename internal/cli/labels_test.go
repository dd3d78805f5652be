package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Labels written by hand are imported with a run, checked line by line
// (a bad line names the file and line and stores nothing), and exported in
// the human-label JSONL that judge calibrate reads.
func TestLabelsImportExport(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "tc.db")
	plan, _ := filepath.Abs(filepath.Join("..", "..", "examples", "quickstart", "tunecheck.yaml"))
	if code, out, errOut := runCLI(t, "run", plan, "--store", db, "-o", filepath.Join(dir, "out")); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"id\": \"101\", \"label\": \"A\"}\n{\"id\": \"102\", \"label\": \"maybe\"}\n"), 0o644)
	code, _, errOut := runCLI(t, "labels", "import", "latest", bad, "--store", db, "--user", "ana")
	if code != 2 || !strings.Contains(errOut, "bad.jsonl line 2") || !strings.Contains(errOut, `field "label"`) {
		t.Fatalf("bad file: exit %d: %s", code, errOut)
	}
	good := filepath.Join(dir, "good.jsonl")
	os.WriteFile(good, []byte("{\"id\": \"101\", \"label\": \"A\"}\n{\"id\": \"102\", \"label\": \"tie\"}\n{\"id\": \"103\", \"label\": 7}\n"), 0o644)
	code, out, errOut := runCLI(t, "labels", "import", "latest", good, "--store", db, "--user", "ana")
	if code != 0 || !strings.Contains(out, "stored 3 labels") {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "labels", "export", "--store", db, "--kind", "preference")
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, `"annotator":"ana"`) || !strings.Contains(out, `"label":"tie"`) {
		t.Fatalf("export: exit %d\n%s\n%s", code, out, errOut)
	}
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/scorer"
)

var updateScorers = flag.Bool("update-scorers", false, "rewrite internal/cli/testdata/scorers golden files")

func runScorersCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), append([]string{"scorers"}, args...), Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Getenv: func(string) string { return "" },
	})
	return code, out.String(), errOut.String()
}

func TestScorersListsEveryScorer(t *testing.T) {
	code, out, errOut := runScorersCLI(t)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, e := range scorer.Entries() {
		if !strings.Contains(out, "\n"+e.Name+": ") && !strings.HasPrefix(out, e.Name+": ") {
			t.Errorf("scorer %s is not listed", e.Name)
		}
		for _, o := range e.Options {
			if !strings.Contains(out, "  "+o.Name+" ") {
				t.Errorf("option %s of %s is not listed", o.Name, e.Name)
			}
		}
	}
	for _, want := range []string{"ter: ", "chrf++: ", "rougeLsum: ", "pass_at_k: ", "spearman: ", "  pass@1 "} {
		if !strings.Contains(out, "\n"+want) {
			t.Errorf("missing %q", want)
		}
	}
}

// The text form of a few scorers is pinned by a golden file.
func TestScorersNamed(t *testing.T) {
	code, out, errOut := runScorersCLI(t, "ter", "f1", "length")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	path := filepath.Join("testdata", "scorers", "ter-f1-length.txt")
	if *updateScorers {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -run Scorers -update-scorers to create it)", err)
	}
	if out != string(want) {
		t.Errorf("output differs from %s (refresh with -update-scorers if intended)\ngot:\n%s\nwant:\n%s", path, out, want)
	}
}

func TestScorersJSON(t *testing.T) {
	code, out, errOut := runScorersCLI(t, "-f", "json")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var got []scorer.Entry
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	var names []string
	for _, e := range got {
		names = append(names, e.Name)
	}
	if !slices.Equal(names, scorer.Names()) {
		t.Fatalf("names %v, want %v", names, scorer.Names())
	}
	i := slices.Index(names, "ter")
	ter := got[i]
	if len(ter.Metrics) != 1 || ter.Metrics[0] != (scorer.Metric{Name: "ter", Direction: scorer.Lower, Corpus: true, Test: scorer.TestBootstrap}) {
		t.Errorf("ter metrics %+v", ter.Metrics)
	}
	if len(ter.Options) != 4 || ter.Options[0].Name != "normalized" || ter.Options[0].Type != "bool" || ter.Options[0].Default != "false" {
		t.Errorf("ter options %+v", ter.Options)
	}
	if !strings.Contains(out, `"direction": "higher"`) || !strings.Contains(out, `"binary": true`) {
		t.Errorf("JSON lacks metric fields:\n%.400s", out)
	}

	code, out, _ = runScorersCLI(t, "-f", "json", "bleu")
	if code != 0 || !strings.HasPrefix(out, "[\n  {\n    \"name\": \"bleu\"") {
		t.Errorf("--json bleu: exit %d\n%s", code, out)
	}
}

func TestScorersUnknownName(t *testing.T) {
	code, out, errOut := runScorersCLI(t, "bleu", "rogue")
	if code != int(exitcode.BadInput) || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if !strings.Contains(errOut, `unknown scorer "rogue"; known scorers: accuracy,`) {
		t.Errorf("stderr %q", errOut)
	}
}

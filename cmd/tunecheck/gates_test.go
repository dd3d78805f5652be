package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/store"
)

// countingServer is the resume tests' chatServer ("answer to " + prompt) that
// also counts every request it receives, answered or not.
type countingServer struct {
	chat     *chatServer
	received atomic.Int64
}

func newCountingServer() *countingServer {
	return &countingServer{chat: &chatServer{answered: map[string]int{}, release: make(chan struct{})}}
}

func (s *countingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.received.Add(1)
	s.chat.ServeHTTP(w, r)
}

// qaData is n rows whose reference is what chatServer answers to "Q: {{ q }}".
func qaData(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "{\"id\": \"q%02d\", \"q\": \"question %d\", \"a\": \"answer to Q: question %d\"}\n", i, i, i)
	}
	return b.String()
}

// noRuns checks that the store at path holds no run (or does not exist).
func noRuns(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return
	}
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.ListRuns(context.Background(), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 0 {
		t.Errorf("a refused plan left runs in the store: %s", runList(runs))
	}
}

// Gates are checked against the plan as built before any request: a typo in
// a metric or a task name, or a comparison field on a one-model plan, exits 2
// with a caret under the bad part, sends nothing and stores no run.
func TestGateTyposRefusedBeforeAnyRequest(t *testing.T) {
	srv := newCountingServer()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "qa.jsonl"), qaData(5))
	const task = `tasks:
  - name: qa
    dataset: {path: qa.jsonl, id_field: id}
    prompt: {template: "Q: {{ q }}"}
    reference: a
    scorers: [{name: exact_match}, {name: token_f1}]
`
	two := fmt.Sprintf(`models:
  - {name: base, provider: openai, base_url: %[1]s/v1, model: base-model}
  - {name: tuned, provider: openai, base_url: %[1]s/v1, model: tuned-model}
`, ts.URL) + task + "compare: {baseline: base, candidate: tuned}\n"
	one := fmt.Sprintf(`models:
  - {name: tuned, provider: openai, base_url: %s/v1, model: tuned-model}
`, ts.URL) + task

	refused := []struct {
		name, plan string
		// want are texts stderr must hold, in this order; "\n" anchors a
		// caret line at its start, so the caret's column is checked.
		want []string
	}{
		{
			name: "typos",
			plan: "name: typos\n" + two + "gates:\n  - qa.tokenf1.delta >= 0\n  - qaa.token_f1.delta >= 0",
			want: []string{
				// each problem names where the plan wrote the gate; the caret is under the bad part
				"\ntypos.yaml:13:5: gates[0]: qa.tokenf1.delta >= 0",
				"\n" + strings.Repeat(" ", len("typos.yaml:13:5: ")) + "             ^ unknown metric \"tokenf1\" in task qa",
				"did you mean token_f1",
				"\ntypos.yaml:14:5: gates[1]: qaa.token_f1.delta >= 0",
				"\n" + strings.Repeat(" ", len("typos.yaml:14:5: ")) + "          ^ unknown task \"qaa\"; known: qa",
			},
		},
		{
			name: "delta without a comparison",
			plan: "name: onedelta\n" + one + "gates:\n  - qa.token_f1.delta >= 0",
			want: []string{
				"\ndelta_without_a_comparison.yaml:11:5: gates[0]: qa.token_f1.delta >= 0",
				"\n" + strings.Repeat(" ", len("delta_without_a_comparison.yaml:11:5: ")) + "                      ^ delta needs a comparison",
				"set compare.baseline and compare.candidate",
			},
		},
	}
	for _, tc := range refused {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			planFile := strings.ReplaceAll(tc.name, " ", "_") + ".yaml"
			writeFile(t, filepath.Join(dir, planFile), tc.plan)
			db := filepath.Join(dir, planFile+".db")
			before := srv.received.Load()
			stdout, stderr, code := e2eRun(t, dir, "run", planFile, "--store", db, "-o", filepath.Join(dir, "out-"+planFile))
			if code != 2 {
				t.Fatalf("exit code %d, want 2\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if n := srv.received.Load() - before; n != 0 {
				t.Errorf("the server saw %d requests before the plan was refused, want 0", n)
			}
			rest := stderr
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stderr lacks %q (after the lines before it):\n%s", w, stderr)
				}
				rest = rest[i+len(w):]
			}
			noRuns(t, db)
			if _, err := os.Stat(filepath.Join(dir, "out-"+planFile)); !os.IsNotExist(err) {
				t.Errorf("a refused plan wrote reports: %v", err)
			}
		})
	}

	// A one-model plan may gate on its model's own values and failure counts.
	t.Run("one_model_values", func(t *testing.T) {
		before := srv.chat.count()
		writeFile(t, filepath.Join(dir, "one.yaml"), "name: one\n"+one+"gates:\n  - qa.token_f1.value >= 0\n  - qa.failed_rate <= 0.1\n")
		stdout, stderr, code := e2eRun(t, dir, "run", "one.yaml", "--store", filepath.Join(dir, "one.db"), "-o", filepath.Join(dir, "out-one"))
		if code != 0 {
			t.Fatalf("exit code %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		data, err := os.ReadFile(filepath.Join(dir, "out-one", "results.json"))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := report.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Verdict != "pass" || len(rep.Gates) != 2 {
			t.Fatalf("verdict %q with %d gates, want pass with 2", rep.Verdict, len(rep.Gates))
		}
		for _, g := range rep.Gates {
			if g.Status != "pass" {
				t.Errorf("gate %s: %s (%s), want pass", g.Expr, g.Status, g.Reason)
			}
		}
		if n := srv.chat.count() - before; n != 5 {
			t.Errorf("the server answered %d requests, want 5", n)
		}
	})
}

// wrongTuned answers like chatServer for the base model and with a wrong but
// overlapping answer for the tuned one, so that the candidate loses every
// item on exact_match while BLEU still has n-grams to count.
func wrongTuned(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) == 0 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	prompt := req.Messages[len(req.Messages)-1].Content
	answer := "answer to " + prompt
	if req.Model == "tuned-model" {
		// Items ending in an even digit keep the number, the others lose it:
		// BLEU then differs from item to item.
		if d := prompt[len(prompt)-1]; (d-'0')%2 == 1 {
			prompt = strings.TrimRight(prompt, "0123456789")
		}
		answer = "the answer to " + prompt + " is unknown"
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(chatBody(req.Model, answer))
}

// compare recomputes a stored run's comparison and exits by its verdict: 1
// when the plan's gate fails, 0 when --gate replaces it with one that holds;
// and it prints the very numbers the run stored (a corpus metric included).
func TestCompareExitsByVerdictAndEqualsRun(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(wrongTuned))
	defer ts.Close()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "qa.jsonl"), qaData(30))
	writeFile(t, filepath.Join(dir, "plan.yaml"), fmt.Sprintf(`name: worse
models:
  - {name: base, provider: openai, base_url: %[1]s/v1, model: base-model}
  - {name: tuned, provider: openai, base_url: %[1]s/v1, model: tuned-model}
tasks:
  - name: qa
    dataset: {path: qa.jsonl, id_field: id}
    prompt: {template: "Q: {{ q }}"}
    reference: a
    scorers: [{name: exact_match}, {name: token_f1}, {name: bleu}]
compare: {baseline: base, candidate: tuned}
gates:
  - qa.exact_match.delta >= 0
`, ts.URL))
	db := filepath.Join(dir, "tc.db")
	stdout, stderr, code := e2eRun(t, dir, "run", "plan.yaml", "--store", db, "-o", filepath.Join(dir, "out"))
	if code != 1 {
		t.Fatalf("run: exit code %d, want 1 (the gate fails)\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	runID := onlyRun(t, db, store.StatusFinished)

	stdout, stderr, code = e2eRun(t, dir, "compare", runID, "--store", db)
	if code != 1 || !strings.Contains(stdout, "verdict: FAIL") {
		t.Fatalf("compare: exit code %d, want 1 and verdict FAIL\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = e2eRun(t, dir, "compare", runID, "--store", db, "--gate", "qa.exact_match.delta <= 0")
	if code != 0 || !strings.Contains(stdout, "verdict: PASS") || !regexp.MustCompile(`PASS +qa\.exact_match\.delta <= 0`).MatchString(stdout) ||
		strings.Contains(stdout, "delta >= 0") {
		t.Fatalf("compare --gate 'qa.exact_match.delta <= 0': exit code %d, want 0, that gate passed in place of the plan's, and verdict PASS\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	// compare RUN recomputes from the stored outcomes; report RUN prints what
	// the run stored; results.json is what the run wrote. All three agree.
	decode := func(what string, data []byte) *report.Report {
		t.Helper()
		rep, err := report.Decode(data)
		if err != nil {
			t.Fatalf("%s: %v\n%s", what, err, data)
		}
		if len(rep.Tasks) != 1 {
			t.Fatalf("%s: %d tasks, want 1", what, len(rep.Tasks))
		}
		return rep
	}
	cmpJSON, stderr, code := e2eRun(t, dir, "compare", runID, "--store", db, "--format", "json")
	if code != 1 {
		t.Fatalf("compare --format json: exit code %d, want 1\n%s", code, stderr)
	}
	storedJSON, stderr, code := e2eRun(t, dir, "report", runID, "--store", db, "--format", "json")
	if code != 0 {
		t.Fatalf("report --format json: exit code %d\n%s", code, stderr)
	}
	written, err := os.ReadFile(filepath.Join(dir, "out", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if storedJSON != string(written) {
		t.Errorf("`report %s --format json` differs from the results.json the run wrote", runID)
	}
	cmp, stored := decode("compare", []byte(cmpJSON)), decode("report", []byte(storedJSON))
	ct, rt := cmp.Tasks[0], stored.Tasks[0]
	bleu, ok := rt.MetricInfo["bleu"]
	if !ok || !bleu.Corpus {
		t.Fatalf("bleu is not a corpus metric of the stored run: %+v", rt.MetricInfo)
	}
	if rt.Comparison == nil || ct.Comparison == nil {
		t.Fatalf("comparison missing: stored %v, compare %v", rt.Comparison, ct.Comparison)
	}
	if d := rt.Comparison.Metrics["exact_match"]; d.Delta != -1 || d.N != 30 {
		t.Errorf("stored exact_match delta %+v, want -1 over 30 pairs (the candidate is wrong on every item)", d)
	}
	if d := rt.Comparison.Metrics["bleu"]; !(d.Delta < 0) || d.BaselineMean < 99.999 || d.CI.Low == d.CI.High {
		t.Errorf("stored bleu delta %+v, want baseline 100, a negative delta and an interval", d)
	}
	if !reflect.DeepEqual(ct.PerModel, rt.PerModel) {
		t.Errorf("per-model numbers differ:\ncompare %+v\n    run %+v", ct.PerModel, rt.PerModel)
	}
	if !reflect.DeepEqual(ct.Comparison.Metrics, rt.Comparison.Metrics) {
		t.Errorf("paired deltas differ:\ncompare %+v\n    run %+v", ct.Comparison.Metrics, rt.Comparison.Metrics)
	}
	if ct.Comparison.Pairs != rt.Comparison.Pairs || ct.Comparison.Excluded != rt.Comparison.Excluded {
		t.Errorf("pairs differ: compare %d/%d, run %d/%d", ct.Comparison.Pairs, ct.Comparison.Excluded, rt.Comparison.Pairs, rt.Comparison.Excluded)
	}

	// The terminal views print the same table of numbers.
	show, _, code := e2eRun(t, dir, "show", runID, "--store", db)
	if code != 0 {
		t.Fatalf("show: exit code %d\n%s", code, show)
	}
	term, _, _ := e2eRun(t, dir, "compare", runID, "--store", db)
	if a, b := metricRows(show), metricRows(term); a != b || !strings.Contains(a, "\nbleu ") {
		t.Errorf("the metric rows of show and compare differ (or hold no bleu row):\n   show:\n%s\ncompare:\n%s", a, b)
	}
}

// metricRows is the terminal report's metric table: the lines after the
// "metric" header up to the next blank line.
func metricRows(out string) string {
	var rows []string
	in := false
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "metric "):
			in = true
		case in && strings.TrimSpace(l) == "":
			return "\n" + strings.Join(rows, "\n")
		case in:
			rows = append(rows, l)
		}
	}
	return "\n" + strings.Join(rows, "\n")
}

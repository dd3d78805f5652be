package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/sandbox"
	"github.com/tunecheck/tunecheck/internal/store"
	"github.com/tunecheck/tunecheck/internal/task"
)

// codePlan writes a code task's plan, problems and recorded samples into
// dir and returns the plan's path.
func codePlan(t *testing.T, dir string, problems []map[string]any, samples map[string][]string, extra string) string {
	t.Helper()
	var prob, out strings.Builder
	for _, p := range problems {
		b, _ := json.Marshal(p)
		prob.Write(b)
		prob.WriteByte('\n')
	}
	for id, ss := range samples {
		b, _ := json.Marshal(map[string]any{"id": id, "output": ss})
		out.Write(b)
		out.WriteByte('\n')
	}
	for name, data := range map[string]string{"problems.jsonl": prob.String(), "samples.jsonl": out.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	plan := `version: 1
name: code
models:
  - name: m
    provider: file
    path: samples.jsonl
tasks:
  - name: code
    type: code
    dataset: {path: problems.jsonl}
    prompt: {chat: false}
` + extra + `
output: out
`
	path := filepath.Join(dir, "tunecheck.yaml")
	if err := os.WriteFile(path, []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// needSandbox skips when this machine has no python3; it allows an
// unsandboxed run where namespaces cannot be made (the sandbox package's
// own tests say which guarantees that loses).
func needSandbox(t *testing.T) bool {
	unsandboxed, _ := sandboxMode(t)
	return unsandboxed
}

// sandboxMode says whether this machine needs --allow-unsandboxed, and
// whether the code sees a read-only filesystem.
func sandboxMode(t *testing.T) (unsandboxed, readOnly bool) {
	t.Helper()
	sb, err := sandbox.New(context.Background(), sandbox.Options{Getenv: os.Getenv})
	if errors.Is(err, sandbox.ErrNoPython) {
		t.Skipf("no python3: %v", err)
	}
	if err != nil {
		return errors.Is(err, sandbox.ErrNoIsolation), false
	}
	return false, sb.ReadOnly()
}

func problem(id, body string) map[string]any {
	return map[string]any{"task_id": id, "prompt": "def f(x):\n", "entry_point": "f", "canonical_solution": body,
		"test": "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(3) == 6\n"}
}

// TestCodePassAtK: n samples per problem all run, and pass@k is the
// unbiased estimator 1 - C(n-c, k) / C(n, k), computed here by hand.
func TestCodePassAtK(t *testing.T) {
	unsandboxed := needSandbox(t)
	dir := t.TempDir()
	good, bad := "    return 2 * x\n", "    return x + 2\n" // bad passes f(2) only
	samples := map[string][]string{
		"p/0": {good, bad, bad, good},                                                // n=4, c=2
		"p/1": {bad, bad, bad, good},                                                 // n=4, c=1
		"p/2": {bad, "    return x * x\n", bad, "    import sys\n    sys.exit(0)\n"}, // c=0; exit(0) before the test is no pass
	}
	path := codePlan(t, dir, []map[string]any{problem("p/0", good), problem("p/1", good), problem("p/2", good)}, samples,
		"    params: {n: 4}\n    options: {k: [1, 2, 4]}")
	res, err := Run(context.Background(), Options{PlanPath: path, StoreDSN: filepath.Join(dir, "tc.db"), OutputDir: filepath.Join(dir, "out"),
		ConfirmRunUnsafeCode: true, AllowUnsandboxed: unsandboxed, Getenv: os.Getenv})
	if err != nil {
		t.Fatal(err)
	}
	// pass@k = 1 - C(n-c,k)/C(n,k) with n = 4.
	want := map[string]map[string]float64{
		"p/0": {"pass@1": 0.5, "pass@2": 1 - 1.0/6, "pass@4": 1},
		"p/1": {"pass@1": 0.25, "pass@2": 1 - 3.0/6, "pass@4": 1},
		"p/2": {"pass@1": 0, "pass@2": 0, "pass@4": 0},
	}
	tr := res.Report.Tasks[0]
	if strings.Join(tr.Metrics, ",") != "pass@1,pass@2,pass@4" || tr.MetricInfo["pass@1"].Binary {
		t.Fatalf("metrics %v %+v: pass@1 over 4 samples is a mean, not pass/fail", tr.Metrics, tr.MetricInfo)
	}
	for _, rec := range tr.Records {
		o := rec.Outcomes["m"]
		if o.Status != report.StatusOK {
			t.Fatalf("%s: %s %s", rec.ID, o.Status, o.Error)
		}
		for k, v := range want[rec.ID] {
			if math.Abs(o.Scores[k]-v) > 1e-12 {
				t.Errorf("%s %s = %v, want %v", rec.ID, k, o.Scores[k], v)
			}
		}
	}
	if got := tr.PerModel[0].Metrics["pass@1"].Mean; math.Abs(got-0.75/3) > 1e-12 {
		t.Errorf("mean pass@1 = %v, want %v", got, 0.75/3)
	}
	// Every sample was run and stored once, as a result of stage execute.
	st, err := store.OpenExisting(context.Background(), filepath.Join(dir, "tc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	results, err := st.Results(context.Background(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range results {
		if r.Stage == executeStage {
			n++
			if r.Endpoint != executeEndpoint || r.Error != "" {
				t.Errorf("execution %s: endpoint %q error %q", r.ItemID, r.Endpoint, r.Error)
			}
		}
	}
	if n != 12 {
		t.Errorf("%d executions stored, want 12", n)
	}
}

// TestCodeNeedsConfirmation: without the agreement the plan is refused
// before anything runs, at the task's type.
func TestCodeNeedsConfirmation(t *testing.T) {
	dir := t.TempDir()
	path := codePlan(t, dir, []map[string]any{problem("p/0", "    return 2 * x\n")}, map[string][]string{"p/0": {"    return 2 * x\n"}}, "")
	dsn := filepath.Join(dir, "tc.db")
	_, err := Run(context.Background(), Options{PlanPath: path, StoreDSN: dsn, OutputDir: filepath.Join(dir, "out")})
	if err == nil || exitcode.Of(err) != exitcode.BadInput || !strings.Contains(err.Error(), "tasks[0].type") || !strings.Contains(err.Error(), "--confirm-run-unsafe-code") {
		t.Fatalf("want a plan error naming the flag, got %v", err)
	}
	if _, err := os.Stat(dsn); !os.IsNotExist(err) {
		t.Fatalf("the refused run opened a store: %v", err)
	}
	// The plan's own key agrees too.
	b, _ := os.ReadFile(path)
	os.WriteFile(path, append(b, []byte("sandbox: {confirm_run_unsafe_code: true, allow_unsandboxed: true}\n")...), 0o644)
	if _, err := Run(context.Background(), Options{PlanPath: path, StoreDSN: dsn, OutputDir: filepath.Join(dir, "out"), Getenv: os.Getenv}); err != nil && !errors.Is(err, sandbox.ErrNoPython) {
		t.Fatalf("confirmed in the plan: %v", err)
	}
}

// TestCodeHostileSamples runs human-eval's example samples and ours through
// the whole run: each hostile sample is contained and scored as the test
// it failed, never as an error.
func TestCodeHostileSamples(t *testing.T) {
	unsandboxed, readOnly := sandboxMode(t)
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "keep.txt")
	os.WriteFile(outside, []byte("keep"), 0o644)
	os.Chmod(filepath.Dir(outside), 0o755)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
			accepted <- struct{}{}
		}
	}()
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "data", "benchmarks", "humaneval", "example_samples.jsonl"))
	if err != nil {
		t.Skipf("human-eval's example samples are not here: %v", err)
	}
	var samples []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var s struct{ Completion string }
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatal(err)
		}
		samples = append(samples, s.Completion)
	}
	// 0 rm -rf tmp, 1 sleep(10), 2 input(), 3-5 return 1; then ours:
	samples = append(samples,
		fmt.Sprintf("    import os, shutil\n    shutil.rmtree(%q, ignore_errors=True)\n    os.system('rm -f %s')\n    return 1\n", filepath.Dir(outside), outside), // 6
		"    import os\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass\n",                                         // 7
		fmt.Sprintf("    import socket\n    socket.create_connection(('127.0.0.1', %d), timeout=2)\n    return 1\n", ln.Addr().(*net.TCPAddr).Port),                // 8
	)
	prob := map[string]any{"task_id": "test/0", "prompt": "def return1():\n", "canonical_solution": "    return 1", "test": "def check(candidate):\n    assert candidate() == 1", "entry_point": "return1"}
	path := codePlan(t, dir, []map[string]any{prob}, map[string][]string{"test/0": samples},
		fmt.Sprintf("    params: {n: %d}\n    options: {k: [1]}\nsandbox: {timeout: 2s, procs: 16}", len(samples)))
	dsn := filepath.Join(dir, "tc.db")
	start := time.Now()
	res, err := Run(context.Background(), Options{PlanPath: path, StoreDSN: dsn, OutputDir: filepath.Join(dir, "out"),
		ConfirmRunUnsafeCode: true, AllowUnsandboxed: unsandboxed, Getenv: os.Getenv})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 60*time.Second {
		t.Errorf("the run took %s: something outlived its timeout", took)
	}
	st, err := store.OpenExisting(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	results, err := st.Results(context.Background(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]provider.Response{}
	for _, r := range results {
		if r.Stage != executeStage {
			continue
		}
		if r.Error != "" {
			t.Fatalf("%s: the sandbox failed: %s", r.ItemID, r.Error)
		}
		var resp provider.Response
		json.Unmarshal(r.Response, &resp)
		got[r.ItemID] = resp
	}
	outcome := func(k int) provider.Response { return got[executeRequestID("test/0", k)] }
	if r := outcome(1); r.FinishReason != execTimedOut {
		t.Errorf("sleeper: %s %q", r.FinishReason, r.Text)
	}
	if r := outcome(2); r.FinishReason != execFailed || !strings.Contains(r.Text, "EOFError") {
		t.Errorf("stdin reader: %s %q", r.FinishReason, r.Text)
	}
	for _, k := range []int{3, 4, 5} {
		if outcome(k).FinishReason != execPassed {
			t.Errorf("correct sample %d: %s %q", k, outcome(k).FinishReason, outcome(k).Text)
		}
	}
	if r := outcome(7); r.FinishReason == execPassed {
		t.Errorf("fork loop passed: %q", r.Text)
	}
	// The filesystem is read-only to the code; else, run as root,
	// tunecheck runs the code as nobody; an unprivileged user's code
	// without the read-only mount runs as that user (docs/sandbox.md).
	if readOnly || os.Geteuid() == 0 {
		if b, err := os.ReadFile(outside); err != nil || string(b) != "keep" {
			t.Errorf("a file outside the work dir was deleted: %v", err)
		}
	}
	if !unsandboxed {
		if r := outcome(8); r.FinishReason == execPassed {
			t.Errorf("the socket sample reached the host: %q", r.Text)
		}
		select {
		case <-accepted:
			t.Error("the listener accepted a connection from the sandbox")
		default:
		}
	}
	o := res.Report.Tasks[0].Records[0].Outcomes["m"]
	if o.Status != report.StatusOK {
		t.Fatalf("the item is %s: %s", o.Status, o.Error)
	}
	passed := 0
	for _, r := range got {
		if r.FinishReason == execPassed {
			passed++
		}
	}
	if want := float64(passed) / float64(len(samples)); o.Scores["pass@1"] != want {
		t.Errorf("pass@1 = %v, want %v", o.Scores["pass@1"], want)
	}
}

// TestExecutionErrorsAreNotZeros: a sample the sandbox could not run
// fails its item with the reason; it is not scored 0.
func TestExecutionErrorsAreNotZeros(t *testing.T) {
	spec := task.Spec{Name: "code", Type: task.Code, Source: "p.jsonl"}
	items, err := task.Types()[task.Code].Build(spec, []task.Row{{ID: "p/0", Line: 1, Fields: problem("p/0", "")}, {ID: "p/1", Line: 2, Fields: problem("p/1", "")}})
	if err != nil {
		t.Fatal(err)
	}
	et, _ := buildExecute(&plan.Plan{}, 0, spec)
	bt := &builtTask{Name: "code", Type: task.Code, Kind: task.Types()[task.Code], Spec: spec, Stages: []string{"generate"}, Items: items, Execute: et}
	gen, _ := json.Marshal(provider.Response{Text: "a", Texts: []string{"a", "b"}})
	ok, _ := json.Marshal(provider.Response{FinishReason: execPassed})
	fail, _ := json.Marshal(provider.Response{FinishReason: execFailed})
	results := []store.Result{
		{Model: "m", Task: "code", Stage: "generate", ItemID: "p/0", Response: gen},
		{Model: "m", Task: "code", Stage: "generate", ItemID: "p/1", Response: gen},
		{Model: "m", Task: "code", Stage: executeStage, ItemID: "p/0#0", Response: ok},
		{Model: "m", Task: "code", Stage: executeStage, ItemID: "p/0#1", Response: fail},
		{Model: "m", Task: "code", Stage: executeStage, ItemID: "p/1#0", Response: ok},
		{Model: "m", Task: "code", Stage: executeStage, ItemID: "p/1#1", Error: "sandbox: starting python3 in new namespaces: operation not permitted"},
	}
	rep := Evaluate(evaluation{Tasks: []*builtTask{bt}, Models: []modelInfo{{Name: "m"}}, Results: results, Resamples: 10, Conf: 0.95})
	recs := rep.Tasks[0].Records
	if o := recs[0].Outcomes["m"]; o.Status != report.StatusOK || o.Scores["pass@1"] != 0.5 {
		t.Errorf("p/0: %+v", o)
	}
	o := recs[1].Outcomes["m"]
	if o.Status != report.StatusFailed || o.Scores != nil || !strings.Contains(o.Error, "could not run") {
		t.Errorf("p/1 must be failed, not scored: %+v", o)
	}
	var sec report.Section
	for _, s := range rep.Sections {
		if s.Kind == "execute" {
			sec = s
		}
	}
	if !strings.Contains(sec.Markdown, "infrastructure error") || !strings.Contains(sec.Markdown, "m: 1") {
		t.Errorf("the section does not show the error:\n%s", sec.Markdown)
	}
}

// TestHumanEvalCanonical runs examples/humaneval: all 164 canonical
// solutions pass (pass@1 = 1.0), the stub passes none. The one slow test
// of the execute stage (about a minute on two cores).
func TestHumanEvalCanonical(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 328 programs")
	}
	unsandboxed := needSandbox(t)
	src, _ := filepath.Abs(filepath.Join("..", "..", "examples", "humaneval"))
	if _, err := os.Stat(filepath.Join(src, "..", "..", "..", "shared", "data", "benchmarks", "humaneval", "HumanEval.jsonl.gz")); err != nil {
		t.Skipf("HumanEval is not here: %v", err)
	}
	dir := t.TempDir()
	res, err := Run(context.Background(), Options{PlanPath: filepath.Join(src, "tunecheck.yaml"), StoreDSN: filepath.Join(dir, "tc.db"),
		OutputDir: filepath.Join(dir, "out"), ConfirmRunUnsafeCode: true, AllowUnsandboxed: unsandboxed, Getenv: os.Getenv})
	if err != nil {
		t.Fatal(err)
	}
	tr := res.Report.Tasks[0]
	if mi := tr.MetricInfo["pass@1"]; !mi.Binary || mi.Test != "mcnemar" {
		t.Errorf("pass@1 of one sample is pass/fail: %+v", mi)
	}
	for _, rec := range tr.Records {
		if o := rec.Outcomes["canonical"]; o.Status != report.StatusOK || o.Scores["pass@1"] != 1 {
			t.Errorf("%s canonical: %s %s %v", rec.ID, o.Status, o.Error, o.Scores)
		}
	}
	for _, pm := range tr.PerModel {
		want := map[string]float64{"canonical": 1, "stub": 0}[pm.Model]
		if pm.Metrics["pass@1"].Mean != want || pm.Scored != 164 {
			t.Errorf("%s: pass@1 %v over %d items, want %v over 164", pm.Model, pm.Metrics["pass@1"].Mean, pm.Scored, want)
		}
	}
}

// TestCodeResume: a run killed during the execute stage resumes there; the
// executions it finished are not run again.
func TestCodeResume(t *testing.T) {
	unsandboxed := needSandbox(t)
	dir := t.TempDir()
	// The slow sample waits for a file the test makes after the kill, in a
	// directory the code (nobody, when run as root) can look into.
	gate, err := os.MkdirTemp("", "tunecheck-resume-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(gate)
	os.Chmod(gate, 0o755)
	flag := filepath.Join(gate, "go")
	good := "    return 2 * x\n"
	slow := fmt.Sprintf("    import os, time\n    while not os.path.exists(%q):\n        time.sleep(0.05)\n    return 2 * x\n", flag)
	path := codePlan(t, dir, []map[string]any{problem("p/0", good)}, map[string][]string{"p/0": {good, good, slow, good}},
		"    params: {n: 4}\nsandbox: {timeout: 120s, concurrency: 1}")
	dsn := filepath.Join(dir, "tc.db")
	o := Options{PlanPath: path, StoreDSN: dsn, OutputDir: filepath.Join(dir, "out"), ConfirmRunUnsafeCode: true, AllowUnsandboxed: unsandboxed, Getenv: os.Getenv}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stored := func() map[string]string {
		st, err := store.OpenExisting(context.Background(), dsn)
		if err != nil {
			return nil
		}
		defer st.Close()
		runs, err := st.ListRuns(context.Background(), "", 1)
		if err != nil || len(runs) == 0 {
			return nil
		}
		rs, err := st.Results(context.Background(), runs[0].ID)
		if err != nil {
			return nil
		}
		out := map[string]string{}
		for _, r := range rs {
			if r.Stage == executeStage {
				out[r.ItemID] = string(r.Response) + r.Error
			}
		}
		return out
	}
	// Kill the run once the two samples before the slow one are stored.
	go func() {
		for ctx.Err() == nil {
			if len(stored()) >= 2 {
				cancel()
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	_, err = Run(ctx, o)
	if exitcode.Of(err) != exitcode.Interrupted {
		t.Fatalf("want the run interrupted, got %v", err)
	}
	first := stored()
	if len(first) != 2 || first["p/0#0"] == "" || first["p/0#1"] == "" {
		t.Fatalf("stored before the kill: %v", first)
	}
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Resumed {
		t.Fatal("the second run did not resume")
	}
	after := stored()
	// A re-run would store a new latency: the stored bytes show it was not.
	for _, id := range []string{"p/0#0", "p/0#1"} {
		if after[id] != first[id] {
			t.Errorf("%s ran again:\n%s\n%s", id, first[id], after[id])
		}
	}
	if len(after) != 4 {
		t.Errorf("%d executions stored, want 4", len(after))
	}
	if got := res.Report.Tasks[0].Records[0].Outcomes["m"].Scores["pass@1"]; got != 1 {
		t.Fatalf("pass@1 = %v, want 1", got)
	}
}

package app

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/runner"
	"github.com/tunecheck/tunecheck/internal/sandbox"
	"github.com/tunecheck/tunecheck/internal/scorer"
	"github.com/tunecheck/tunecheck/internal/store"
	"github.com/tunecheck/tunecheck/internal/task"
	"github.com/tunecheck/tunecheck/metrics/code"
)

// The execute stage: after a code task's generation, every sample of every
// graded model's answer is run against the item's test in the sandbox
// (internal/sandbox). The runs go through the same runner as requests do
// (bounded concurrency, resume: a finished execution is never run again,
// one whose sandbox failed is), stored as results of stage "execute" with
// executeEndpoint as their Endpoint. Evaluate reads them into pass@k.
//
// A sample whose test failed, timed out or crashed is a real 0. A sample
// the sandbox could not run at all is an infrastructure error: its item is
// failed (counted and shown with the reason), never scored.
const (
	executeStage = "execute"
	// executeEndpoint names the sandbox in the runner and the store; the
	// parentheses keep it apart from any model, judge or classifier name.
	executeEndpoint = "(sandbox)"
	// executeRequest is the request type the sandbox endpoint serves:
	// Prompt holds the whole program.
	executeRequest provider.RequestType = "execute"
)

// executeTask is a code task's execute stage.
type executeTask struct {
	cfg task.CodeConfig
	// single is true when every model gives one sample per problem: pass@1
	// is then pass/fail, compared by McNemar's test.
	single bool
}

func buildExecute(p *plan.Plan, ti int, spec task.Spec) (*executeTask, error) {
	if spec.Type != task.Code {
		return nil, nil
	}
	c, err := task.CodeOptions(spec.Options)
	if err != nil {
		return nil, fmt.Errorf("task %s: %w", spec.Name, err)
	}
	et := &executeTask{cfg: c, single: true}
	for _, m := range p.Models {
		if mergeParams(spec.Params, toParams(m.Params)).N > 1 {
			et.single = false
		}
	}
	return et, nil
}

// metrics are pass@k for each k, higher is better.
func (et *executeTask) metrics() []metricDef {
	out := make([]metricDef, len(et.cfg.Ks))
	for i, k := range et.cfg.Ks {
		m := scorer.Metric{Name: fmt.Sprintf("pass@%d", k), Direction: scorer.Higher, Test: scorer.TestPermutation}
		if k == 1 && et.single {
			m.Test, m.Binary = scorer.TestMcNemar, true
		}
		out[i] = metricDef{Metric: m}
	}
	return out
}

// checkUnsafeCode refuses a plan with code tasks unless running the
// generated code was agreed to: before any request is sent.
func checkUnsafeCode(p *plan.Plan, tasks []*builtTask, o Options) error {
	for i, bt := range tasks {
		if bt.Execute == nil {
			continue
		}
		if o.ConfirmRunUnsafeCode || (p.Sandbox != nil && p.Sandbox.ConfirmRunUnsafeCode) {
			return nil
		}
		return p.Errorf(fmt.Sprintf("tasks[%d].type", taskIndex(p, bt.Name, i)),
			"pass --confirm-run-unsafe-code (or set `sandbox: {confirm_run_unsafe_code: true}`) after reading docs/sandbox.md",
			"task %s runs model-generated code on this machine; this needs your explicit agreement", bt.Name)
	}
	return nil
}

func taskIndex(p *plan.Plan, name string, def int) int {
	for i, t := range p.Tasks {
		if t.Name == name {
			return i
		}
	}
	return def
}

// sandboxEndpoint adds the sandbox as a runner endpoint when some task
// executes code; it fails (before any request) when the sandbox cannot be
// made: no python3, or no namespaces without --allow-unsandboxed.
func sandboxEndpoint(ctx context.Context, p *plan.Plan, tasks []*builtTask, o Options, eps map[string]runner.Endpoint) (*sandbox.Sandbox, error) {
	if !slices.ContainsFunc(tasks, func(bt *builtTask) bool { return bt.Execute != nil }) {
		return nil, nil
	}
	cfg := plan.Sandbox{}
	if p.Sandbox != nil {
		cfg = *p.Sandbox
	}
	sb, err := sandbox.New(ctx, sandbox.Options{Python: cfg.Python, AllowUnsandboxed: cfg.AllowUnsandboxed || o.AllowUnsandboxed, Getenv: o.Getenv})
	if err != nil {
		return nil, p.Errorf("sandbox", "see docs/sandbox.md", "%v", err)
	}
	if o.Logger != nil {
		o.Logger.Info("sandbox for generated code", "python", sb.Python(), "namespaces", sb.Isolated(), "readonly", sb.ReadOnly())
	}
	if !sb.Isolated() && o.Logger != nil {
		o.Logger.Warn("running generated code WITHOUT network, user and PID namespaces (--allow-unsandboxed): limits, process group and work directory still apply")
	}
	conc := cfg.Concurrency
	if conc == 0 {
		conc = runtime.NumCPU()
	}
	spec := sandbox.Spec{Timeout: p.Sandbox.TimeoutDuration(), Procs: cfg.Procs, PassMarker: task.CodePassMarker}
	if cfg.MemoryMB > 0 {
		spec.Memory = int64(cfg.MemoryMB) << 20
	}
	if cfg.FileSizeMB > 0 {
		spec.FileSize = int64(cfg.FileSizeMB) << 20
	}
	eps[executeEndpoint] = runner.Endpoint{Name: executeEndpoint, Provider: executor{sb: sb, spec: spec}, Concurrency: conc,
		Timeout: spec.Timeout + time.Minute}
	return sb, nil
}

// executor is the sandbox as a provider: one request, one program run.
type executor struct {
	sb   *sandbox.Sandbox
	spec sandbox.Spec
}

// Execution outcomes, stored as the response's FinishReason.
const (
	execPassed   = "passed"
	execFailed   = "failed"
	execTimedOut = "timed_out"
	execKilled   = "killed"
)

func (e executor) Do(ctx context.Context, req provider.Request) (provider.Response, error) {
	if req.Type != executeRequest {
		return provider.Response{}, fmt.Errorf("the sandbox runs %q requests, not %q", executeRequest, req.Type)
	}
	sp := e.spec
	sp.Program = []byte(req.Prompt)
	r, err := e.sb.Run(ctx, sp)
	if err != nil {
		return provider.Response{}, err
	}
	out := provider.Response{FinishReason: execFailed, Scores: map[string]float64{"passed": 0}}
	switch {
	case r.Passed:
		out.FinishReason, out.Scores["passed"] = execPassed, 1
	case r.TimedOut:
		out.FinishReason = execTimedOut
	case r.Killed:
		out.FinishReason = execKilled
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (exit %d", out.FinishReason, r.ExitCode)
	if r.Signal != "" {
		fmt.Fprintf(&b, ", %s", r.Signal)
	}
	fmt.Fprintf(&b, ", %s)", r.Duration.Round(time.Millisecond))
	if !r.Passed && strings.TrimSpace(r.Stderr) != "" {
		b.WriteString("\n" + strings.TrimSpace(r.Stderr))
	}
	out.Text = b.String()
	return out, nil
}

// executeRequestID names the run of sample k of an item.
func executeRequestID(item string, k int) string { return fmt.Sprintf("%s#%d", item, k) }

// codeSamples reads one model's samples of an item; ok is false when the
// model has no answer to run (failed or empty: counted as such already).
func codeSamples(bt *builtTask, it *task.Item, byKey map[stageKey]*store.Result) ([]string, bool) {
	resps, msg := responses(bt, it, byKey)
	if msg != "" || len(resps) == 0 || len(resps[len(resps)-1]) == 0 {
		return nil, false
	}
	if _, _, err := bt.Kind.Input(bt.Spec, it, resps); err != nil {
		return nil, false
	}
	return task.CodeSamples(&resps[len(resps)-1][0]), true
}

// executeJobs builds the execute stage's runs of one task.
func executeJobs(p *plan.Plan, bt *builtTask, prior map[string]map[string]map[stageKey]*store.Result) []runner.Job {
	var jobs []runner.Job
	for _, m := range p.Models {
		for i := range bt.Items {
			it := &bt.Items[i]
			samples, ok := codeSamples(bt, it, prior[m.Name][bt.Name])
			if !ok {
				continue
			}
			for k, s := range samples {
				req := provider.Request{Type: executeRequest, ItemID: executeRequestID(it.ID, k), Prompt: string(task.CodeProgram(bt.Execute.cfg, it, s))}
				jobs = append(jobs, runner.Job{Model: m.Name, Task: bt.Name, Stage: executeStage, Endpoint: executeEndpoint, Request: req})
			}
		}
	}
	return jobs
}

// executeSummary is the code execution section's data.
type executeSummary struct {
	Ks []int `json:"k"`
	// Samples counts each model's executed samples by outcome (passed,
	// failed, timed_out, killed).
	Samples map[string]map[string]int `json:"samples"`
	// Errors counts each model's items left unscored because the sandbox
	// could not run a sample (or the run did not reach it).
	Errors map[string]int `json:"errors"`
	// FirstError is one such error per model, to show.
	FirstError map[string]string `json:"first_error,omitempty"`
}

// executeOutcomes sets pass@k on every graded model's scored outcomes of
// one code task from the stored executions. An item with a sample the
// sandbox did not run is failed with the reason: an infrastructure error
// is not a failing test.
func executeOutcomes(bt *builtTask, idx map[string]map[string]map[stageKey]*store.Result, outcomes map[string][]scored, models []string) *executeSummary {
	sum := &executeSummary{Ks: bt.Execute.cfg.Ks, Samples: map[string]map[string]int{}, Errors: map[string]int{}, FirstError: map[string]string{}}
	for _, m := range models {
		outs := outcomes[m]
		if outs == nil {
			continue
		}
		sum.Samples[m] = map[string]int{}
		byKey := idx[m][bt.Name]
	items:
		for i := range bt.Items {
			if !outs[i].Scored() {
				continue
			}
			it := &bt.Items[i]
			samples, ok := codeSamples(bt, it, byKey)
			if !ok {
				continue
			}
			passed := 0
			counts := map[string]int{}
			for k := range samples {
				r, found := byKey[stageKey{executeStage, executeRequestID(it.ID, k)}]
				reason, outcome := readExecution(r, found)
				if reason != "" {
					sum.Errors[m]++
					e := fmt.Sprintf("execute sample %d: %s", k, reason)
					if sum.FirstError[m] == "" {
						sum.FirstError[m] = it.ID + ": " + e
					}
					outs[i].Outcome = report.Outcome{Status: report.StatusFailed, Error: e}
					continue items
				}
				counts[outcome]++
				if outcome == execPassed {
					passed++
				}
			}
			scores := map[string]float64{}
			for _, k := range bt.Execute.cfg.Ks {
				if len(samples) < k {
					sum.Errors[m]++
					e := fmt.Sprintf("pass@%d needs at least %d samples but the item has %d: set params.n to %d or more", k, k, len(samples), k)
					if sum.FirstError[m] == "" {
						sum.FirstError[m] = it.ID + ": " + e
					}
					outs[i].Outcome = report.Outcome{Status: report.StatusFailed, Error: e}
					continue items
				}
				v, err := code.PassAtK(len(samples), passed, k)
				if err != nil {
					outs[i].Outcome = report.Outcome{Status: report.StatusFailed, Error: "pass@k: " + err.Error()}
					continue items
				}
				scores[fmt.Sprintf("pass@%d", k)] = v
			}
			for o, n := range counts {
				sum.Samples[m][o] += n
			}
			outs[i].Status = report.StatusOK
			outs[i].Error = ""
			for name, v := range scores {
				setJudgeScore(&outs[i], name, v)
			}
		}
	}
	return sum
}

// readExecution reads one stored execution: its outcome, or why there is
// none (the reason is then an infrastructure error, not a failed test).
func readExecution(r *store.Result, ok bool) (reason, outcome string) {
	if !ok {
		return "no execution stored (the run did not reach it)", ""
	}
	if r.Error != "" {
		return "the sandbox could not run it: " + r.Error, ""
	}
	var resp provider.Response
	if err := json.Unmarshal(r.Response, &resp); err != nil {
		return "stored execution does not decode: " + err.Error(), ""
	}
	switch resp.FinishReason {
	case execPassed, execFailed, execTimedOut, execKilled:
		return "", resp.FinishReason
	}
	return fmt.Sprintf("stored execution has no outcome (%q)", resp.FinishReason), ""
}

// executeSection is the report's account of a task's executions.
func executeSection(bt *builtTask, s *executeSummary, models []string) report.Section {
	var b strings.Builder
	fmt.Fprintf(&b, "Task %s: each sample ran against the item's tests in the sandbox (docs/sandbox.md); pass@k by the unbiased estimator of Chen et al. (2021).\n\n", bt.Name)
	for _, m := range models {
		c := s.Samples[m]
		if c == nil {
			continue
		}
		total := 0
		for _, n := range c {
			total += n
		}
		fmt.Fprintf(&b, "- %s: %d samples run: %d passed, %d failed, %d timed out, %d killed by a limit.\n", m, total, c[execPassed], c[execFailed], c[execTimedOut], c[execKilled])
	}
	var errs []string
	for _, m := range models {
		if n := s.Errors[m]; n > 0 {
			errs = append(errs, fmt.Sprintf("%s: %d (e.g. %s)", m, n, s.FirstError[m]))
		}
	}
	sort.Strings(errs)
	if len(errs) == 0 {
		b.WriteString("- Every sample ran.\n")
	} else {
		fmt.Fprintf(&b, "- Items left unscored because a sample could not be run — an infrastructure error, counted as failed, never scored 0: %s.\n", strings.Join(errs, "; "))
	}
	data, _ := json.Marshal(s)
	return report.Section{Title: "Code execution: " + bt.Name, Kind: "execute", Markdown: b.String(), Data: data}
}

// Package app orchestrates a run: plan → datasets → items → requests →
// runner (cache, resume) → stored results → scores → paired statistics →
// gates → reports. It owns no evaluation logic of its own beyond wiring: each
// step calls the package that owns it.
package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tunecheck/tunecheck/internal/dataset"
	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/provider/registry"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/runner"
	"github.com/tunecheck/tunecheck/internal/scorer"
	"github.com/tunecheck/tunecheck/internal/stats"
	"github.com/tunecheck/tunecheck/internal/store"
	"github.com/tunecheck/tunecheck/internal/task"
)

// Options configure one `tunecheck run`.
type Options struct {
	PlanPath string
	// StoreDSN and OutputDir override the plan's store and output.
	StoreDSN  string
	OutputDir string
	// Limit and Sample override every task's dataset selection (0: as planned).
	Limit      int
	Sample     int
	SampleSeed *uint64
	// Formats written to the output directory (default md and json).
	Formats []string
	// Getenv reads API keys by the variable names the plan gives, and
	// GITHUB_STEP_SUMMARY (the file GitHub Actions shows on the job page).
	Getenv      func(string) string
	HTTPClient  *http.Client
	Progress    io.Writer
	Terminal    bool
	Logger      *slog.Logger
	ToolVersion string
	Now         func() time.Time
	// DryRun builds and checks the plan, then returns an Estimate of what
	// it would send (Outcome.Estimate) without sending or storing anything.
	DryRun bool
	// MaskPII masks personal data in the report files (report.MaskPII);
	// the store keeps the raw text.
	MaskPII bool
	// Shard, when its Count is set, runs one shard of a sharded run (shard.go).
	Shard Shard
	// ConfirmRunUnsafeCode agrees to run code tasks' generated programs
	// (--confirm-run-unsafe-code); AllowUnsandboxed runs them without
	// namespaces where none can be made (--allow-unsandboxed). docs/sandbox.md.
	ConfirmRunUnsafeCode bool
	AllowUnsandboxed     bool
	// ApplyChatTemplate sends every multiple_choice task's prompts as chat
	// messages (generative protocol; protocol.go).
	ApplyChatTemplate bool
	// Tags are stored with a new run (`run --tag`, and the checkpoint
	// `watch` evaluated).
	Tags map[string]string
	// Candidate, when set, points the plan's candidate model elsewhere (a
	// served checkpoint) and makes the run's plan hash its own.
	Candidate *CandidateOverride
	// Contaminated is a leakage report (`leakage --bench … -f json`): the
	// Forgetting section adds each benchmark's numbers on its clean items.
	Contaminated string
	// LogSamples writes lm-eval's per-sample JSONL and results JSON for
	// each graded model beside the reports (lmeval_results.go).
	LogSamples bool
	// Benchmarks are built-in benchmarks (internal/bench names) added to the
	// plan's tasks (`run --tasks`); BenchDataDir is where their data is
	// (original formats or the Hugging Face layout; empty: the embedded samples).
	Benchmarks   []string
	BenchDataDir string
}

// CandidateOverride replaces the plan's candidate endpoint for one run.
type CandidateOverride struct {
	// BaseURL and Model replace the candidate's (empty: kept).
	BaseURL, Model string
	// Key joins the plan hash (e.g. the checkpoint's step and fingerprint),
	// so that resuming by plan hash finds this checkpoint's run and no
	// other's. It does not include BaseURL: a server started per checkpoint
	// listens on another port each time, yet the run is the same.
	Key string
}

// Outcome is what a run produced.
type Outcome struct {
	RunID   string
	Resumed bool
	Report  *report.Report
	Exec    runner.Summary
	Files   []string
	// Providers is each model's provider kind by name, so the summary can say
	// "answers read from files" for the file provider instead of "requests sent".
	Providers map[string]string
	// Estimate is a dry run's account of what the run would send.
	Estimate *Estimate
	// Echo is each graded model's echo check (protocol.go), when a
	// multiple_choice task needed one.
	Echo map[string]provider.EchoCheck
	// Shard is what a shard (or merge) did about its sharded run.
	Shard *ShardOutcome
}

// Run executes a plan end to end and stores it. A run interrupted by ctx is
// left unfinished in the store; running the same plan again resumes it.
func Run(ctx context.Context, o Options) (*Outcome, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p, err := plan.LoadWith(o.PlanPath, task.PlanTypes())
	if err != nil {
		return nil, exitcode.WithCode(err, exitcode.BadInput)
	}
	if o.ApplyChatTemplate {
		if err := applyChatTemplate(p); err != nil {
			return nil, err
		}
	}
	var benchInfo map[string]*report.BenchmarkInfo
	if len(o.Benchmarks) > 0 || hasBenchmarkEntries(p) {
		dir, err := os.MkdirTemp("", "tunecheck-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		if benchInfo, err = addBenchmarks(p, o, dir); err != nil {
			return nil, err
		}
	}
	if o.HTTPClient == nil {
		// Keep as many idle connections per host as requests in flight, so
		// that high concurrency does not churn through TCP connections.
		perHost := 0
		for _, m := range p.Models {
			perHost += m.Concurrency
		}
		o.HTTPClient = provider.NewHTTPClient(perHost)
	}
	if o.Candidate != nil {
		if err := overrideCandidate(p, *o.Candidate); err != nil {
			return nil, exitcode.WithCode(err, exitcode.BadInput)
		}
	}
	warnParams(p, o.Logger)
	tasks, err := buildTasks(p, o)
	if err != nil {
		return nil, exitcode.WithCode(err, exitcode.BadInput)
	}
	for _, bt := range tasks {
		bt.Benchmark = benchInfo[bt.Name]
	}
	if err := checkTrainTasks(p, tasks); err != nil {
		return nil, exitcode.WithCode(err, exitcode.BadInput)
	}
	// Gates are checked against the tasks and metrics as built, before any
	// request: a typo must not cost a whole run.
	gates, err := planGates(p, tasks)
	if err != nil {
		return nil, exitcode.WithCode(err, exitcode.BadInput)
	}
	if err := checkUnsafeCode(p, tasks, o); err != nil {
		return nil, exitcode.WithCode(err, exitcode.BadInput)
	}
	if o.DryRun {
		est := estimate(p, o.Shard.tasks(tasks))
		est.Protocols = dryRunProtocols(tasks)
		return &Outcome{Estimate: est}, nil
	}
	endpoints, models, err := buildEndpoints(p, tasks, o)
	if err != nil {
		return nil, exitcode.WithCode(err, exitcode.BadInput)
	}
	// Multiple choice: one echo check per endpoint decides the protocol
	// before any item request; a fallback changes the metrics, so the gates
	// are checked again. First, because without prompt logprobs nothing
	// else a perplexity task needs matters (llama-server was asked for a
	// prefix token before being refused for echo).
	echoes, err := resolveProtocols(ctx, p, tasks, o)
	if err != nil {
		return nil, err
	}
	// Perplexity tasks need the endpoint's tokenizer: refused before any request.
	if err := checkRolling(ctx, p, o.Shard.tasks(tasks), endpoints); err != nil {
		return nil, err
	}
	if gates, err = planGates(p, tasks); err != nil {
		return nil, exitcode.WithCode(err, exitcode.BadInput)
	}
	shareContexts(endpoints, p, tasks)
	if _, err := sandboxEndpoint(ctx, p, tasks, o, endpoints); err != nil {
		return nil, exitcode.WithCode(err, exitcode.BadInput)
	}
	dsn := store.Locate(o.StoreDSN, p.Store, p.Dir)
	if err := o.Shard.checkStore(dsn); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, exitcode.WithHint(fmt.Errorf("opening the store: %w", err), "check plan key store or --store; the default is .tunecheck/tunecheck.db in the current directory")
	}
	defer st.Close()

	fps := map[string]string{}
	for _, bt := range tasks {
		fps[bt.Name] = bt.Dataset.Fingerprint + " " + bt.Dataset.Selection
	}
	planJSON, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	var run store.Run
	var resumed bool
	if o.Shard.Count > 0 {
		// One shard of a sharded run (shard.go): every shard joins the
		// same run and sends only its own items.
		if run, resumed, err = joinShard(ctx, st, p, fps, planJSON, o); err != nil {
			return nil, err
		}
	} else if run, resumed, err = st.ResumableRun(ctx, p.Hash); err != nil {
		return nil, err
	}
	if o.Shard.Count == 0 && resumed && !sameDatasets(run.Datasets, fps) {
		o.Logger.Warn("an unfinished run of this plan read different data; starting a new run", "run", run.ID)
		resumed = false
	}
	if o.Shard.Count == 0 && !resumed {
		modelsJSON, _ := json.Marshal(p.Models)
		run = store.Run{ID: store.NewRunID(o.Now()), Name: p.Name, PlanHash: p.Hash, Plan: planJSON, ToolVersion: o.ToolVersion,
			Seed: p.Seed, Datasets: fps, Models: modelsJSON, Status: store.StatusRunning, StartedAt: o.Now(), Tags: o.Tags}
		if err := st.CreateRun(ctx, run); err != nil {
			return nil, err
		}
	}

	out := &Outcome{RunID: run.ID, Resumed: resumed, Providers: map[string]string{}, Echo: echoes}
	for _, m := range models {
		out.Providers[m.Name] = m.Provider
	}
	sum, err := runStages(ctx, p, o.Shard.tasks(tasks), endpoints, st, run.ID, o)
	out.Exec = sum
	logReplicas(endpoints, o.Logger)
	if err != nil {
		var over *budgetError
		if errors.As(err, &over) {
			return out, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("run %s stopped: %v; finished work is stored", run.ID, over), exitcode.Interrupted),
				"raise judge.max_cost (or remove it) and run the same plan again to resume where it stopped")
		}
		if errors.Is(err, context.Canceled) || ctx.Err() != nil {
			return out, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("run %s interrupted; finished work is stored", run.ID), exitcode.Interrupted),
				"run the same plan again to resume where it stopped")
		}
		return out, err
	}
	if o.Shard.Count > 0 {
		return out, finishShard(ctx, p, tasks, gates, models, st, run.ID, o, out)
	}
	return out, conclude(ctx, p, tasks, gates, models, st, run.ID, o, out)
}

// conclude scores every stored result of the run, checks the gates, writes
// the reports and finishes the run: the end of an unsharded run, and the
// merge of a sharded one (shard.go), which therefore cannot differ.
func conclude(ctx context.Context, p *plan.Plan, tasks []*builtTask, gates []gate.Gate, models []modelInfo, st *store.Store, runID string, o Options, out *Outcome) error {
	results, err := st.Results(ctx, runID)
	if err != nil {
		return err
	}
	if err := unsupported(results); err != nil {
		return err
	}
	if err := storedProtocols(p, tasks, results); err != nil {
		return err
	}
	rep := Evaluate(evaluation{Tasks: tasks, Models: models, Results: results, Baseline: p.Compare.Baseline, Candidate: p.Compare.Candidate,
		Seed: p.Seed, Resamples: p.Bootstrap.Resamples, Conf: p.Bootstrap.Confidence, Examples: p.Report.Examples})
	recordProtocols(rep, tasks, out.Echo)
	rep.ToolVersion = o.ToolVersion
	rep.Plan = report.PlanInfo{Name: p.Name, Hash: p.Hash}
	broken := brokenEndpoints(p, results)
	if bc := brokenClassifiers(p, results); bc != nil && broken == nil {
		broken = bc
	} else if bc != nil {
		broken = errors.Join(broken, bc)
	}
	for _, g := range gates {
		rep.Gates = append(rep.Gates, gate.Check(g, rep.Lookup))
	}
	rep.Verdict = gate.Verdict(rep.Gates)
	rep.Warnings = append(gateWarnings(rep), judgeWarnings(p, tasks)...)
	if broken != nil {
		rep.Verdict = gate.Error
	}
	out.Report = rep

	outDir := p.Output
	if o.OutputDir != "" {
		outDir = o.OutputDir
	} else {
		outDir = p.Resolve(outDir)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("creating output directory: %w", err)
	}
	training, err := trainingSections(ctx, p, tasks, results, outDir)
	if err != nil {
		return exitcode.WithCode(err, exitcode.BadInput)
	}
	rep.Sections = append(rep.Sections, training...)
	if sec, ok, err := gapSection(p, tasks, results); err != nil {
		return err
	} else if ok {
		rep.Sections = append(rep.Sections, sec)
	}
	if sec, ok := safetySection(rep); ok {
		rep.Sections = append(rep.Sections, sec)
	}
	// Forgetting goes first among the sections: report.md keeps it whole
	// when the Markdown budget drops later sections.
	defsOf := map[string][]metricDef{}
	for _, bt := range tasks {
		defsOf[bt.Name] = bt.defs()
	}
	if sec, ok, err := forgettingSection(rep, defsOf, p.Seed, stats.Config{Resamples: p.Bootstrap.Resamples, Confidence: p.Bootstrap.Confidence}, o.Contaminated, outDir); err != nil {
		return err
	} else if ok {
		rep.Sections = append([]report.Section{sec}, rep.Sections...)
	}

	// The summary the store lists and trends is the report without its
	// per-item records; the records are stored beside it.
	short, recs := rep.SplitRecords()
	var summary bytes.Buffer
	if err := report.JSON(&summary, short); err != nil {
		return err
	}
	records, err := json.Marshal(recs)
	if err != nil {
		return err
	}
	stepSummary := ""
	if o.Getenv != nil {
		stepSummary = o.Getenv("GITHUB_STEP_SUMMARY")
	}
	written := rep
	if o.MaskPII {
		written = report.MaskPII(rep)
	}
	files, err := WriteReports(outDir, written, o.Formats, stepSummary)
	out.Files = files
	if err != nil {
		return err
	}
	if o.LogSamples {
		now := time.Now
		if o.Now != nil {
			now = o.Now
		}
		lm, err := writeLMEval(outDir, written, tasks, results, now(), o.MaskPII)
		out.Files = append(out.Files, lm...)
		if err != nil {
			return err
		}
	}
	// A run whose endpoint answered nothing is finished too, with the
	// verdict "error": it is a record of what happened, not a run to resume.
	if err := st.FinishRunWithRecords(ctx, runID, string(rep.Verdict), summary.Bytes(), records); err != nil {
		return err
	}
	if broken != nil {
		return broken
	}
	return nil
}

// runStages sends every stage of every task in order: stage s of all tasks
// goes through the runner together, and a later stage's requests are built
// from the results the earlier stages stored (a model's own turn-1 answer in
// its turn-2 request). A run killed in any stage resumes there: finished
// stages are skipped by the runner's resume, and the next stage's requests
// are rebuilt from the store.
func runStages(ctx context.Context, p *plan.Plan, tasks []*builtTask, endpoints map[string]runner.Endpoint, st *store.Store, runID string, o Options) (runner.Summary, error) {
	var total runner.Summary
	depth := 0
	for _, bt := range tasks {
		depth = max(depth, bt.depth())
	}
	for s := range depth {
		var prior map[string]map[string]map[stageKey]*store.Result
		if s > 0 {
			results, err := st.Results(ctx, runID)
			if err != nil {
				return total, err
			}
			prior = indexResults(results)
		}
		var jobs []runner.Job
		for _, bt := range tasks {
			// The stages added after a task's own (judge, repair,
			// classifiers) need every model's answers: each is built once
			// per task.
			if k := s - len(bt.Stages); k >= 0 && k < len(bt.postStages()) {
				js, err := bt.postStages()[k].jobs(p, bt, prior)
				if err != nil {
					return total, err
				}
				jobs = append(jobs, js...)
			}
		}
		for _, m := range p.Models {
			for _, bt := range tasks {
				if s >= len(bt.Stages) {
					continue
				}
				for i := range bt.Items {
					it := &bt.Items[i]
					reqs := it.Requests
					if s > 0 {
						resps, msg := responsesUpTo(bt, it, s, prior[m.Name][bt.Name])
						if msg != "" {
							continue // an earlier stage failed: the item is failed, not sent further
						}
						var err error
						reqs, err = bt.Kind.Next(bt.Spec, s, it, resps)
						if errors.Is(err, task.ErrEmptyOutput) {
							continue // an empty earlier answer: counted as empty, not sent further
						}
						if err != nil {
							return total, fmt.Errorf("task %s item %s stage %s: %w", bt.Name, it.ID, bt.Stages[s], err)
						}
					}
					for _, req := range reqs {
						if req.Type == provider.Generate {
							req.Params = mergeParams(req.Params, toParams(m.Params))
						}
						jobs = append(jobs, runner.Job{Model: m.Name, Task: bt.Name, Stage: bt.Stages[s], Request: req})
					}
				}
			}
		}
		if len(jobs) == 0 {
			continue
		}
		if depth > 1 {
			o.Logger.Info("stage", "stage", s+1, "of", depth, "requests", len(jobs))
		}
		ropts := runner.Options{Store: st, Progress: o.Progress, Terminal: o.Terminal, Logger: o.Logger}
		sctx := ctx
		var budget *budget
		if slices.ContainsFunc(jobs, func(j runner.Job) bool { return j.Endpoint != "" }) {
			var err error
			if sctx, budget, err = judgeBudget(ctx, p, tasks, st, runID, &ropts); err != nil {
				return total, err
			}
		}
		sum, err := runner.Run(sctx, endpoints, runID, jobs, ropts)
		if budget != nil {
			budget.cancel()
		}
		total = addSummary(total, sum)
		if over := budget.exceeded(); over != nil {
			return total, over
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// responsesUpTo gathers an item's responses to stages before s.
func responsesUpTo(bt *builtTask, it *task.Item, s int, byKey map[stageKey]*store.Result) ([][]provider.Response, string) {
	short := *bt
	short.Stages = bt.Stages[:s]
	return responses(&short, it, byKey)
}

func indexResults(results []store.Result) map[string]map[string]map[stageKey]*store.Result {
	idx := map[string]map[string]map[stageKey]*store.Result{}
	for i := range results {
		res := &results[i]
		if idx[res.Model] == nil {
			idx[res.Model] = map[string]map[stageKey]*store.Result{}
		}
		if idx[res.Model][res.Task] == nil {
			idx[res.Model][res.Task] = map[stageKey]*store.Result{}
		}
		idx[res.Model][res.Task][stageKey{res.Stage, res.ItemID}] = res
	}
	return idx
}

// addSummary adds the counts of one stage's runner summary to the run's.
func addSummary(a, b runner.Summary) runner.Summary {
	a.Elapsed += b.Elapsed
	for _, m := range b.Models {
		found := false
		for i := range a.Models {
			if a.Models[i].Model == m.Model {
				x := &a.Models[i]
				x.Jobs += m.Jobs
				x.Sent += m.Sent
				x.Cached += m.Cached
				x.Resumed += m.Resumed
				x.Failed += m.Failed
				x.Retries += m.Retries
				x.PromptTokens += m.PromptTokens
				x.CompletionTokens += m.CompletionTokens
				x.Unfinished += m.Unfinished
				x.LatencyP50MS = max(x.LatencyP50MS, m.LatencyP50MS)
				x.LatencyP95MS = max(x.LatencyP95MS, m.LatencyP95MS)
				found = true
			}
		}
		if !found {
			a.Models = append(a.Models, m)
		}
	}
	return a
}

// reportFiles names the file each format is written to.
var reportFiles = map[string]string{"md": "report.md", "json": "results.json", "html": "report.html", "junit": "junit.xml"}

// WriteReports renders rep into dir in each format (md and json by default).
func WriteReports(dir string, rep *report.Report, formats []string, stepSummary string) ([]string, error) {
	if len(formats) == 0 {
		formats = []string{"md", "json"}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating output directory: %w", err)
	}
	var files []string
	for _, f := range formats {
		name, ok := reportFiles[f]
		render := report.Renderers[f]
		if !ok || render == nil {
			return files, exitcode.WithCode(fmt.Errorf("unknown report format %q (use md, json, html, junit)", f), exitcode.BadInput)
		}
		var buf bytes.Buffer
		if err := render(&buf, rep); err != nil {
			return files, err
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return files, err
		}
		files = append(files, path)
	}
	// In GitHub Actions the job page shows the Markdown a step appends to the
	// file $GITHUB_STEP_SUMMARY names (stepSummary, which the caller reads
	// from the environment); the report goes there too, sized like
	// report.md for a pull-request comment (65,536 characters, well within
	// the 1 MiB a step summary holds). Append, as GitHub expects: other
	// tools in the step may have written to the same file.
	if summary := stepSummary; summary != "" {
		var buf bytes.Buffer
		if err := report.MarkdownLimit(&buf, rep, report.GitHubLimit); err != nil {
			return files, err
		}
		// Created if missing; after a blank line when it has content already.
		err := func() error {
			f, err := os.OpenFile(summary, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			md := buf.Bytes()
			if st, err := f.Stat(); err == nil && st.Size() > 0 {
				md = append([]byte("\n"), md...)
			}
			if _, err := f.Write(md); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		}()
		if err != nil {
			return files, fmt.Errorf("writing the step summary to GITHUB_STEP_SUMMARY=%s: %w", summary, err)
		}
	}
	return files, nil
}

// warnParams says when the compared models have different generation params:
// their requests then differ, and the comparison measures the params too.
func warnParams(p *plan.Plan, log *slog.Logger) {
	var base, cand *plan.Model
	for i := range p.Models {
		switch p.Models[i].Name {
		case p.Compare.Baseline:
			base = &p.Models[i]
		case p.Compare.Candidate:
			cand = &p.Models[i]
		}
	}
	if base == nil || cand == nil {
		return
	}
	a, _ := json.Marshal(base.Params)
	b, _ := json.Marshal(cand.Params)
	if !bytes.Equal(a, b) {
		log.Warn("the baseline and the candidate have different generation params, so their requests differ; the comparison measures the params as well as the weights",
			"baseline", string(a), "candidate", string(b))
	}
}

func sameDatasets(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// planGates parses the plan's gates and checks every task and metric they
// name against the tasks as built (groups included).
func planGates(p *plan.Plan, tasks []*builtTask) ([]gate.Gate, error) {
	return checkGates(p.Gates, knownOf(tasks, p.Compare.Baseline != "" && p.Compare.Candidate != ""), p.Position)
}

func knownOf(tasks []*builtTask, compared bool) gate.Known {
	k := gate.Known{Tasks: map[string][]string{}, Compared: compared}
	groups := map[string][]metricDef{}
	var order []string
	for _, bt := range tasks {
		defs := bt.defs()
		k.Tasks[bt.Name] = names(defs)
		for _, sd := range bt.Slices {
			if k.Slices == nil {
				k.Slices = map[string][]string{}
			}
			k.Slices[bt.Name] = append(k.Slices[bt.Name], sd.Name)
		}
		if bt.Group != "" {
			if prev, ok := groups[bt.Group]; ok {
				groups[bt.Group] = commonDefs(prev, defs)
			} else {
				groups[bt.Group] = defs
				order = append(order, bt.Group)
			}
		}
	}
	for _, g := range order {
		if _, clash := k.Tasks[g]; !clash {
			k.Tasks[g] = names(groups[g])
		}
	}
	return k
}

// checkGates validates gate expressions; where names the plan file (or
// "--gate") in the error.
// checkGates validates gate expressions; position, when not nil, labels each
// problem with where the plan wrote the gate (file:line:col), otherwise they
// are labelled gates[i] (the --gate flags).
func checkGates(exprs []string, known gate.Known, position func(label string) string) ([]gate.Gate, error) {
	gs, err := gate.ValidateAll(exprs, known)
	if err == nil {
		return gs, nil
	}
	if position != nil {
		var list []error
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			list = j.Unwrap()
		} else {
			list = []error{err}
		}
		for _, e := range list {
			var ee *gate.ExprError
			if errors.As(e, &ee) {
				ee.Label = position(ee.Label) + ": " + ee.Label
			}
		}
		err = errors.Join(list...)
	}
	// Each problem starts on a line of its own, so its caret lines up.
	return nil, exitcode.WithHint(fmt.Errorf("gates that cannot be checked (nothing was sent):\n%w", err),
		"gates read TASK.METRIC.FIELD OP NUMBER (e.g. qa.token_f1.delta.ci_low >= 0) or TASK.failed_rate OP NUMBER; docs/plan.md lists the fields")
}

func buildTasks(p *plan.Plan, o Options) ([]*builtTask, error) {
	var out []*builtTask
	for ti, t := range p.Tasks {
		if t.Benchmark != "" {
			return nil, p.Errorf(fmt.Sprintf("tasks[%d].benchmark", ti), "run the benchmark with `tunecheck run` (not sharded), or `--tasks`",
				"benchmark entries are expanded by `tunecheck run` only; this command cannot run %s", t.Benchmark)
		}
		if t.LMEval != "" {
			return nil, p.Errorf(fmt.Sprintf("tasks[%d].lm_eval", ti), "run it with `tunecheck run` (not sharded), or export it first (`tunecheck lm-eval export`)",
				"lm_eval entries are expanded by `tunecheck run` only; this command cannot run %s", t.LMEval)
		}
		opts := dataset.Options{Format: t.Dataset.Format, IDField: t.Dataset.IDField, Columns: t.Dataset.Columns, Limit: t.Dataset.Limit, Sample: t.Dataset.Sample, Seed: p.Seed}
		if t.Dataset.Seed != nil {
			opts.Seed = *t.Dataset.Seed
		}
		if o.Limit > 0 {
			opts.Limit = o.Limit
		}
		if o.Sample > 0 {
			opts.Sample = o.Sample
			if o.SampleSeed != nil {
				opts.Seed = *o.SampleSeed
			}
		}
		path := p.Resolve(t.Dataset.Path)
		ds, err := dataset.Load(path, opts)
		if err != nil {
			return nil, fmt.Errorf("task %s: %w", t.Name, err)
		}
		if ds.IDField != "" && t.Dataset.IDField == "" && o.Logger != nil {
			o.Logger.Info("item ids from the dataset's own field", "task", t.Name, "id_field", ds.IDField)
		}
		spec := task.Spec{Name: t.Name, Type: t.Type, Source: path, System: t.Prompt.System, Template: t.Prompt.Template,
			Chat: t.Prompt.Chat == nil || *t.Prompt.Chat, Reference: t.Reference, Choices: t.Choices, Answer: t.Answer, Turns: t.Turns, Options: t.Options,
			K: t.FewShot.K, Target: t.FewShot.Target, FewShotSeed: p.Seed, Shape: ds.Shape}
		if t.FewShot.Seed != nil {
			spec.FewShotSeed = *t.FewShot.Seed
		}
		if t.FewShot.Path != "" {
			pool, err := dataset.Load(p.Resolve(t.FewShot.Path), dataset.Options{})
			if err != nil {
				return nil, fmt.Errorf("task %s: few_shot.path: %w", t.Name, err)
			}
			spec.Pool = rows(pool)
		}
		if t.Params != nil {
			spec.Params = toParams(*t.Params)
		}
		kind := task.Types()[spec.Type]
		items, err := kind.Build(spec, rows(ds))
		if err != nil {
			return nil, err
		}
		scorers, err := taskScorers(p, ti, kind, spec)
		if err != nil {
			return nil, err
		}
		for tj, other := range p.Tasks {
			if t.Group != "" && other.Name == t.Group {
				return nil, p.Errorf(fmt.Sprintf("tasks[%d].group", ti), "give the group a name no task has",
					"group %q has the name of task %d; gates could not tell them apart", t.Group, tj)
			}
		}
		sds, labels, err := buildSlices(p, ti, items)
		if err != nil {
			return nil, err
		}
		jt, err := buildJudge(p, ti)
		if err != nil {
			return nil, err
		}
		if jt != nil {
			if err := jt.checkItems(p, ti, items); err != nil {
				return nil, err
			}
		}
		ct := buildClassify(p, ti)
		et, err := buildExecute(p, ti, spec)
		if err != nil {
			return nil, err
		}
		out = append(out, &builtTask{Classify: ct, Execute: et, Name: t.Name, Type: t.Type, Group: t.Group, Kind: kind, Spec: spec, Stages: kind.Stages(spec, items),
			Items: items, Scorers: scorers, Slices: sds, Labels: labels, Judge: jt,
			Dataset: report.Dataset{Path: t.Dataset.Path, Fingerprint: ds.Fingerprint, Rows: len(ds.Rows), Total: ds.Total, Selection: ds.Selection, IDField: ds.IDField}})
	}
	return out, nil
}

// taskScorers builds task ti's scorers: its type's own, or the plan's.
func taskScorers(p *plan.Plan, ti int, kind task.Type, spec task.Spec) ([]scorer.Scorer, error) {
	if own := kind.Scorers(spec); own != nil {
		return own, nil
	}
	var out []scorer.Scorer
	by := map[string]string{}
	for i, sc := range p.Tasks[ti].Scorers {
		at := fmt.Sprintf("tasks[%d].scorers[%d]", ti, i)
		s, err := scorer.New(sc.Name, scorer.Options(sc.Options))
		if err != nil {
			return nil, p.Errorf(at, "`tunecheck scorers` lists the scorers and their options", "%v", err)
		}
		for _, m := range s.Metrics() {
			if prev, dup := by[m.Name]; dup {
				return nil, p.Errorf(at, "remove one of the two, or rename one (regex takes a `name` option)",
					"metric %s is reported twice: by this scorer and by %s", m.Name, prev)
			}
			by[m.Name] = fmt.Sprintf("scorers[%d] (%s)", i, sc.Name)
		}
		out = append(out, s)
	}
	return out, nil
}

func rows(ds *dataset.Dataset) []task.Row {
	out := make([]task.Row, len(ds.Rows))
	for i, r := range ds.Rows {
		out[i] = task.Row{ID: r.ID, Line: r.Line, Fields: r.Fields}
	}
	return out
}

// mergeParams fills the fields task params leave unset from the model's
// params. The compared models see byte-identical requests as long as their
// own params agree; tunecheck warns when they do not.
func mergeParams(task, model provider.Params) provider.Params {
	if task.Temperature == nil {
		task.Temperature = model.Temperature
	}
	if task.TopP == nil {
		task.TopP = model.TopP
	}
	if task.MaxTokens == 0 {
		task.MaxTokens = model.MaxTokens
	}
	if task.Stop == nil {
		task.Stop = model.Stop
	}
	if task.Seed == nil {
		task.Seed = model.Seed
	}
	if task.N == 0 {
		task.N = model.N
	}
	return task
}

func toParams(p plan.Params) provider.Params {
	return provider.Params{Temperature: p.Temperature, TopP: p.TopP, MaxTokens: p.MaxTokens, Stop: p.Stop, Seed: p.Seed, N: p.N}
}

// buildEndpoints makes one runner endpoint per model. Task-level params win
// over model params; both models of a comparison get byte-identical requests
// because params live in the request, which is built once per item.
func buildEndpoints(p *plan.Plan, tasks []*builtTask, o Options) (map[string]runner.Endpoint, []modelInfo, error) {
	eps := map[string]runner.Endpoint{}
	needsLL := false
	for _, bt := range tasks {
		// multiple_choice decides its protocol from an echo check (protocol.go).
		if bt.Type == task.Perplexity || bt.Type == task.CrowsPairs || bt.Type == task.BBQ {
			needsLL = true
		}
	}
	type endpoint struct {
		m  plan.Model
		at string
	}
	var all []endpoint
	for mi, m := range p.Models {
		all = append(all, endpoint{m, fmt.Sprintf("models[%d]", mi)})
	}
	for ji, m := range p.Judges {
		all = append(all, endpoint{m, fmt.Sprintf("judges[%d]", ji)})
	}
	for _, e := range all {
		m := e.m
		cfg, err := registry.FromPlan(m, o.Getenv, p.Dir)
		if err != nil {
			return nil, nil, p.Errorf(e.at, "see docs/providers.md", "%v", err)
		}
		if needsLL && cfg.Kind == provider.KindAnthropic {
			return nil, nil, exitcode.WithHint(fmt.Errorf("model %s: the Anthropic API returns no log-probabilities, so it cannot run multiple_choice or perplexity tasks", m.Name),
				"run those tasks on an OpenAI-compatible server that supports echo with logprobs (vLLM; llama.cpp's llama-server does not echo prompt logprobs)")
		}
		prov, ns, err := newProvider(m, cfg, o.HTTPClient)
		if err != nil {
			return nil, nil, fmt.Errorf("model %s: %w", m.Name, err)
		}
		retries := 5
		if m.MaxRetries != nil {
			retries = *m.MaxRetries
		}
		eps[m.Name] = runner.Endpoint{Name: m.Name, Provider: prov, CacheNamespace: ns, Concurrency: m.Concurrency,
			RequestsPerSecond: m.RateLimit.RequestsPerSecond, TokensPerMinute: m.RateLimit.TokensPerMinute, Timeout: cfg.Timeout, MaxRetries: retries}
	}
	// Safety classifiers are endpoints of the classify stage (classify.go).
	if err := classifierEndpoints(p, o, eps); err != nil {
		return nil, nil, err
	}
	return eps, modelInfos(p), nil
}

// modelInfos describes the plan's models, judges and classifiers for the
// report; it needs no provider (merge builds the report without one).
func modelInfos(p *plan.Plan) []modelInfo {
	var infos []modelInfo
	for _, m := range p.Models {
		infos = append(infos, modelInfo{Name: m.Name, Provider: m.Provider, Model: m.Model, InputPrice: m.Prices.InputPerMTok, OutputPrice: m.Prices.OutputPerMTok})
	}
	for _, m := range p.Judges {
		infos = append(infos, modelInfo{Name: m.Name, Provider: m.Provider, Model: m.Model, InputPrice: m.Prices.InputPerMTok, OutputPrice: m.Prices.OutputPerMTok, Role: report.RoleJudge})
	}
	// Billed apart like judges: requests, failures, latency (no prices).
	for _, c := range p.Classifiers {
		infos = append(infos, modelInfo{Name: c.Name, Provider: c.Protocol, Model: c.Model, Role: report.RoleClassifier})
	}
	return infos
}

// brokenEndpoints turns "every request to a model failed" into exit code 3
// with the real cause — the HTTP status and an excerpt of the body, a hint to
// set api_key_env on 401/403, to raise timeout when every attempt timed out —
// instead of a report of zeros that CI would read as a regressed model.
func brokenEndpoints(p *plan.Plan, results []store.Result) error {
	var errs []error
	var hints []string
	type ep struct {
		m     plan.Model
		judge bool
	}
	var eps []ep
	for _, m := range p.Models {
		eps = append(eps, ep{m, false})
	}
	for _, m := range p.Judges {
		eps = append(eps, ep{m, true})
	}
	for _, e := range eps {
		m := e.m
		total, failed := 0, 0
		var msgs []string
		for _, r := range results {
			if e.judge && r.Endpoint != m.Name || !e.judge && (r.Model != m.Name || r.Endpoint != "") {
				continue
			}
			total++
			if r.Error != "" {
				failed++
				if len(msgs) < 64 {
					msgs = append(msgs, r.Error)
				}
			}
		}
		if total == 0 || failed < total {
			continue
		}
		cause, hint := diagnose(m, msgs)
		what := "model"
		if e.judge {
			// A broken judge is not a regressed model either: nothing was judged.
			what = "judge"
		}
		errs = append(errs, fmt.Errorf("%s %s: all %d requests failed: %s", what, m.Name, total, cause))
		hints = append(hints, hint)
	}
	if len(errs) == 0 {
		return nil
	}
	return exitcode.WithHint(exitcode.WithCode(errors.Join(errs...), exitcode.Unreachable), strings.Join(hints, "\n"))
}

var httpStatus = regexp.MustCompile(`HTTP (\d{3})`)

// diagnose names the most telling cause among a model's failures, and what to do.
func diagnose(m plan.Model, msgs []string) (string, string) {
	first := provider.Truncate(msgs[0], 300)
	all := func(pred func(string) bool) bool {
		for _, s := range msgs {
			if !pred(s) {
				return false
			}
		}
		return true
	}
	if sm := httpStatus.FindStringSubmatch(msgs[0]); sm != nil {
		switch sm[1] {
		case "401", "403":
			env := "api_key_env"
			if m.APIKeyEnv != "" {
				env = "the variable " + m.APIKeyEnv + " (api_key_env)"
			}
			return first, fmt.Sprintf("the server refused the credentials: set %s for model %s to a valid key", env, m.Name)
		case "404":
			return first, fmt.Sprintf("check base_url and model for %s: `tunecheck probe` lists what the server serves", m.Name)
		}
		return first, fmt.Sprintf("the server for %s answered with errors; check its logs (`tunecheck probe` checks an endpoint)", m.Name)
	}
	if all(func(s string) bool {
		return strings.Contains(s, "timed out") || strings.Contains(s, "deadline exceeded") || strings.Contains(s, "Timeout")
	}) {
		return first, fmt.Sprintf("every attempt timed out after %s: raise `timeout` for model %s, or lower its concurrency", m.Timeout, m.Name)
	}
	if strings.Contains(msgs[0], "malformed response") {
		return first, fmt.Sprintf("the server for %s does not answer in the format of its API (provider %s): check base_url points at the API root (e.g. …/v1)", m.Name, m.Provider)
	}
	if looksUnreachable(msgs[0]) {
		return first, fmt.Sprintf("is the server for %s running and reachable at its base_url? `tunecheck probe` checks an endpoint", m.Name)
	}
	return first, fmt.Sprintf("`tunecheck probe` checks the endpoint of %s", m.Name)
}

// unsupported stops a run whose endpoint cannot serve a request type (an
// OpenAI-compatible server that ignores echo, so loglikelihoods of prompt
// tokens are missing): scoring the rest would make multiple-choice accuracy
// chance-level. The run stays unfinished; once the endpoint is fixed, running
// the plan again retries the failed items.
func unsupported(results []store.Result) error {
	prefix := provider.ErrUnsupported.Error()
	for _, r := range results {
		if strings.Contains(r.Error, prefix) {
			return exitcode.WithHint(exitcode.WithCode(fmt.Errorf("model %s cannot serve task %s: %s", r.Model, r.Task, r.Error), exitcode.BadInput),
				"use an endpoint that returns prompt logprobs with echo (vLLM; llama.cpp's llama-server does not echo prompt logprobs) for multiple_choice and perplexity tasks; `tunecheck probe` checks one")
		}
	}
	return nil
}

func looksUnreachable(msg string) bool {
	for _, s := range []string{"connection refused", "no such host", "dial tcp", "timeout", "deadline exceeded", "connection reset", "EOF"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

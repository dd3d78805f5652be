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
	// Getenv reads API keys by the variable names the plan gives.
	Getenv      func(string) string
	HTTPClient  *http.Client
	Progress    io.Writer
	Terminal    bool
	Logger      *slog.Logger
	ToolVersion string
	Now         func() time.Time
}

// Outcome is what a run produced.
type Outcome struct {
	RunID   string
	Resumed bool
	Report  *report.Report
	Exec    runner.Summary
	Files   []string
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
	p, err := plan.Load(o.PlanPath)
	if err != nil {
		return nil, exitcode.WithCode(err, exitcode.BadInput)
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
	warnParams(p, o.Logger)
	gates, err := parseGates(p)
	if err != nil {
		return nil, exitcode.WithCode(err, exitcode.BadInput)
	}
	tasks, err := buildTasks(p, o)
	if err != nil {
		return nil, exitcode.WithCode(err, exitcode.BadInput)
	}
	endpoints, models, err := buildEndpoints(p, tasks, o)
	if err != nil {
		return nil, exitcode.WithCode(err, exitcode.BadInput)
	}
	dsn := store.Locate(o.StoreDSN, p.Store, p.Dir)
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
	run, resumed, err := st.ResumableRun(ctx, p.Hash)
	if err != nil {
		return nil, err
	}
	if resumed && !sameDatasets(run.Datasets, fps) {
		o.Logger.Warn("an unfinished run of this plan read different data; starting a new run", "run", run.ID)
		resumed = false
	}
	if !resumed {
		modelsJSON, _ := json.Marshal(p.Models)
		run = store.Run{ID: store.NewRunID(o.Now()), Name: p.Name, PlanHash: p.Hash, Plan: planJSON, ToolVersion: o.ToolVersion,
			Seed: p.Seed, Datasets: fps, Models: modelsJSON, Status: store.StatusRunning, StartedAt: o.Now()}
		if err := st.CreateRun(ctx, run); err != nil {
			return nil, err
		}
	}

	var jobs []runner.Job
	for _, m := range p.Models {
		for _, bt := range tasks {
			for _, it := range bt.Items {
				for _, req := range it.Requests {
					if req.Type == provider.Generate {
						req.Params = mergeParams(req.Params, toParams(m.Params))
					}
					jobs = append(jobs, runner.Job{Model: m.Name, Task: bt.Name, Request: req})
				}
			}
		}
	}
	sum, err := runner.Run(ctx, endpoints, run.ID, jobs, runner.Options{Store: st, Progress: o.Progress, Terminal: o.Terminal, Logger: o.Logger})
	out := &Outcome{RunID: run.ID, Resumed: resumed, Exec: sum}
	if err != nil {
		if errors.Is(err, context.Canceled) || ctx.Err() != nil {
			return out, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("run %s interrupted; finished work is stored", run.ID), exitcode.Interrupted),
				"run the same plan again to resume where it stopped")
		}
		return out, err
	}
	results, err := st.Results(ctx, run.ID)
	if err != nil {
		return out, err
	}
	if err := unreachable(p, results, models); err != nil {
		return out, err
	}
	if err := unsupported(results); err != nil {
		return out, err
	}
	rep := Evaluate(evaluation{Tasks: tasks, Models: models, Results: results, Baseline: p.Compare.Baseline, Candidate: p.Compare.Candidate,
		Seed: p.Seed, Resamples: p.Bootstrap.Resamples, Conf: p.Bootstrap.Confidence})
	rep.ToolVersion = o.ToolVersion
	rep.Plan = report.PlanInfo{Name: p.Name, Hash: p.Hash}
	for _, g := range gates {
		rep.Gates = append(rep.Gates, gate.Check(g, rep.Lookup))
	}
	rep.Verdict = gate.Verdict(rep.Gates)
	out.Report = rep

	outDir := p.Output
	if o.OutputDir != "" {
		outDir = o.OutputDir
	} else {
		outDir = p.Resolve(outDir)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return out, fmt.Errorf("creating output directory: %w", err)
	}
	if rep.Sections, err = trainingSections(ctx, p, tasks, results, outDir); err != nil {
		return out, exitcode.WithCode(err, exitcode.BadInput)
	}

	var summary bytes.Buffer
	if err := report.JSON(&summary, rep); err != nil {
		return out, err
	}
	files, err := WriteReports(outDir, rep, o.Formats)
	out.Files = files
	if err != nil {
		return out, err
	}
	if err := st.FinishRun(ctx, run.ID, string(rep.Verdict), summary.Bytes()); err != nil {
		return out, err
	}
	return out, nil
}

// reportFiles names the file each format is written to.
var reportFiles = map[string]string{"md": "report.md", "json": "results.json", "html": "report.html", "junit": "junit.xml"}

// WriteReports renders rep into dir in each format (md and json by default).
func WriteReports(dir string, rep *report.Report, formats []string) ([]string, error) {
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

func parseGates(p *plan.Plan) ([]gate.Gate, error) {
	var gs []gate.Gate
	var errs []error
	for i, expr := range p.Gates {
		g, err := gate.Parse(expr)
		if err != nil {
			errs = append(errs, p.Errorf(fmt.Sprintf("gates[%d]", i), "gates read TASK.METRIC.FIELD OP NUMBER, e.g. qa.token_f1.delta.ci_low >= 0 (docs/plan.md)", "%v", err))
			continue
		}
		gs = append(gs, g)
	}
	return gs, errors.Join(errs...)
}

func buildTasks(p *plan.Plan, o Options) ([]*builtTask, error) {
	var out []*builtTask
	for ti, t := range p.Tasks {
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
		spec := task.Spec{Name: t.Name, Type: t.Type, Source: path, System: t.Prompt.System, Template: t.Prompt.Template,
			Chat: t.Prompt.Chat == nil || *t.Prompt.Chat, Reference: t.Reference, Choices: t.Choices, Answer: t.Answer,
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
		params := t.Params
		if params != nil {
			spec.Params = toParams(*params)
		}
		items, err := task.Build(spec, rows(ds))
		if err != nil {
			return nil, err
		}
		bt := &builtTask{Name: t.Name, Type: t.Type, Items: items,
			Dataset: report.Dataset{Path: t.Dataset.Path, Fingerprint: ds.Fingerprint, Rows: len(ds.Rows), Total: ds.Total, Selection: ds.Selection}}
		if bt.Type == "" {
			bt.Type = task.Generate
		}
		if bt.Type != task.Generate && len(t.Scorers) > 0 {
			return nil, p.Errorf(fmt.Sprintf("tasks[%d].scorers", ti), "remove the scorers, or make the task type generate",
				"scorers apply to generate tasks; a %s task is scored by its type (%v)", bt.Type, bt.metricNamesFor())
		}
		if bt.Type == task.Perplexity {
			bt.Scorers = []scorer.Scorer{scorer.PerplexityScorer}
		}
		for i, sc := range t.Scorers {
			s, err := scorer.New(sc.Name, scorer.Options(sc.Options))
			if err != nil {
				return nil, p.Errorf(fmt.Sprintf("tasks[%d].scorers[%d]", ti, i), "scorers and their options are listed in docs/plan.md", "%v", err)
			}
			bt.Scorers = append(bt.Scorers, s)
		}
		out = append(out, bt)
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
	var infos []modelInfo
	needsLL := false
	for _, bt := range tasks {
		if bt.Type != task.Generate {
			needsLL = true
		}
	}
	for mi, m := range p.Models {
		cfg, err := registry.FromPlan(m, o.Getenv, p.Dir)
		if err != nil {
			return nil, nil, p.Errorf(fmt.Sprintf("models[%d]", mi), "see docs/providers.md", "%v", err)
		}
		if needsLL && cfg.Kind == provider.KindAnthropic {
			return nil, nil, exitcode.WithHint(fmt.Errorf("model %s: the Anthropic API returns no log-probabilities, so it cannot run multiple_choice or perplexity tasks", m.Name),
				"run those tasks on an OpenAI-compatible server that supports echo with logprobs (vLLM; llama.cpp's llama-server does not echo prompt logprobs)")
		}
		prov, err := registry.New(cfg, o.HTTPClient)
		if err != nil {
			return nil, nil, fmt.Errorf("model %s: %w", m.Name, err)
		}
		retries := 5
		if m.MaxRetries != nil {
			retries = *m.MaxRetries
		}
		eps[m.Name] = runner.Endpoint{Name: m.Name, Provider: prov, CacheNamespace: provider.CacheNamespace(cfg), Concurrency: m.Concurrency,
			RequestsPerSecond: m.RateLimit.RequestsPerSecond, TokensPerMinute: m.RateLimit.TokensPerMinute, Timeout: cfg.Timeout, MaxRetries: retries}
		infos = append(infos, modelInfo{Name: m.Name, Provider: m.Provider, Model: m.Model, InputPrice: m.Prices.InputPerMTok, OutputPrice: m.Prices.OutputPerMTok})
	}
	return eps, infos, nil
}

// unreachable turns "every request to a model failed at the transport level"
// into exit code 3 with a hint, instead of a report of zeros.
func unreachable(p *plan.Plan, results []store.Result, models []modelInfo) error {
	for _, m := range p.Models {
		total, failed := 0, 0
		var first string
		for _, r := range results {
			if r.Model != m.Name {
				continue
			}
			total++
			if r.Error != "" {
				failed++
				if first == "" {
					first = r.Error
				}
			}
		}
		if total > 0 && failed == total && looksUnreachable(first) {
			return exitcode.WithHint(exitcode.WithCode(fmt.Errorf("model %s: every request failed: %s", m.Name, first), exitcode.Unreachable),
				fmt.Sprintf("is the server for %s running and reachable at its base_url? `tunecheck probe` checks an endpoint", m.Name))
		}
	}
	return nil
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

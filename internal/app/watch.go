package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/tunecheck/tunecheck/internal/ckptselect"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tunecheck/tunecheck/internal/checkpoint"
	"github.com/tunecheck/tunecheck/internal/checkpoint/serve"
	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/provider"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/store"
	"github.com/tunecheck/tunecheck/internal/task"
)

// The tags `watch` stores with each run it makes.
const (
	TagStep        = "checkpoint_step"
	TagCheckpoint  = "checkpoint"             // the folder, relative to the watched directory
	TagFingerprint = "checkpoint_fingerprint" // checkpoint.Checkpoint.Fingerprint
	TagWatchDir    = "watch_dir"              // the watched directory, absolute
	TagWatchPlan   = "watch_plan"             // the plan's own hash, before the checkpoint joined it
	TagServe       = "serve"                  // how the checkpoint was served
)

// ServeSpec says how to serve each checkpoint (the --serve flags).
type ServeSpec struct {
	// Mode is vllm-lora (default), cmd or names.
	Mode string
	// VLLMURL is vLLM's OpenAI base URL (default: the candidate's base_url).
	VLLMURL string
	// LoRAPathPrefix replaces the watched directory in the adapter path vLLM
	// is given (the server sees the folder mounted elsewhere).
	LoRAPathPrefix string
	// Cmd is the --serve-cmd template, Base its {base}.
	Cmd, Base string
	// ReadyTimeout bounds the wait for a started server (default 10m).
	ReadyTimeout time.Duration
	// Names maps steps to already served model names.
	Names map[int]string
}

// WatchOptions configure Watch.
type WatchOptions struct {
	// Run is the options of every run; Candidate, Tags and OutputDir are set
	// per checkpoint (OutputDir, when set, is the root of step-N folders).
	Run Options
	// Dir is the training output directory to watch.
	Dir   string
	Serve ServeSpec
	// Server, when set, replaces the one Serve describes (tests).
	Server serve.Server
	// Once evaluates the checkpoints complete now and returns.
	Once bool
	// Settle, Poll, ForcePoll and Notify configure the watcher (checkpoint.Options).
	Settle, Poll time.Duration
	ForcePoll    bool
	Notify       func() (checkpoint.Notifier, error)
	// FromStep skips checkpoints of earlier steps.
	FromStep int
	// Out receives one progress line per checkpoint.
	Out io.Writer
	// OnRun is called after each checkpoint's run is stored.
	OnRun func(WatchedRun)
	// Choice configures the checkpoint choice printed to Out and written to
	// the output directory (checkpoints.md/json/svg) after each evaluated
	// checkpoint, or once at the end with Once.
	Choice ChoiceOptions
}

// WatchedRun is one checkpoint's stored run.
type WatchedRun struct {
	Step int
	// Checkpoint is the folder relative to the watched directory.
	Checkpoint string
	Run        store.Run
	// Report is the run's report with its per-item records attached (from
	// the store, as `show` reads it; nil for a run that did not finish).
	Report *report.Report
}

// WatchOutcome is what a watch did.
type WatchOutcome struct {
	Evaluated []WatchedRun
	// Skipped are the steps already evaluated (or before FromStep).
	Skipped []int
	// Failed are the steps that could not be served or run, with why.
	Failed map[int]error
	// Mode is how the watcher learned of new checkpoints (fsnotify, poll).
	Mode string
	// Choice is the latest checkpoint choice over every stored run of this
	// watch, and ChoiceFiles where it was written (nil before any run).
	Choice      *ckptselect.Report
	ChoiceFiles []string
}

// Watch evaluates every complete checkpoint in o.Dir against the plan's
// baseline, in step order, then waits for new ones until ctx ends (or, with
// Once, returns). Each checkpoint is served (o.Serve), becomes the plan's
// candidate for one run tagged with its step and path, and is released. A
// checkpoint whose run is stored finished is not evaluated again; a run cut
// off by ctx resumes on the next watch, like any run. The baseline's
// requests are the same for every checkpoint and are answered from the
// response cache after the first.
func Watch(ctx context.Context, o WatchOptions) (*WatchOutcome, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Run.Logger == nil {
		o.Run.Logger = slog.New(slog.DiscardHandler)
	}
	p, err := plan.LoadWith(o.Run.PlanPath, task.PlanTypes())
	if err != nil {
		return nil, exitcode.WithCode(err, exitcode.BadInput)
	}
	cand := candidateModel(p)
	if cand == nil {
		return nil, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("plan %s has no candidate model to point at the checkpoints", o.Run.PlanPath), exitcode.BadInput),
			"name the model the checkpoints replace in compare.candidate (and the base model in compare.baseline)")
	}
	server := o.Server
	if server == nil {
		if server, err = buildServer(p, cand, o); err != nil {
			return nil, exitcode.WithCode(err, exitcode.BadInput)
		}
	}
	w, err := checkpoint.New(o.Dir, checkpoint.Options{Settle: o.Settle, Poll: o.Poll, ForcePoll: o.ForcePoll, Notify: o.Notify, Logger: o.Run.Logger})
	if err != nil {
		return nil, exitcode.WithHint(exitcode.WithCode(err, exitcode.BadInput), "pass the trainer's output_dir, the folder that holds checkpoint-N/")
	}
	st, err := store.Open(ctx, store.Locate(o.Run.StoreDSN, p.Store, p.Dir))
	if err != nil {
		return nil, exitcode.WithHint(fmt.Errorf("opening the store: %w", err), "check plan key store or --store")
	}
	defer st.Close()
	outRoot := o.Run.OutputDir
	if outRoot == "" {
		outRoot = p.Resolve(p.Output)
	}
	ws := &watchState{o: o, p: p, st: st, server: server, dir: w.Dir(), outRoot: outRoot, out: &WatchOutcome{Failed: map[int]error{}}}
	fmt.Fprintf(o.Out, "watching %s for checkpoints (serve: %s)\n", w.Dir(), server.Mode())

	if o.Once {
		ready, pending, err := w.Once(ctx)
		ws.out.Mode = "scan"
		if err != nil {
			return ws.out, ws.stopped(ctx, err)
		}
		for _, c := range ready {
			if err := ws.evaluate(ctx, c); err != nil {
				return ws.out, err
			}
		}
		for _, pc := range pending {
			fmt.Fprintf(o.Out, "step %d %s: not complete, left for later: %s\n", pc.Step, pc.Rel, pc.Reason)
		}
		if len(ws.out.Evaluated)+len(ws.out.Skipped) > len(ws.out.Failed) {
			if err := ws.choose(ctx); err != nil {
				if ferr := ws.failed(); ferr != nil {
					fmt.Fprintf(o.Out, "checkpoint choice: %v\n", err)
					return ws.out, ferr
				}
				return ws.out, err
			}
		}
		return ws.out, ws.failed()
	}

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	found := make(chan checkpoint.Checkpoint)
	werr := make(chan error, 1)
	go func() { werr <- w.Run(wctx, found) }()
	for {
		select {
		case c := <-found:
			ws.out.Mode = w.Mode
			if err := ws.evaluate(ctx, c); err != nil {
				cancel()
				<-werr
				return ws.out, err
			}
		case err := <-werr:
			ws.out.Mode = w.Mode
			return ws.out, ws.stopped(ctx, err)
		}
	}
}

type watchState struct {
	o       WatchOptions
	p       *plan.Plan
	st      *store.Store
	server  serve.Server
	dir     string
	outRoot string
	out     *WatchOutcome
}

// stopped turns the end of ctx into exit code 130 with what was done.
func (ws *watchState) stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return exitcode.WithHint(exitcode.WithCode(fmt.Errorf("watch stopped after %d checkpoint(s) evaluated; finished runs are stored", len(ws.out.Evaluated)), exitcode.Interrupted),
			"run the same watch again to go on: evaluated checkpoints are skipped and an unfinished run resumes")
	}
	return err
}

// failed reports the checkpoints that could not be evaluated (exit 3).
func (ws *watchState) failed() error {
	if len(ws.out.Failed) == 0 {
		return nil
	}
	steps := make([]int, 0, len(ws.out.Failed))
	for s := range ws.out.Failed {
		steps = append(steps, s)
	}
	sort.Ints(steps)
	var errs []error
	for _, s := range steps {
		errs = append(errs, fmt.Errorf("step %d: %w", s, ws.out.Failed[s]))
	}
	return exitcode.WithHint(exitcode.WithCode(errors.Join(errs...), exitcode.Unreachable), "fix the serving problem and run the watch again: only these checkpoints are evaluated then")
}

func (ws *watchState) tags(c checkpoint.Checkpoint) map[string]string {
	return map[string]string{TagWatchDir: ws.dir, TagWatchPlan: ws.p.Hash, TagStep: strconv.Itoa(c.Step), TagFingerprint: c.Fingerprint}
}

// evaluate serves one checkpoint, runs the plan against it and releases it.
// It returns an error only when the watch must stop: ctx ended, or the plan
// itself is bad (every checkpoint would fail alike).
func (ws *watchState) evaluate(ctx context.Context, c checkpoint.Checkpoint) error {
	o := ws.o
	if c.Step < o.FromStep {
		ws.out.Skipped = append(ws.out.Skipped, c.Step)
		fmt.Fprintf(o.Out, "step %d %s: before --from-step %d, skipped\n", c.Step, c.Rel, o.FromStep)
		return nil
	}
	key := ws.tags(c)
	prior, err := ws.st.RunsTagged(ctx, key)
	if err != nil {
		return err
	}
	for _, r := range prior {
		// A run finished with the verdict "error" had no answers from the
		// checkpoint (the server was down): it is evaluated again.
		if r.Status == store.StatusFinished && r.Verdict != string(gate.Error) {
			ws.out.Skipped = append(ws.out.Skipped, c.Step)
			fmt.Fprintf(o.Out, "step %d %s: already evaluated (run %s, verdict %s)\n", c.Step, c.Rel, r.ID, r.Verdict)
			return nil
		}
	}
	ep, release, err := ws.server.Serve(ctx, c)
	if err != nil {
		if ctx.Err() != nil {
			return ws.stopped(ctx, ctx.Err())
		}
		ws.out.Failed[c.Step] = err
		fmt.Fprintf(o.Out, "step %d %s: cannot serve it: %v\n", c.Step, c.Rel, err)
		return nil
	}
	ro := o.Run
	ro.Candidate = &CandidateOverride{BaseURL: ep.BaseURL, Model: ep.Model, Key: "watch\x00" + ws.dir + "\x00" + strconv.Itoa(c.Step) + "\x00" + c.Fingerprint}
	ro.Tags = map[string]string{TagCheckpoint: c.Rel, TagServe: ws.server.Mode()}
	for k, v := range o.Run.Tags {
		ro.Tags[k] = v
	}
	for k, v := range key {
		ro.Tags[k] = v
	}
	ro.OutputDir = filepath.Join(ws.outRoot, "step-"+strconv.Itoa(c.Step))
	started := time.Now()
	res, runErr := Run(ctx, ro)
	// Released also when ctx ended: an adapter left loaded or a server left
	// running outlives tunecheck.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	relErr := release(rctx)
	cancel()
	if relErr != nil {
		o.Run.Logger.Warn("releasing the served checkpoint failed", "step", c.Step, "err", relErr)
	}
	if runErr != nil {
		if ctx.Err() != nil || exitcode.Of(runErr) == exitcode.Interrupted {
			return ws.stopped(ctx, runErr)
		}
		if exitcode.Of(runErr) == exitcode.BadInput {
			return runErr
		}
		ws.out.Failed[c.Step] = runErr
		fmt.Fprintf(o.Out, "step %d %s: %v\n", c.Step, c.Rel, runErr)
		if res == nil || res.RunID == "" {
			return nil
		}
	}
	run, rep, err := LoadReport(ctx, ws.st, res.RunID)
	if err != nil {
		if runErr != nil {
			return nil // already reported
		}
		return err
	}
	wr := WatchedRun{Step: c.Step, Checkpoint: c.Rel, Run: run, Report: rep}
	ws.out.Evaluated = append(ws.out.Evaluated, wr)
	if runErr == nil {
		fmt.Fprintf(o.Out, "step %d %s: %s · run %s · %s\n", c.Step, c.Rel, headline(rep), res.RunID, time.Since(started).Round(time.Millisecond))
	}
	if o.OnRun != nil {
		o.OnRun(wr)
	}
	if !o.Once && runErr == nil {
		// Watching: the choice so far, after every checkpoint. A choice that
		// cannot be made yet (one checkpoint, a metric without direction) is
		// said and the watch goes on.
		if err := ws.choose(ctx); err != nil {
			fmt.Fprintf(o.Out, "checkpoint choice: %v\n", err)
		}
	}
	return nil
}

// choose analyses every stored run of this watch, prints the table to Out
// and writes checkpoints.md/json/svg into the output directory.
func (ws *watchState) choose(ctx context.Context) error {
	rep, err := CheckpointChoice(ctx, ws.st, ws.o.Run.PlanPath, ws.dir, ws.o.Choice)
	if err != nil {
		return err
	}
	ws.out.Choice = &rep
	if err := ckptselect.Text(ws.o.Out, rep); err != nil {
		return err
	}
	files, err := writeChoice(ws.outRoot, rep)
	ws.out.ChoiceFiles = files
	if err != nil {
		return err
	}
	fmt.Fprintf(ws.o.Out, "wrote %s\n", strings.Join(files, ", "))
	return nil
}

// headline is a progress line's numbers: the verdict and, per task, the
// primary metric of the candidate and the baseline.
func headline(rep *report.Report) string {
	parts := []string{"verdict " + string(rep.Verdict)}
	for _, t := range rep.Tasks {
		if t.Primary == "" || rep.Compare == nil {
			continue
		}
		var base, cand *float64
		for _, m := range t.PerModel {
			if s, ok := m.Metrics[t.Primary]; ok && s.N > 0 {
				v := s.Mean
				switch m.Model {
				case rep.Compare.Baseline:
					base = &v
				case rep.Compare.Candidate:
					cand = &v
				}
			}
		}
		if cand != nil && base != nil {
			parts = append(parts, fmt.Sprintf("%s.%s %.4g (baseline %.4g)", t.Name, t.Primary, *cand, *base))
		}
	}
	return strings.Join(parts, " · ")
}

func candidateModel(p *plan.Plan) *plan.Model {
	if p.Compare.Candidate == "" {
		return nil
	}
	for i := range p.Models {
		if p.Models[i].Name == p.Compare.Candidate {
			return &p.Models[i]
		}
	}
	return nil
}

// buildServer makes the Server the spec names, with what it needs from the
// plan's candidate (vLLM's URL and key).
func buildServer(p *plan.Plan, cand *plan.Model, o WatchOptions) (serve.Server, error) {
	sp := o.Serve
	switch sp.Mode {
	case "", "vllm-lora":
		if cand.Provider != string(provider.KindOpenAI) && sp.VLLMURL == "" {
			return nil, fmt.Errorf("--serve vllm-lora needs the candidate %s to be an openai-provider model on the vLLM server (it is %s), or --vllm-url", cand.Name, cand.Provider)
		}
		url := sp.VLLMURL
		if url == "" {
			url = cand.BaseURL
		}
		if url == "" {
			return nil, fmt.Errorf("--serve vllm-lora needs vLLM's URL: set base_url of the candidate %s (e.g. http://localhost:8000/v1) or --vllm-url", cand.Name)
		}
		key := ""
		if cand.APIKeyEnv != "" && o.Run.Getenv != nil {
			key = o.Run.Getenv(cand.APIKeyEnv)
		}
		return serve.VLLMLoRA{BaseURL: url, APIKey: key, PathPrefix: sp.LoRAPathPrefix, Client: o.Run.HTTPClient}, nil
	case "cmd":
		if err := serve.CheckTemplate(sp.Cmd, sp.Base); err != nil {
			return nil, err
		}
		logs := o.Run.OutputDir
		if logs == "" {
			logs = p.Resolve(p.Output)
		}
		return serve.Command{Template: sp.Cmd, Base: sp.Base, LogDir: logs, Ready: sp.ReadyTimeout, Env: os.Environ()}, nil
	case "names":
		if len(sp.Names) == 0 {
			return nil, errors.New("--serve names needs --models STEP=NAME,… or --models-file")
		}
		return serve.Names{ByStep: sp.Names}, nil
	}
	return nil, fmt.Errorf("--serve %q: use vllm-lora, cmd or names", sp.Mode)
}

// overrideCandidate points the plan's candidate at a served checkpoint and
// gives the plan a hash of its own for it.
func overrideCandidate(p *plan.Plan, c CandidateOverride) error {
	m := candidateModel(p)
	if m == nil {
		return fmt.Errorf("plan has no candidate model (compare.candidate) to point at the checkpoint")
	}
	if c.BaseURL != "" {
		m.BaseURL = c.BaseURL
	}
	if c.Model != "" {
		m.Model = c.Model
	}
	if c.Key != "" {
		sum := sha256.Sum256([]byte(p.Hash + "\x00" + c.Key))
		p.Hash = hex.EncodeToString(sum[:])
	}
	return nil
}

// WatchRuns lists the runs one watch stored — of the plan at planPath, over
// the directory dir — one per checkpoint step, ordered by step, each with its
// report and per-item records. Where a step was evaluated more than once
// (another training run wrote the same step, with another fingerprint; a
// retry after the server was down), the newest finished run with answers
// stands for it. Unfinished runs are left out.
func WatchRuns(ctx context.Context, st *store.Store, planPath, dir string) ([]WatchedRun, error) {
	p, err := plan.LoadWith(planPath, task.PlanTypes())
	if err != nil {
		return nil, exitcode.WithCode(err, exitcode.BadInput)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	runs, err := st.RunsTagged(ctx, map[string]string{TagWatchDir: abs, TagWatchPlan: p.Hash})
	if err != nil {
		return nil, err
	}
	byStep := map[int]WatchedRun{}
	for _, r := range runs { // newest first
		if r.Status != store.StatusFinished {
			continue
		}
		step, err := strconv.Atoi(r.Tags[TagStep])
		if err != nil {
			return nil, fmt.Errorf("run %s: tag %s=%q is not a step", r.ID, TagStep, r.Tags[TagStep])
		}
		// A run with answers stands for its step before one without (the
		// verdict "error": the server was down), whatever their ages.
		if prev, seen := byStep[step]; seen && (prev.Run.Verdict != string(gate.Error) || r.Verdict == string(gate.Error)) {
			continue
		}
		_, rep, err := LoadReport(ctx, st, r.ID)
		if err != nil {
			return nil, err
		}
		byStep[step] = WatchedRun{Step: step, Checkpoint: r.Tags[TagCheckpoint], Run: r, Report: rep}
	}
	out := make([]WatchedRun, 0, len(byStep))
	for _, wr := range byStep {
		out = append(out, wr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Step < out[j].Step })
	return out, nil
}

package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/app"
	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/report"
)

type runOptions struct {
	store, output, formats string
	benchTasks, dataDir    string
	limit, sample          int
	seed                   int64
	failOnInconclusive     bool
	quiet                  bool
	dryRun                 bool
	maskPII                bool
	applyChatTemplate      bool
	contaminated           string
	logSamples             bool
	after                  app.AfterRunOptions // --fail-on-drift, --notify: runafter.go
	// --shard, --run-group, --finish-last (merge.go).
	shard shardFlags
	tags  []string

	// --confirm-run-unsafe-code, --allow-unsandboxed: code tasks (docs/sandbox.md).
	confirmUnsafe, allowUnsandboxed bool
}

func newRunCmd(env Env) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run [PLAN]",
		Short: "Run a plan: evaluate the models, store the run, write reports, exit by the verdict",
		Long: `Run evaluates every model of the plan on every task, stores the results as they
arrive, scores them, compares the candidate with the baseline item by item, checks the
gates and writes report.md and results.json to the output directory.

A run that is interrupted resumes when the same plan runs again; a plan that already ran
is answered from the response cache without a single model request.

Exit codes: 0 pass, 1 a gate failed, 2 bad plan or input, 3 a provider was unreachable,
4 a gate was inconclusive (only with --fail-on-inconclusive), 5 a metric drifted from
the plan's history (only with --fail-on-drift), 130 interrupted.`,
		Example: `  tunecheck run tunecheck.yaml
  tunecheck run tunecheck.yaml -o reports/ -f md,html,junit --fail-on-inconclusive
  tunecheck run tunecheck.yaml --limit 20 --dry-run
  tunecheck run tunecheck.yaml --tasks mmlu,arc_easy --limit 5 --dry-run`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			planPath := "tunecheck.yaml"
			if len(args) == 1 {
				planPath = args[0]
			}
			return runRun(cmd, env, planPath, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.store, "store", "", "store: a SQLite path, sqlite:PATH or postgres://… (default: the plan's, else .tunecheck/tunecheck.db)")
	f.StringVarP(&o.output, "output", "o", "", "directory the report files are written to (default: the plan's output)")
	f.StringVarP(&o.formats, "format", "f", "md,json", "report files to write, comma-separated: md, json, html, junit")
	f.StringVar(&o.benchTasks, "tasks", "", "add built-in benchmarks (lm-eval names, comma-separated; `tunecheck tasks` lists them) to the plan's tasks, run against its models")
	f.StringVar(&o.dataDir, "data-dir", "", "where --tasks reads benchmark data: original files (DIR/mmlu/data/test/…) or the Hugging Face layout (DIR/<dataset_path>/<name>/<split>.parquet); default: the embedded samples")
	f.IntVar(&o.limit, "limit", 0, "evaluate only the first N items of every task")
	f.IntVar(&o.sample, "sample", 0, "evaluate a random sample of N items of every task (with --seed)")
	f.Int64Var(&o.seed, "seed", -1, "seed for --sample (default: the plan's seed)")
	f.BoolVar(&o.failOnInconclusive, "fail-on-inconclusive", false, "exit 4 when a gate is inconclusive")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print only the verdict line")
	f.BoolVar(&o.applyChatTemplate, "apply-chat-template", false, "ask multiple_choice tasks by the generative protocol as chat messages (few-shot examples as turns), so servers apply their chat templates; recorded with the results")
	f.BoolVar(&o.confirmUnsafe, "confirm-run-unsafe-code", false, "agree to run the model-generated code of code tasks (HumanEval) in the sandbox; see docs/sandbox.md")
	f.BoolVar(&o.allowUnsandboxed, "allow-unsandboxed", false, "run generated code even where no network namespace can be made (limits still apply); see docs/sandbox.md")
	f.StringVar(&o.contaminated, "contaminated", "", "leakage report (tunecheck leakage --bench … -f json): the Forgetting section adds each benchmark's scores on the items it did not flag")
	f.BoolVar(&o.logSamples, "log-samples", false, "also write lm-eval's per-sample JSONL and results JSON for each model (docs/results.md)")
	f.BoolVar(&o.maskPII, "mask-pii", false, "mask personal data and secrets (e-mail, phone, cards, IBAN, SSN, IP, keys) in the printed summary and the report files; the store keeps the raw text")
	addAfterRunFlags(cmd, &o.after)
	f.StringArrayVar(&o.tags, "tag", nil, "store KEY=VALUE with the run (repeatable); `runs --tag` filters by it")
	f.BoolVar(&o.dryRun, "dry-run", false, "check the plan and print the requests, estimated tokens and cost per model and judge; send and store nothing")
	o.shard.add(cmd)
	return cmd
}

func runRun(cmd *cobra.Command, env Env, planPath string, o runOptions) error {
	opts := app.Options{PlanPath: planPath, StoreDSN: o.store, OutputDir: o.output, Limit: o.limit, Sample: o.sample,
		Getenv: env.Getenv, Progress: env.Stderr, Terminal: env.IsTerminal && !env.CI, ToolVersion: toolVersion(),
		Logger: slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if !opts.Terminal {
		opts.Logger = slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if o.seed >= 0 {
		s := uint64(o.seed)
		opts.SampleSeed = &s
	}
	formats, err := outputFormatList(env, o.formats, "md", "json", "html", "junit")
	if err != nil {
		return err
	}
	opts.Formats = formats
	tags, err := parseTags(o.tags)
	if err != nil {
		return err
	}
	opts.Tags = tags
	opts.DryRun = o.dryRun
	opts.MaskPII = o.maskPII
	opts.ApplyChatTemplate = o.applyChatTemplate
	opts.ConfirmRunUnsafeCode, opts.AllowUnsandboxed = o.confirmUnsafe, o.allowUnsandboxed
	opts.Contaminated, opts.LogSamples = o.contaminated, o.logSamples
	if o.benchTasks != "" {
		opts.Benchmarks = strings.Split(o.benchTasks, ",")
		opts.BenchDataDir = o.dataDir
	} else if o.dataDir != "" {
		return exitcode.WithCode(fmt.Errorf("--data-dir is read by --tasks; name the built-in benchmarks to run with --tasks"), exitcode.BadInput)
	}
	if opts.Shard, err = o.shard.options(env); err != nil {
		return err
	}
	out, err := app.Run(cmd.Context(), opts)
	if err == nil && out.Shard != nil && !out.Shard.Merged {
		return printShard(env, out)
	}
	if err == nil && out.Estimate != nil {
		return out.Estimate.Write(env.Stdout)
	}
	if err != nil {
		// A run whose endpoint answered nothing still wrote its report: show
		// it, then the cause (exit 3), so CI reads "broken endpoint", not "regressed".
		if out != nil && out.Report != nil && !o.quiet {
			if rerr := report.Terminal(env.Stdout, out.Report); rerr != nil {
				return rerr
			}
			if len(out.Files) > 0 {
				fmt.Fprintf(env.Stdout, "wrote %s\n", strings.Join(out.Files, ", "))
			}
		}
		return afterRun(cmd.Context(), env, planPath, o, out, err)
	}
	rep := out.Report
	if o.maskPII {
		rep = report.MaskPII(rep)
	}
	if !o.quiet {
		if err := report.Terminal(env.Stdout, rep); err != nil {
			return err
		}
		how := "new run"
		if out.Resumed {
			how = "resumed run"
		}
		if out.Shard != nil {
			how = fmt.Sprintf("shard %d/%d finished last and merged run", out.Shard.Index, out.Shard.Count)
		}
		fmt.Fprintf(env.Stdout, "%s %s · %s\n", how, out.RunID, execSummary(out))
		if len(out.Files) > 0 {
			fmt.Fprintf(env.Stdout, "wrote %s\n", strings.Join(out.Files, ", "))
		}
	} else {
		fmt.Fprintf(env.Stdout, "verdict: %s (run %s)\n", env.paint(toStdout, verdictColor(rep.Verdict), strings.ToUpper(string(rep.Verdict))), out.RunID)
	}
	return afterRun(cmd.Context(), env, planPath, o, out, verdictErr(rep.Verdict, o.failOnInconclusive))
}

// execSummary counts the run's work. The file provider sends nothing — it
// reads answers from a file — so its models are counted apart from the
// models that were sent requests, and a run of only file models never claims
// a request was sent.
func execSummary(out *app.Outcome) string {
	var sent, read, cached, resumed, failed int
	var anySent, anyRead bool
	for _, m := range out.Exec.Models {
		if out.Providers[m.Model] == "file" {
			read, anyRead = read+m.Sent, true
		} else {
			sent, anySent = sent+m.Sent, true
		}
		cached, resumed, failed = cached+m.Cached, resumed+m.Resumed, failed+m.Failed
	}
	var parts []string
	if anySent || !anyRead {
		parts = append(parts, fmt.Sprintf("%d requests sent", sent))
	}
	if anyRead {
		parts = append(parts, fmt.Sprintf("%d answers read from files", read))
	}
	parts = append(parts, fmt.Sprintf("%d from cache, %d already done, %d failed", cached, resumed, failed))
	return strings.Join(parts, ", ")
}

// verdictColor is the colour of a verdict word.
func verdictColor(v gate.Status) string {
	switch v {
	case gate.Pass:
		return green
	case gate.Fail, gate.Error:
		return red
	}
	return yellow
}

// verdictErr maps a verdict to the command's exit: 1 when a gate failed, 4
// when one was inconclusive and that was asked to fail.
func verdictErr(v gate.Status, failOnInconclusive bool) error {
	switch v {
	case gate.Fail:
		return &silentErr{exitcode.WithCode(errors.New("a gate failed"), exitcode.GateFailed)}
	case gate.Error:
		return &silentErr{exitcode.WithCode(errors.New("a gate could not be decided: every item failed"), exitcode.Unreachable)}
	case gate.Inconclusive:
		if failOnInconclusive {
			return &silentErr{exitcode.WithCode(errors.New("a gate was inconclusive"), exitcode.Inconclusive)}
		}
	}
	return nil
}

package cli

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/app"
	"github.com/tunecheck/tunecheck/internal/checkpoint/serve"
	"github.com/tunecheck/tunecheck/internal/exitcode"
)

type watchOptions struct {
	plan, store, output, formats    string
	serveMode, vllmURL, loraPrefix  string
	serveCmd, base, models, modelsF string
	readyTimeout, settle, poll      time.Duration
	pollOnly, once                  bool
	fromStep, limit                 int
	tags                            []string
	metric                          string
	patience                        int
	minDelta                        float64
}

func newWatchCmd(env Env) *cobra.Command {
	var o watchOptions
	cmd := &cobra.Command{
		Use:   "watch DIR",
		Short: "Evaluate each new training checkpoint in DIR against the plan's baseline, as it is written",
		Long: `Watch a training output directory (the Trainer's output_dir, with checkpoint-N/ folders
from Hugging Face, LLaMA-Factory or Axolotl) and evaluate every complete checkpoint as the
plan's candidate against its baseline: first those already there, in step order, then each
new one once its files have settled. Every run is stored tagged with the checkpoint's step
and path; a checkpoint already evaluated is skipped, and a run cut off by Ctrl-C resumes
on the next watch.

Serving a checkpoint (--serve):
  vllm-lora  load it into a running vLLM with runtime LoRA loading
             (VLLM_ALLOW_RUNTIME_LORA_UPDATING=True vllm serve BASE --enable-lora);
             vLLM's URL is the candidate's base_url, or --vllm-url
  cmd        start --serve-cmd per checkpoint, e.g.
             'llama-server -m {base} --lora {checkpoint} --port {port}', wait for /health,
             evaluate, stop it
  names      the checkpoints are served already, under the names --models gives

Exit codes: 0 done (--once), 2 bad plan or flags, 3 a checkpoint could not be served or
evaluated, 130 stopped (Ctrl-C) — finished runs are kept.`,
		Example: `  tunecheck watch outputs/run1 --plan tunecheck.yaml --serve vllm-lora --metric qa.exact_match
  tunecheck watch outputs/run1 --plan tunecheck.yaml --serve cmd --base models/base.gguf --serve-cmd 'llama-server -m {base} --lora {checkpoint}/adapter.gguf --port {port}'
  tunecheck watch outputs/run1 --plan tunecheck.yaml --serve names --models 100=ft-step100,200=ft-step200 --once`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWatch(cmd, env, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.plan, "plan", "tunecheck.yaml", "the plan whose candidate each checkpoint replaces")
	f.StringVar(&o.serveMode, "serve", "vllm-lora", "how to serve a checkpoint: vllm-lora, cmd or names")
	f.StringVar(&o.vllmURL, "vllm-url", "", "vLLM's OpenAI base URL for --serve vllm-lora (default: the candidate's base_url)")
	f.StringVar(&o.loraPrefix, "lora-path-prefix", "", "where vLLM sees DIR, when it runs elsewhere (a container): adapter paths become PREFIX/checkpoint-N")
	f.StringVar(&o.serveCmd, "serve-cmd", "", "command template for --serve cmd, with {base} {checkpoint} {port} {step}")
	f.StringVar(&o.base, "base", "", "the base model path {base} stands for in --serve-cmd")
	f.DurationVar(&o.readyTimeout, "ready-timeout", 10*time.Minute, "how long a --serve-cmd server may take to answer /health")
	f.StringVar(&o.models, "models", "", "for --serve names: STEP=MODEL pairs, comma-separated (100=ft-step100,200=ft-step200)")
	f.StringVar(&o.modelsF, "models-file", "", "for --serve names: a file of STEP=MODEL lines")
	f.DurationVar(&o.settle, "settle", 10*time.Second, "how long a checkpoint's files must stay unchanged before it is read")
	f.DurationVar(&o.poll, "poll", 30*time.Second, "directory scan interval (beside file notifications, or alone where they are unavailable)")
	f.BoolVar(&o.pollOnly, "poll-only", false, "scan every --poll without file notifications (network filesystems)")
	f.BoolVar(&o.once, "once", false, "evaluate the complete checkpoints there now, then exit (CI)")
	f.IntVar(&o.fromStep, "from-step", 0, "skip checkpoints before this step")
	f.StringVar(&o.store, "store", "", "store: a SQLite path, sqlite:PATH or postgres://… (default: the plan's)")
	f.StringVarP(&o.output, "output", "o", "", "output directory; each checkpoint's reports go to step-N/ in it (default: the plan's output)")
	f.StringVarP(&o.formats, "format", "f", "md,json", "report files to write per checkpoint, comma-separated: md, json, html, junit")
	f.StringVar(&o.metric, "metric", "", "TASK.METRIC that chooses the checkpoint (default: the first task's first metric)")
	f.IntVar(&o.patience, "patience", 3, "early-stopping replay on the metric: evaluations without a gain before training would have stopped")
	f.Float64Var(&o.minDelta, "min-delta", 0, "early-stopping replay: a gain of at most this does not count")
	f.IntVar(&o.limit, "limit", 0, "evaluate only the first N items of every task")
	f.StringArrayVar(&o.tags, "tag", nil, "tag every run KEY=VALUE (repeatable)")
	return cmd
}

func runWatch(cmd *cobra.Command, env Env, dir string, o watchOptions) error {
	tags, err := parseTags(o.tags)
	if err != nil {
		return err
	}
	spec := app.ServeSpec{Mode: o.serveMode, VLLMURL: o.vllmURL, LoRAPathPrefix: o.loraPrefix, Cmd: o.serveCmd, Base: o.base, ReadyTimeout: o.readyTimeout}
	switch {
	case o.models != "" && o.modelsF != "":
		return exitcode.WithCode(fmt.Errorf("--models and --models-file both given: use one"), exitcode.BadInput)
	case o.models != "":
		if spec.Names, err = serve.ParseNames(o.models, "--models", false); err != nil {
			return exitcode.WithCode(err, exitcode.BadInput)
		}
	case o.modelsF != "":
		b, err := os.ReadFile(o.modelsF)
		if err != nil {
			return exitcode.WithCode(fmt.Errorf("--models-file: %w", err), exitcode.BadInput)
		}
		if spec.Names, err = serve.ParseNames(string(b), o.modelsF, true); err != nil {
			return exitcode.WithCode(err, exitcode.BadInput)
		}
	}
	if (spec.Names != nil) != (o.serveMode == "names") {
		return exitcode.WithCode(fmt.Errorf("--models and --models-file go with --serve names, and --serve names needs one of them"), exitcode.BadInput)
	}
	if (o.serveCmd != "") != (o.serveMode == "cmd") {
		return exitcode.WithCode(fmt.Errorf("--serve-cmd goes with --serve cmd, and --serve cmd needs it"), exitcode.BadInput)
	}
	level := slog.LevelInfo
	if env.IsTerminal && !env.CI {
		level = slog.LevelWarn
	}
	run := app.Options{PlanPath: o.plan, StoreDSN: o.store, OutputDir: o.output, Limit: o.limit, Getenv: env.Getenv,
		ToolVersion: toolVersion(), Tags: tags, Logger: slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level}))}
	if run.Formats, err = outputFormatList(env, o.formats, "md", "json", "html", "junit"); err != nil {
		return err
	}
	if o.patience < 1 {
		return exitcode.WithCode(fmt.Errorf("--patience %d: give at least 1 evaluation", o.patience), exitcode.BadInput)
	}
	out, err := app.Watch(cmd.Context(), app.WatchOptions{Run: run, Dir: dir, Serve: spec, Once: o.once,
		Settle: o.settle, Poll: o.poll, ForcePoll: o.pollOnly, FromStep: o.fromStep, Out: env.Stdout,
		Choice: app.ChoiceOptions{Metric: o.metric, Patience: o.patience, MinDelta: o.minDelta}})
	if out != nil && len(out.Evaluated)+len(out.Skipped) > 0 {
		fmt.Fprintf(env.Stdout, "%d checkpoint(s) evaluated, %d skipped, %d failed\n", len(out.Evaluated), len(out.Skipped), len(out.Failed))
	}
	return err
}

// parseTags reads --tag KEY=VALUE flags.
func parseTags(flags []string) (map[string]string, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, t := range flags {
		k, v, ok := strings.Cut(t, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("--tag %q is not KEY=VALUE", t), exitcode.BadInput), "e.g. --tag branch=main --tag gpu=h100")
		}
		if _, dup := out[k]; dup {
			return nil, exitcode.WithCode(fmt.Errorf("--tag %s given twice", k), exitcode.BadInput)
		}
		out[k] = v
	}
	return out, nil
}

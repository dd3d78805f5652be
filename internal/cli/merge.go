package cli

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/app"
	"github.com/tunecheck/tunecheck/internal/report"
)

// shardFlags are run's flags for one shard of a sharded run.
type shardFlags struct {
	shard, group string
	finishLast   bool
}

func (s *shardFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&s.shard, "shard", "", "run one shard INDEX/COUNT of the plan, INDEX from 0 (e.g. 2/4) against a PostgreSQL store all shards share; see docs/scale-out.md")
	f.StringVar(&s.group, "run-group", "", "with --shard: a name every shard of this launch is given alike (the Kubernetes Job's name, $SLURM_ARRAY_JOB_ID) so they join one run (default $TUNECHECK_RUN_GROUP)")
	f.BoolVar(&s.finishLast, "finish-last", true, "with --shard: the last shard to finish merges the run (false: leave it to `tunecheck merge`)")
}

// options turns the flags into app.Shard (Count 0 when --shard is not given).
func (s *shardFlags) options(env Env) (app.Shard, error) {
	group := s.group
	if group == "" && env.Getenv != nil {
		group = env.Getenv("TUNECHECK_RUN_GROUP")
	}
	if s.shard == "" {
		return app.Shard{}, nil
	}
	sh, err := app.ParseShard(s.shard)
	if err != nil {
		return app.Shard{}, err
	}
	sh.Group, sh.FinishLast = group, s.finishLast
	return sh, nil
}

// printShard says what a shard that did not merge its run did, and what is
// left. It exits 0: the verdict belongs to whoever merges.
func printShard(env Env, out *app.Outcome) error {
	sh := out.Shard
	fmt.Fprintf(env.Stdout, "shard %d/%d of run %s done · %s\n", sh.Index, sh.Count, out.RunID, execSummary(out))
	switch {
	case sh.Finished:
		fmt.Fprintf(env.Stdout, "the run was merged by another shard; `tunecheck report %s` shows it\n", out.RunID)
	case len(sh.Missing) == 0:
		fmt.Fprintf(env.Stdout, "every shard is done: merge with `tunecheck merge %s`\n", mergeRef(sh.Group, out.RunID))
	default:
		ids := make([]string, len(sh.Missing))
		for i, m := range sh.Missing {
			ids[i] = fmt.Sprint(m)
		}
		fmt.Fprintf(env.Stdout, "waiting for shard %s; then the last shard merges, or `tunecheck merge %s`\n", strings.Join(ids, ", "), mergeRef(sh.Group, out.RunID))
	}
	return nil
}

func mergeRef(group, runID string) string {
	if group != "" {
		return group
	}
	return runID
}

type mergeOptions struct {
	plan, store, output, formats, group string
	failOnInconclusive, quiet, maskPII  bool
}

func newMergeCmd(env Env) *cobra.Command {
	var o mergeOptions
	cmd := &cobra.Command{
		Use:   "merge [RUN-OR-GROUP]",
		Short: "Finish a sharded run: score every shard's results as one run, check the gates, write the reports",
		Long: `merge finishes a run whose shards (tunecheck run --shard i/n) are all done. It reads the
plan and every stored result from the shared store and computes aggregates, intervals,
paired tests, gates and reports exactly as an unsharded run of the plan does; it sends
nothing to any model. RUN-OR-GROUP is the --run-group the shards were given (default
$TUNECHECK_RUN_GROUP) or the run id they printed.

A shard that is not done (never started, still running, or killed) is listed and nothing
is merged; run it again with the same flags and it resumes its own items.

Exit codes as for run: 0 pass, 1 a gate failed, 2 bad plan, input or missing shards,
3 a provider was unreachable, 4 inconclusive (with --fail-on-inconclusive).`,
		Example: `  tunecheck merge nightly-42 --plan tunecheck.yaml --store "$TUNECHECK_STORE"
  tunecheck merge --plan tunecheck.yaml -o reports/ -f md,html,junit`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref := o.group
			if len(args) == 1 {
				ref = args[0]
			} else if ref == "" && env.Getenv != nil {
				ref = env.Getenv("TUNECHECK_RUN_GROUP")
			}
			return runMerge(cmd, env, ref, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.plan, "plan", "tunecheck.yaml", "the plan the shards ran")
	f.StringVar(&o.store, "store", "", "the store the shards wrote to (default: the plan's)")
	f.StringVarP(&o.output, "output", "o", "", "output directory for reports (default: the plan's output)")
	f.StringVarP(&o.formats, "format", "f", "md,json", "report files to write, comma-separated: md, json, html, junit")
	f.BoolVar(&o.failOnInconclusive, "fail-on-inconclusive", false, "exit 4 when a gate is inconclusive")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print only the verdict line")
	f.BoolVar(&o.maskPII, "mask-pii", false, "mask personal data and secrets in the printed summary and the report files")
	return cmd
}

func runMerge(cmd *cobra.Command, env Env, ref string, o mergeOptions) error {
	opts := app.Options{PlanPath: o.plan, StoreDSN: o.store, OutputDir: o.output, Getenv: env.Getenv, ToolVersion: toolVersion(),
		MaskPII: o.maskPII, Logger: slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	formats, err := outputFormatList(env, o.formats, "md", "json", "html", "junit")
	if err != nil {
		return err
	}
	opts.Formats = formats
	out, err := app.Merge(cmd.Context(), opts, ref)
	if out == nil || out.Report == nil {
		return err
	}
	rep := out.Report
	if o.maskPII {
		rep = report.MaskPII(rep)
	}
	if o.quiet {
		fmt.Fprintf(env.Stdout, "verdict: %s (run %s)\n", strings.ToUpper(string(rep.Verdict)), out.RunID)
	} else {
		if rerr := report.Terminal(env.Stdout, rep); rerr != nil {
			return rerr
		}
		fmt.Fprintf(env.Stdout, "merged %d shards into run %s\n", out.Shard.Count, out.RunID)
		if len(out.Files) > 0 {
			fmt.Fprintf(env.Stdout, "wrote %s\n", strings.Join(out.Files, ", "))
		}
	}
	if err != nil {
		return err
	}
	return verdictErr(rep.Verdict, o.failOnInconclusive)
}

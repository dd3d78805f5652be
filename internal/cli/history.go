package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/app"
	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/store"
)

// loadRun reads the finished run named by args[0] (the newest when args is
// empty) from the located store.
func loadRun(cmd *cobra.Command, loc storeFlags, args []string) (store.Run, *report.Report, error) {
	st, err := loc.open(cmd.Context())
	if err != nil {
		return store.Run{}, nil, err
	}
	defer st.Close()
	return app.LoadReport(cmd.Context(), st, runArg(args))
}

// runArg is the RUN argument: a run id or prefix, or "" for the newest.
func runArg(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return ""
}

func newReportCmd(env Env) *cobra.Command {
	var loc storeFlags
	var format, output string
	var maskPII bool
	var contaminated string
	cmd := &cobra.Command{
		Use:   "report [RUN]",
		Short: "Render a stored run as text, md, html, json or junit (no model needed)",
		Example: `  tunecheck report latest
  tunecheck report latest -f html -o report.html
  tunecheck report 20261206-1 -f junit -o junit.xml --mask-pii`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			render, err := reportRenderer(env, format)
			if err != nil {
				return err
			}
			run, rep, err := loadRun(cmd, loc, args)
			if err != nil {
				return err
			}
			if contaminated != "" {
				if err := app.CleanForgetting(run, rep, contaminated); err != nil {
					return err
				}
			}
			if maskPII {
				rep = report.MaskPII(rep)
			}
			return writeOutput(env, output, func(w io.Writer) error { return render(w, rep) })
		},
	}
	loc.add(cmd)
	addFormatFlag(cmd.Flags(), &format, "text", reportFormats...)
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of stdout")
	cmd.Flags().BoolVar(&maskPII, "mask-pii", false, "mask personal data and secrets in the rendered report (the store keeps the raw text)")
	cmd.Flags().StringVar(&contaminated, "contaminated", "", "leakage report (tunecheck leakage --bench … -f json): add each benchmark's scores on the items it did not flag to Forgetting")
	return cmd
}

func newRunsCmd(env Env) *cobra.Command {
	var dsn, planArg, format string
	var limit int
	var tagFlags []string
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List stored runs, newest first",
		Example: `  tunecheck runs
  tunecheck runs --plan tunecheck.yaml --limit 5 -f json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(env, format, "text", "json")
			if err != nil {
				return err
			}
			// --plan is older than the store rule and filters by plan name; a
			// plan file both filters by its name and locates the store.
			planPath, name := "", planArg
			if isPlanFile(planArg) {
				planPath = planArg
			}
			where, p, err := app.LocateStore(dsn, planPath)
			if err != nil {
				return err
			}
			if planPath != "" {
				name = p.Name
			}
			st, err := openExistingStore(cmd.Context(), where)
			if err != nil {
				return err
			}
			defer st.Close()
			tags, err := parseTags(tagFlags)
			if err != nil {
				return err
			}
			listLimit := limit
			if tags != nil {
				listLimit = 0 // filtered here, then cut to --limit
			}
			runs, err := st.ListRuns(cmd.Context(), name, listLimit)
			if err != nil {
				return err
			}
			if tags != nil {
				kept := runs[:0]
				for _, r := range runs {
					if store.HasTags(r, tags) && (limit <= 0 || len(kept) < limit) {
						kept = append(kept, r)
					}
				}
				runs = kept
			}
			// A plan name that matches nothing is most often a typo: say so, with
			// the names there are, rather than print an empty table and exit 0.
			// A plan file that has not run yet is no mistake, so it is not refused.
			if len(runs) == 0 && name != "" && planPath == "" {
				return unknownPlanErr(cmd, st, name)
			}
			if format == "json" {
				return writeJSON(env.Stdout, runsJSON(runs))
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "run\tplan\tstatus\tverdict\tstarted\tplan hash")
			for _, r := range runs {
				hash := r.PlanHash
				if len(hash) > 12 {
					hash = hash[:12]
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Name, r.Status, dash(r.Verdict), r.StartedAt.UTC().Format("2006-01-02 15:04:05"), hash)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&dsn, "store", "", storeFlagHelp)
	cmd.Flags().StringVar(&planArg, "plan", "", "only runs of this plan: its name, or its file (whose store key then also says where the store is)")
	cmd.Flags().IntVar(&limit, "limit", 20, "how many runs")
	addFormatFlag(cmd.Flags(), &format, "text", "text", "json")
	cmd.Flags().StringArrayVar(&tagFlags, "tag", nil, "only runs tagged KEY=VALUE (repeatable: all must match), e.g. --tag checkpoint_step=200")
	return cmd
}

// runJSON is one run in the JSON of `runs` and `show`.
type runJSON struct {
	ID          string `json:"id"`
	Plan        string `json:"plan"`
	PlanHash    string `json:"plan_hash"`
	Status      string `json:"status"`
	Verdict     string `json:"verdict,omitempty"`
	ToolVersion string `json:"tool_version,omitempty"`
	StartedAt   string `json:"started_at"`
	FinishedAt  string `json:"finished_at,omitempty"`
}

func toRunJSON(r store.Run) runJSON {
	j := runJSON{ID: r.ID, Plan: r.Name, PlanHash: r.PlanHash, Status: r.Status, Verdict: r.Verdict, ToolVersion: r.ToolVersion,
		StartedAt: r.StartedAt.UTC().Format(time.RFC3339)}
	if !r.FinishedAt.IsZero() {
		j.FinishedAt = r.FinishedAt.UTC().Format(time.RFC3339)
	}
	return j
}

func runsJSON(runs []store.Run) []runJSON {
	out := make([]runJSON, len(runs))
	for i, r := range runs {
		out[i] = toRunJSON(r)
	}
	return out
}

// reportFormats are the formats a stored report renders to.
var reportFormats = []string{"text", "md", "html", "json", "junit"}

// reportRenderer is the renderer of an output format name.
func reportRenderer(env Env, format string) (report.Renderer, error) {
	format, err := outputFormat(env, format, reportFormats...)
	if err != nil {
		return nil, err
	}
	if format == "text" {
		format = "terminal"
	}
	return report.Renderers[format], nil
}

// writeOutput calls write with stdout, or the file -o names.
func writeOutput(env Env, path string, write func(io.Writer) error) error {
	w, closeFn, err := openOutput(env, path)
	if err != nil {
		return err
	}
	if err := write(w); err != nil {
		closeFn()
		return err
	}
	return closeFn()
}

func unknownPlanErr(cmd *cobra.Command, st *store.Store, name string) error {
	all, err := st.ListRuns(cmd.Context(), "", 0)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	var names []string
	for _, r := range all {
		if !seen[r.Name] {
			seen[r.Name] = true
			names = append(names, r.Name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return exitcode.WithCode(fmt.Errorf("no runs of plan %q: the store holds no runs", name), exitcode.BadInput)
	}
	return exitcode.WithHint(exitcode.WithCode(fmt.Errorf("no runs of plan %q; plans in this store: %s", name, strings.Join(names, ", ")), exitcode.BadInput),
		"--plan takes a plan's name (its name: key) or its file")
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func newShowCmd(env Env) *cobra.Command {
	var loc storeFlags
	var o trendOptions
	var format string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show [RUN]",
		Short: "Show a stored run; with --trend TASK.METRIC, that metric across the plan's runs, with drift",
		Long:  trendHelp,
		Example: `  tunecheck show latest
  tunecheck show --trend qa.exact_match --window 5 --plot qa.svg
  tunecheck show --trend qa.exact_match --fail-on-drift -f json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := jsonAlias(cmd, asJSON, &format); err != nil {
				return err
			}
			format, err := outputFormat(env, format, "text", "json")
			if err != nil {
				return err
			}
			o.JSON = format == "json"
			if err := o.check(cmd.Flags().Changed("window")); err != nil {
				return err
			}
			st, err := loc.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			run, rep, err := app.LoadReport(cmd.Context(), st, runArg(args))
			if err != nil {
				return err
			}
			if o.Metric == "" && o.JSON {
				var b bytes.Buffer
				if err := report.JSON(&b, rep); err != nil {
					return err
				}
				return writeJSON(env.Stdout, struct {
					Run    runJSON         `json:"run"`
					Report json.RawMessage `json:"report"`
				}{toRunJSON(run), b.Bytes()})
			}
			if o.Metric == "" {
				fmt.Fprintf(env.Stdout, "run %s · plan %s (%s) · tunecheck %s · started %s · finished %s\n", run.ID, run.Name, short(run.PlanHash), run.ToolVersion,
					run.StartedAt.UTC().Format("2006-01-02 15:04:05"), run.FinishedAt.UTC().Format("2006-01-02 15:04:05"))
				return report.Terminal(env.Stdout, rep)
			}
			taskName, m, _ := strings.Cut(o.Metric, ".")
			pts, err := app.Trend(cmd.Context(), st, run.Name, taskName, m, o.Limit)
			if err != nil {
				return err
			}
			return writeTrend(env.Stdout, o, run.Name, pts)
		},
	}
	loc.add(cmd)
	cmd.Flags().StringVar(&o.Metric, "trend", "", "TASK.METRIC to follow across runs of the same plan")
	cmd.Flags().IntVar(&o.Limit, "limit", 50, "how many runs for --trend (the newest)")
	cmd.Flags().IntVar(&o.Window, "window", 5, "judge each run for drift against this many runs before it")
	cmd.Flags().BoolVar(&o.FailOnDrift, "fail-on-drift", false, "exit 1 when the last run drifted")
	cmd.Flags().StringVar(&o.Plot, "plot", "", "also draw the trend to this file (.svg, .png or .pdf)")
	addFormatFlag(cmd.Flags(), &format, "text", "text", "json")
	addJSONAlias(cmd.Flags(), &asJSON)
	return cmd
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func newCompareCmd(env Env) *cobra.Command {
	var loc storeFlags
	var baseline, candidate, format, output string
	var seed uint64
	var gates []string
	var allowDataChange, failOnInconclusive bool
	cmd := &cobra.Command{
		Use:   "compare RUN [RUN2]",
		Short: "Paired deltas between two models of a run, or one model across two runs",
		Long: `compare RUN --baseline A --candidate B pairs two models of one run item by item.
compare RUN1 RUN2 --candidate M pairs model M of RUN1 (baseline side) with model M of RUN2.
Both recompute from the outcomes stored with each run (statuses, per-item scores,
corpus statistics) through the same aggregation as run: compare RUN prints the
numbers run and show printed. No model is called. Runs that read different data
are refused unless --allow-data-change. The plan's gates (or --gate) decide the
exit code: 0 pass, 1 a gate failed, 4 inconclusive with --fail-on-inconclusive.`,
		Example: `  tunecheck compare latest
  tunecheck compare 20261206-1 20261207-1 --candidate tuned --gate 'qa.token_f1.delta >= 0'
  tunecheck compare latest -f md -o compare.md`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			render, err := reportRenderer(env, format)
			if err != nil {
				return err
			}
			st, err := loc.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			runA, repA, err := app.LoadReport(cmd.Context(), st, args[0])
			if err != nil {
				return err
			}
			o := app.CompareOptions{AllowDataChange: allowDataChange}
			if cmd.Flags().Changed("seed") {
				o.Seed = &seed
			}
			if cmd.Flags().Changed("gate") {
				o.Gates = gates
				if o.Gates == nil {
					o.Gates = []string{}
				}
			}
			if len(args) == 1 {
				if baseline == "" && repA.Compare != nil {
					baseline = repA.Compare.Baseline
				}
				if candidate == "" && repA.Compare != nil {
					candidate = repA.Compare.Candidate
				}
				if baseline == "" || candidate == "" {
					return exitcode.WithCode(fmt.Errorf("name the two models with --baseline and --candidate"), exitcode.BadInput)
				}
				o.A = app.Side{Label: baseline, Run: runA, Report: repA, Model: baseline}
				o.B = app.Side{Label: candidate, Run: runA, Report: repA, Model: candidate}
			} else {
				runB, repB, err := app.LoadReport(cmd.Context(), st, args[1])
				if err != nil {
					return err
				}
				if candidate == "" && repA.Compare != nil {
					candidate = repA.Compare.Candidate
				}
				if baseline == "" {
					baseline = candidate
				}
				o.A = app.Side{Label: baseline + "@" + runA.ID, Run: runA, Report: repA, Model: baseline}
				o.B = app.Side{Label: candidate + "@" + runB.ID, Run: runB, Report: repB, Model: candidate}
			}
			o.Texts = app.StoredTexts(cmd.Context(), st)
			rep, err := app.Compare(o)
			if err != nil {
				return err
			}
			if err := writeOutput(env, output, func(w io.Writer) error { return render(w, rep) }); err != nil {
				return err
			}
			return verdictErr(rep.Verdict, failOnInconclusive)
		},
	}
	loc.add(cmd)
	cmd.Flags().StringVar(&baseline, "baseline", "", "baseline model (default: the run's compare.baseline)")
	cmd.Flags().StringVar(&candidate, "candidate", "", "candidate model (default: the run's compare.candidate)")
	addFormatFlag(cmd.Flags(), &format, "text", reportFormats...)
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of stdout")
	cmd.Flags().Uint64Var(&seed, "seed", 0, "bootstrap seed (default: the first run's)")
	cmd.Flags().StringArrayVar(&gates, "gate", nil, "gate expression, repeatable (default: the first run's plan gates)")
	cmd.Flags().BoolVar(&allowDataChange, "allow-data-change", false, "pair runs whose eval sets differ, on the items both have")
	cmd.Flags().BoolVar(&failOnInconclusive, "fail-on-inconclusive", false, "exit 4 when a gate is inconclusive")
	return cmd
}

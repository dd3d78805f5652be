package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tunecheck/tunecheck/internal/app"
	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/trend"
)

// trendHelp is show's long help: what --trend prints and how drift is decided.
const trendHelp = `show RUN prints one stored run's summary (the newest finished run when RUN is
left out).

show --trend TASK.METRIC prints that metric for every finished run of RUN's
plan, oldest first: each run's mean with its confidence interval, the items it
rests on, the paired delta vs the baseline when the run compared two models,
and a drift column.

Drift: each run is judged against the --window k runs before it. With m̄ and s
the mean and standard deviation of their k means, w̄ the mean half-width of
their confidence intervals and t the 97.5% quantile of Student's t with k−1
degrees of freedom, a run drifted when its mean lies outside

    m̄ ± √(1 + 1/k) · max(t·s, w̄)

That is the 95% prediction interval for one more run's mean given how much the
k runs varied, never narrower than one run's own margin of error (so runs that agreed
exactly do not turn a change within measurement precision into drift). It
treats runs as independent samples although they share items, which makes it
conservative. Each run is tested on its own: among many stable runs up to one in
twenty may still be marked. A run with fewer than k runs before it is not
judged. The drift column says up or down; the closing line says how the last
run fared. With --fail-on-drift, a drifted last run exits 5 (as run --fail-on-drift does).`

// trendOptions are show's --trend flags.
type trendOptions struct {
	Metric      string // TASK.METRIC
	Limit       int
	Window      int
	FailOnDrift bool
	Plot        string
	JSON        bool
}

// check refuses flag combinations before anything is read.
func (o trendOptions) check(windowSet bool) error {
	if o.Metric == "" {
		if windowSet || o.FailOnDrift || o.Plot != "" {
			return exitcode.WithCode(errors.New("--window, --fail-on-drift and --plot go with --trend TASK.METRIC"), exitcode.BadInput)
		}
		return nil
	}
	if _, _, ok := strings.Cut(o.Metric, "."); !ok {
		return exitcode.WithCode(fmt.Errorf("--trend wants TASK.METRIC, got %q", o.Metric), exitcode.BadInput)
	}
	if o.Window < 1 {
		return exitcode.WithHint(exitcode.WithCode(fmt.Errorf("--window must be at least 1, got %d", o.Window), exitcode.BadInput),
			"--window is how many earlier runs each run is judged against (default 5)")
	}
	return nil
}

// trendJSON is the output of --trend with --format json.
type trendJSON struct {
	Plan   string           `json:"plan"`
	Task   string           `json:"task"`
	Metric string           `json:"metric"`
	Window int              `json:"window"`
	Level  float64          `json:"level"`
	Points []trendPointJSON `json:"points"`
}

type trendPointJSON struct {
	Run     string          `json:"run"`
	Started string          `json:"started"`
	Model   string          `json:"model"`
	N       int             `json:"n"`
	Mean    float64         `json:"mean"`
	CI      [2]float64      `json:"ci"`
	Delta   *trend.Estimate `json:"delta"`
	// Checked says whether the run had a full window before it; Drift is
	// "up", "down" or "" and Interval the drift interval, when checked.
	Checked  bool        `json:"checked"`
	Drift    string      `json:"drift"`
	Interval *[2]float64 `json:"drift_interval,omitempty"`
}

// writeTrend prints the trend of o.Metric in plan's runs (a table and a
// closing line, or JSON), writes the plot when asked, and returns a silent
// exit-5 (drift) error when the last run drifted and o.FailOnDrift.
func writeTrend(w io.Writer, o trendOptions, plan string, pts []app.TrendPoint) error {
	taskName, metric, _ := strings.Cut(o.Metric, ".")
	tp := app.TrendPoints(pts)
	checks, err := trend.Scan(tp, o.Window)
	if err != nil {
		return exitcode.WithCode(err, exitcode.BadInput)
	}
	if o.JSON {
		if err := trendAsJSON(w, o, plan, taskName, metric, pts, checks); err != nil {
			return err
		}
	} else if err := trendTable(w, o, plan, pts, checks); err != nil {
		return err
	}
	if o.Plot != "" {
		if len(tp) == 0 {
			return exitcode.WithCode(fmt.Errorf("no finished run of plan %q has %s, so there is nothing to plot", plan, o.Metric), exitcode.BadInput)
		}
		c := trend.Chart{Title: fmt.Sprintf("%s across the runs of plan %s", o.Metric, plan), Metric: o.Metric, Points: tp, Checks: checks, Window: o.Window}
		if err := trend.WritePlot(o.Plot, c); err != nil {
			return exitcode.WithCode(err, exitcode.BadInput)
		}
		if !o.JSON {
			fmt.Fprintf(w, "plot: %s\n", o.Plot)
		}
	}
	if o.FailOnDrift && len(checks) > 0 {
		if last := checks[len(checks)-1]; last.Dir != trend.None {
			return &silentErr{exitcode.WithCode(fmt.Errorf("the last run drifted %s", last.Dir), exitcode.Drift)}
		}
	}
	return nil
}

func trendTable(w io.Writer, o trendOptions, plan string, pts []app.TrendPoint, checks []trend.Check) error {
	if len(pts) == 0 {
		_, err := fmt.Fprintf(w, "no finished run of plan %q has %s\n", plan, o.Metric)
		return err
	}
	// The table goes through a buffer so that rows with an empty drift
	// cell end without the padding before it.
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "run\tstarted\tmodel\t%s [CI]\tn\tdelta [CI]\tdrift\n", o.Metric)
	for i, p := range pts {
		d := "—"
		if p.Delta != nil && p.Delta.N > 0 {
			d = fmt.Sprintf("%+.4f [%+.4f, %+.4f]", p.Delta.Delta, p.Delta.CI.Low, p.Delta.CI.High)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.4f [%.4f, %.4f]\t%d\t%s\t%s\n", p.Run.ID, p.Run.StartedAt.UTC().Format("2006-01-02 15:04"), p.Model,
			p.Summary.Mean, p.Summary.CI.Low, p.Summary.CI.High, p.Summary.N, d, checks[i].Dir)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for line := range strings.Lines(buf.String()) {
		fmt.Fprintln(w, strings.TrimRight(line, " \n"))
	}
	_, err := fmt.Fprintln(w, lastRunLine(pts[len(pts)-1].Summary.Mean, checks[len(checks)-1], o.Window))
	return err
}

// lastRunLine says how the last run fared against the runs before it.
func lastRunLine(mean float64, c trend.Check, window int) string {
	switch {
	case !c.Checked:
		return fmt.Sprintf("last run: not judged for drift: %d earlier %s, the window is %d (--window)", c.Prev, plural(c.Prev, "run", "runs"), window)
	case c.Dir == trend.Up:
		return fmt.Sprintf("last run drifted UP: %.4f is above [%.4f, %.4f] of the previous %d runs", mean, c.Low, c.High, c.Prev)
	case c.Dir == trend.Down:
		return fmt.Sprintf("last run drifted DOWN: %.4f is below [%.4f, %.4f] of the previous %d runs", mean, c.Low, c.High, c.Prev)
	}
	return fmt.Sprintf("last run: %.4f is within the previous %d runs' range [%.4f, %.4f]", mean, c.Prev, c.Low, c.High)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func trendAsJSON(w io.Writer, o trendOptions, plan, taskName, metric string, pts []app.TrendPoint, checks []trend.Check) error {
	out := trendJSON{Plan: plan, Task: taskName, Metric: metric, Window: o.Window, Level: trend.Level, Points: []trendPointJSON{}}
	tp := app.TrendPoints(pts)
	for i, p := range pts {
		j := trendPointJSON{Run: p.Run.ID, Started: p.Run.StartedAt.UTC().Format(time.RFC3339), Model: p.Model, N: p.Summary.N,
			Mean: p.Summary.Mean, CI: [2]float64{p.Summary.CI.Low, p.Summary.CI.High}, Delta: tp[i].Delta,
			Checked: checks[i].Checked, Drift: string(checks[i].Dir)}
		if checks[i].Checked {
			j.Interval = &[2]float64{checks[i].Low, checks[i].High}
		}
		out.Points = append(out.Points, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/notify"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/stats"
	"github.com/tunecheck/tunecheck/internal/store"
	"github.com/tunecheck/tunecheck/internal/trend"
)

// DefaultDriftWindow is how many earlier runs a run is judged against, as
// `show --trend`'s --window defaults to.
const DefaultDriftWindow = 5

// AfterRunOptions configure what follows `tunecheck run`: the drift check
// against the history of the plan and eval set, and webhook notifications.
type AfterRunOptions struct {
	// PlanPath and StoreDSN locate the store as the run did.
	PlanPath, StoreDSN string
	// FailOnDrift makes a drifted metric the run's exit (exitcode.Drift)
	// when the gates passed; DriftWindow is the history's length (5 when 0).
	FailOnDrift bool
	DriftWindow int
	// Notify are webhook URLs to POST the outcome to; NotifyStrict makes a
	// notification that fails the run's exit (exitcode.Unreachable) when it
	// would otherwise have passed.
	Notify       []string
	NotifyStrict bool
	// NotifySecret signs each body (notify.SignatureHeader) when set.
	NotifySecret []byte
	// NotifyClient overrides the webhook client (tests set its back-off).
	NotifyClient *notify.Client
	HTTPClient   *http.Client
	// Getenv reads the CI job's location (GITHUB_SERVER_URL,
	// GITHUB_REPOSITORY, GITHUB_RUN_ID) for the payload's link.
	Getenv      func(string) string
	Logger      *slog.Logger
	ToolVersion string
	Now         func() time.Time
}

// AfterRunResult is what AfterRun found.
type AfterRunResult struct {
	Drift notify.Drift
	// Judged counts the metrics judged against a full window; Unjudged
	// those with fewer earlier runs on the same eval set; Plan is the
	// plan name the history was read for.
	Judged, Unjudged int
	Plan             string
	// NotifyErrors are the notifications that did not get through.
	NotifyErrors []error
}

// Active says whether anything is asked of AfterRun.
func (o AfterRunOptions) Active() bool { return o.FailOnDrift || len(o.Notify) > 0 }

// AfterRun checks a finished run for drift against the earlier finished runs
// of the same plan name on the same eval set (per task, by dataset
// fingerprint and selection), by the rule `show --trend` applies
// (trend.Judge), then POSTs the outcome to every --notify URL. out and
// runErr are app.Run's results (out may be nil). It returns the error the
// command ends with: runErr when set; else a drift error (exit 5) with
// FailOnDrift; else, with NotifyStrict, a notification failure (exit 3). A
// failed notification is otherwise a warning in the log, never the exit.
func AfterRun(ctx context.Context, o AfterRunOptions, out *Outcome, runErr error) (AfterRunResult, error) {
	var res AfterRunResult
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.DriftWindow <= 0 {
		o.DriftWindow = DefaultDriftWindow
	}
	final := runErr
	started, finished := o.Now(), o.Now()
	// A run that stopped with an error (not a gate verdict) has no metrics
	// worth judging: its failure is the news.
	if out != nil && out.RunID != "" && out.Report != nil && (runErr == nil || isVerdictErr(runErr)) {
		cur, d, err := historyDrift(ctx, o, out.RunID, &res)
		switch {
		case err != nil && (o.FailOnDrift && runErr == nil):
			return res, err
		case err != nil:
			o.Logger.Warn("drift not checked", "error", err)
		default:
			started, finished = cur.StartedAt, cur.FinishedAt
			res.Drift = d
		}
		if final == nil && o.FailOnDrift && res.Drift.Flagged {
			final = &quietErr{exitcode.WithCode(fmt.Errorf("%d metric(s) drifted from the history of plan %s", len(res.Drift.Metrics), res.Plan), exitcode.Drift)}
		}
	}
	if len(o.Notify) == 0 {
		return res, final
	}
	in := notify.Input{ToolVersion: o.ToolVersion, Drift: res.Drift, ExitCode: int(exitcode.Of(final)), Started: started, Finished: finished}
	if runErr != nil && !isVerdictErr(runErr) {
		// A gate verdict is no run error: the payload's verdict says it.
		in.Err = runErr
	}
	if errors.Is(runErr, context.Canceled) {
		in.ExitCode = int(exitcode.Interrupted)
	}
	if out != nil {
		in.RunID, in.Report, in.Reports = out.RunID, out.Report, out.Files
	}
	in.PlanName = res.Plan
	in.CIRunURL = ciRunURL(o.Getenv)
	p := notify.Build(in)
	c := o.NotifyClient
	if c == nil {
		c = &notify.Client{HTTP: o.HTTPClient}
	}
	c.Secret = o.NotifySecret
	if c.UserAgent == "" {
		c.UserAgent = "tunecheck/" + o.ToolVersion
	}
	for _, u := range o.Notify {
		if err := c.Send(ctx, u, p); err != nil {
			o.Logger.Warn("webhook notification failed; the run's exit code is unchanged unless --notify-strict", "error", err)
			res.NotifyErrors = append(res.NotifyErrors, err)
		}
	}
	if final == nil && o.NotifyStrict && len(res.NotifyErrors) > 0 {
		msgs := make([]string, len(res.NotifyErrors))
		for i, e := range res.NotifyErrors {
			msgs[i] = e.Error()
		}
		final = exitcode.WithHint(exitcode.WithCode(fmt.Errorf("%d of %d notification(s) failed (--notify-strict): %s", len(res.NotifyErrors), len(o.Notify), strings.Join(msgs, "; ")), exitcode.Unreachable),
			"check the webhook's address and that it answers 2xx to a JSON POST; without --notify-strict a failed notification is only a warning")
	}
	return res, final
}

// quietErr is an exit whose reason was already printed (the drift lines).
type quietErr struct{ err error }

func (q *quietErr) Error() string { return q.err.Error() }
func (q *quietErr) Unwrap() error { return q.err }

// Quiet reports whether err's message was already shown to the user.
func Quiet(err error) bool {
	var q *quietErr
	return errors.As(err, &q)
}

// isVerdictErr says whether err only carries the verdict's exit (gate
// failed, inconclusive): the report holds the reason.
func isVerdictErr(err error) bool {
	switch exitcode.Of(err) {
	case exitcode.GateFailed, exitcode.Inconclusive:
		return true
	}
	return false
}

func ciRunURL(getenv func(string) string) string {
	if getenv == nil {
		return ""
	}
	server, repo, id := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID")
	if server == "" || repo == "" || id == "" {
		return ""
	}
	return strings.TrimSuffix(server, "/") + "/" + repo + "/actions/runs/" + id
}

// historyDrift judges every metric of run id against the DriftWindow
// finished runs of the same plan name before it that read the same data
// for that task. Each task, model and metric is judged on its own; a
// compared run is judged on its candidate, a single-model run on its model.
func historyDrift(ctx context.Context, o AfterRunOptions, id string, res *AfterRunResult) (store.Run, notify.Drift, error) {
	d := notify.Drift{Window: o.DriftWindow, Metrics: []notify.DriftMetric{}}
	dsn, _, err := LocateStore(o.StoreDSN, o.PlanPath)
	if err != nil {
		return store.Run{}, d, err
	}
	st, err := store.OpenExisting(ctx, dsn)
	if err != nil {
		return store.Run{}, d, exitcode.WithCode(fmt.Errorf("opening the store for the drift check: %w", err), exitcode.BadInput)
	}
	defer st.Close()
	cur, err := st.GetRun(ctx, id)
	if err != nil {
		return cur, d, err
	}
	res.Plan = cur.Name
	rep, err := report.Decode(cur.Summary)
	if err != nil {
		return cur, d, fmt.Errorf("run %s: its stored summary does not decode: %w", id, err)
	}
	runs, err := st.ListRuns(ctx, cur.Name, 0)
	if err != nil {
		return cur, d, err
	}
	// Earlier finished runs, newest first, with their reports decoded once.
	type past struct {
		run store.Run
		rep *report.Report
	}
	var history []past
	for _, r := range runs {
		if r.ID == cur.ID || r.Status != store.StatusFinished || !before(r, cur) {
			continue
		}
		pr, err := report.Decode(r.Summary)
		if err != nil {
			o.Logger.Warn("an earlier run's summary does not decode; left out of the drift check", "run", r.ID, "error", err)
			continue
		}
		history = append(history, past{r, pr})
	}
	for _, t := range rep.Tasks {
		for _, ms := range t.PerModel {
			if rep.Compare != nil && ms.Model != rep.Compare.Candidate {
				continue
			}
			metrics := make([]string, 0, len(ms.Metrics))
			for m, s := range ms.Metrics {
				if s.N > 0 {
					metrics = append(metrics, m)
				}
			}
			sort.Strings(metrics)
			for _, m := range metrics {
				var prev []trend.Point
				for _, h := range history {
					if len(prev) == o.DriftWindow {
						break
					}
					if h.run.Datasets[t.Name] != cur.Datasets[t.Name] {
						continue
					}
					if s, ok := summaryOf(h.rep, t.Name, ms.Model, m); ok {
						prev = append(prev, trend.Point{Run: h.run.ID, Started: h.run.StartedAt, N: s.N, Mean: s.Mean, Low: s.CI.Low, High: s.CI.High})
					}
				}
				if len(prev) < o.DriftWindow {
					res.Unjudged++
					continue
				}
				// trend.Judge wants the window oldest first.
				for i, j := 0, len(prev)-1; i < j; i, j = i+1, j-1 {
					prev[i], prev[j] = prev[j], prev[i]
				}
				s := ms.Metrics[m]
				c := trend.Judge(prev, trend.Point{Run: cur.ID, N: s.N, Mean: s.Mean, Low: s.CI.Low, High: s.CI.High})
				res.Judged++
				d.Checked = true
				if c.Dir != trend.None {
					d.Flagged = true
					d.Metrics = append(d.Metrics, notify.DriftMetric{Task: t.Name, Model: ms.Model, Metric: m, Direction: string(c.Dir),
						Value: s.Mean, Low: c.Low, High: c.High, Center: c.Center})
				}
			}
		}
	}
	return cur, d, nil
}

// before orders runs as ListRuns does: by start time, then id.
func before(a, b store.Run) bool {
	if !a.StartedAt.Equal(b.StartedAt) {
		return a.StartedAt.Before(b.StartedAt)
	}
	return a.ID < b.ID
}

func summaryOf(r *report.Report, taskName, model, metric string) (stats.Summary, bool) {
	for _, t := range r.Tasks {
		if t.Name != taskName {
			continue
		}
		for _, ms := range t.PerModel {
			if ms.Model == model && ms.Metrics[metric].N > 0 {
				return ms.Metrics[metric], true
			}
		}
	}
	return stats.Summary{}, false
}

// WriteDrift says what the drift check found, one line per drifted metric.
func WriteDrift(w io.Writer, o AfterRunOptions, r AfterRunResult) error {
	window := o.DriftWindow
	if window <= 0 {
		window = DefaultDriftWindow
	}
	scope := fmt.Sprintf("the last %d finished runs of plan %s on the same eval set", window, report.PlainText(r.Plan))
	var b strings.Builder
	switch {
	case r.Drift.Flagged:
		for _, m := range r.Drift.Metrics {
			fmt.Fprintf(&b, "drift: %s.%s (%s) %s: %.4f outside [%.4f, %.4f], the %.0f%% prediction interval from %s\n",
				report.PlainText(m.Task), report.PlainText(m.Metric), report.PlainText(m.Model), m.Direction, m.Value, m.Low, m.High, 100*trend.Level, scope)
		}
	case r.Judged > 0:
		fmt.Fprintf(&b, "drift: none among %d metric(s) judged against %s\n", r.Judged, scope)
	case r.Unjudged > 0:
		fmt.Fprintf(&b, "drift: not judged: fewer than %d earlier finished runs of plan %s on the same eval set\n", window, report.PlainText(r.Plan))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

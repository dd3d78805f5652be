package app

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/stats"
	"github.com/tunecheck/tunecheck/internal/store"
)

// trendStore holds runs of plan "nightly": run i (from 0) has qa.exact_match
// 0.5+i/10 for the candidate "tuned" and 0.4 for "base"; run 2 is left
// running, and one run of another plan lies in between.
func trendStore(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "tc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	add := func(id, name string, at time.Time, finished bool, rep report.Report) {
		t.Helper()
		if err := st.CreateRun(ctx, store.Run{ID: id, Name: name, PlanHash: "h-" + id, StartedAt: at}); err != nil {
			t.Fatal(err)
		}
		if !finished {
			return
		}
		b, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.FinishRun(ctx, id, "pass", b); err != nil {
			t.Fatal(err)
		}
	}
	summary := func(m float64) stats.Summary {
		return stats.Summary{N: 50, Mean: m, CI: stats.Interval{Low: m - 0.1, High: m + 0.1}}
	}
	for i := range 4 {
		m := 0.5 + float64(i)/10
		rep := report.Report{Schema: report.Schema, Compare: &report.CompareInfo{Baseline: "base", Candidate: "tuned"},
			Tasks: []report.Task{{Name: "qa", Metrics: []string{"exact_match"},
				PerModel: []report.ModelScore{
					{Model: "base", Metrics: map[string]stats.Summary{"exact_match": summary(0.4)}},
					{Model: "tuned", Metrics: map[string]stats.Summary{"exact_match": summary(m)}},
				},
				Comparison: &report.Comparison{Baseline: "base", Candidate: "tuned", Metrics: map[string]stats.Paired{
					"exact_match": {N: 50, Delta: m - 0.4, CI: stats.Interval{Low: m - 0.5, High: m - 0.3}}}},
			}}}
		add("r"+string(rune('0'+i)), "nightly", start.Add(time.Duration(i)*time.Hour), i != 2, rep)
	}
	// Another plan, and a run of one model without a comparison.
	add("other", "weekly", start.Add(90*time.Minute), true, report.Report{Schema: report.Schema,
		Tasks: []report.Task{{Name: "qa", PerModel: []report.ModelScore{{Model: "tuned", Metrics: map[string]stats.Summary{"exact_match": summary(0.1)}}}}}})
	add("solo", "nightly", start.Add(5*time.Hour), true, report.Report{Schema: report.Schema,
		Tasks: []report.Task{{Name: "qa", PerModel: []report.ModelScore{{Model: "only", Metrics: map[string]stats.Summary{"exact_match": summary(0.75)}}}}}})
	return st
}

func TestTrendOldestFirst(t *testing.T) {
	st := trendStore(t)
	pts, err := Trend(context.Background(), st, "nightly", "qa", "exact_match", 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range pts {
		ids = append(ids, p.Run.ID+":"+p.Model)
	}
	// r2 never finished; "other" is another plan's; a compared run trends
	// its candidate, a single-model run its model.
	if got := strings.Join(ids, " "); got != "r0:tuned r1:tuned r3:tuned solo:only" {
		t.Fatalf("points %s", got)
	}
	if p := pts[2]; p.Summary.Mean != 0.8 || p.Delta == nil || p.Delta.N != 50 {
		t.Fatalf("r3: %+v", p)
	}
	if pts[3].Delta != nil {
		t.Fatalf("a run without comparison has a delta: %+v", pts[3].Delta)
	}
	// The limit keeps the newest runs (r2 counts against it).
	pts, err = Trend(context.Background(), st, "nightly", "qa", "exact_match", 3)
	if err != nil || len(pts) != 2 || pts[0].Run.ID != "r3" {
		t.Fatalf("limit 3: %v %+v", err, pts)
	}
}

func TestTrendUnknownNames(t *testing.T) {
	st := trendStore(t)
	ctx := context.Background()
	_, err := Trend(ctx, st, "nightly", "qb", "exact_match", 0)
	if exitcode.Of(err) != exitcode.BadInput || err == nil || err.Error() != `no task "qb" in the runs of plan "nightly"; its tasks: qa` {
		t.Fatalf("unknown task: %v", err)
	}
	_, err = Trend(ctx, st, "nightly", "qa", "bleu", 0)
	if exitcode.Of(err) != exitcode.BadInput || err == nil || err.Error() != `task qa has no metric "bleu" in the runs of plan "nightly"; its metrics: exact_match` {
		t.Fatalf("unknown metric: %v", err)
	}
	// A plan with no finished run is no error: there is nothing to trend.
	if pts, err := Trend(ctx, st, "never", "qa", "exact_match", 0); err != nil || len(pts) != 0 {
		t.Fatalf("no runs: %v %v", pts, err)
	}
}

func TestTrendPoints(t *testing.T) {
	st := trendStore(t)
	pts, err := Trend(context.Background(), st, "nightly", "qa", "exact_match", 0)
	if err != nil {
		t.Fatal(err)
	}
	tp := TrendPoints(pts)
	if len(tp) != len(pts) {
		t.Fatalf("%d points from %d", len(tp), len(pts))
	}
	p := tp[1]
	if p.Run != "r1" || !p.Started.Equal(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)) || p.N != 50 || p.Mean != 0.6 ||
		p.Low != pts[1].Summary.CI.Low || p.High != pts[1].Summary.CI.High {
		t.Fatalf("point %+v", p)
	}
	if p.Delta == nil || p.Delta.N != 50 || p.Delta.Mean != pts[1].Delta.Delta || p.Delta.Low != pts[1].Delta.CI.Low || p.Delta.High != pts[1].Delta.CI.High {
		t.Fatalf("delta %+v", p.Delta)
	}
	if tp[3].Delta != nil {
		t.Fatalf("solo run: delta %+v", tp[3].Delta)
	}
}

package app

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/stats"
	"github.com/tunecheck/tunecheck/internal/store"
	"github.com/tunecheck/tunecheck/internal/trend"
)

// TrendPoint is one run's value of a metric.
type TrendPoint struct {
	Run     store.Run
	Model   string
	Summary stats.Summary
	Delta   *stats.Paired
}

// Trend returns TASK.METRIC for every finished run of a plan name, oldest first.
func Trend(ctx context.Context, st *store.Store, name, taskName, metric string, limit int) ([]TrendPoint, error) {
	runs, err := st.ListRuns(ctx, name, limit)
	if err != nil {
		return nil, err
	}
	var out []TrendPoint
	// What the runs hold, to say what exists when TASK.METRIC names nothing.
	tasks, metrics := map[string]bool{}, map[string]bool{}
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		if r.Status != store.StatusFinished {
			continue
		}
		rep, err := report.Decode(r.Summary)
		if err != nil {
			continue
		}
		for _, t := range rep.Tasks {
			tasks[t.Name] = true
			if t.Name != taskName {
				continue
			}
			model := ""
			if rep.Compare != nil {
				model = rep.Compare.Candidate
			}
			for _, ms := range t.PerModel {
				for m := range ms.Metrics {
					metrics[m] = true
				}
				if (model == "" || ms.Model == model) && ms.Metrics[metric].N > 0 {
					p := TrendPoint{Run: r, Model: ms.Model, Summary: ms.Metrics[metric]}
					if t.Comparison != nil {
						if d, ok := t.Comparison.Metrics[metric]; ok {
							p.Delta = &d
						}
					}
					out = append(out, p)
				}
			}
		}
	}
	if len(out) == 0 && len(tasks) > 0 {
		switch {
		case !tasks[taskName]:
			return nil, exitcode.WithCode(fmt.Errorf("no task %q in the runs of plan %q; its tasks: %s", taskName, name, trendNames(tasks)), exitcode.BadInput)
		case !metrics[metric]:
			return nil, exitcode.WithCode(fmt.Errorf("task %s has no metric %q in the runs of plan %q; its metrics: %s", taskName, metric, name, trendNames(metrics)), exitcode.BadInput)
		}
	}
	return out, nil
}

func trendNames(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// TrendPoints converts the points for the drift check and the plot.
func TrendPoints(pts []TrendPoint) []trend.Point {
	out := make([]trend.Point, len(pts))
	for i, p := range pts {
		out[i] = trend.Point{Run: p.Run.ID, Started: p.Run.StartedAt, N: p.Summary.N,
			Mean: p.Summary.Mean, Low: p.Summary.CI.Low, High: p.Summary.CI.High}
		if p.Delta != nil && p.Delta.N > 0 {
			out[i].Delta = &trend.Estimate{N: p.Delta.N, Mean: p.Delta.Delta, Low: p.Delta.CI.Low, High: p.Delta.CI.High}
		}
	}
	return out
}

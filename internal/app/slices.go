package app

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"

	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/scorer"
	"github.com/tunecheck/tunecheck/internal/slice"
	"github.com/tunecheck/tunecheck/internal/stats"
	"github.com/tunecheck/tunecheck/internal/task"
)

// sliceDef is one slice of a task as the report names and orders it.
type sliceDef struct {
	Name, By string
	sort     func([]string)
}

// buildSlices labels every item of task ti with its group in each of the
// task's slices. It runs before any request, so a template that fails on a
// row stops the run there, naming the row.
func buildSlices(p *plan.Plan, ti int, items []task.Item) ([]sliceDef, []map[string]string, error) {
	t := p.Tasks[ti]
	if len(t.Slices) == 0 {
		return nil, nil, nil
	}
	defs := make([]sliceDef, len(t.Slices))
	slicers := make([]*slice.Slicer, len(t.Slices))
	for k, s := range t.Slices {
		sl, err := slice.New(s)
		if err != nil {
			return nil, nil, p.Errorf(fmt.Sprintf("tasks[%d].slices[%d]", ti, k), "fix the slice's template", "%v", err)
		}
		slicers[k] = sl
		defs[k] = sliceDef{Name: sl.Name, By: sl.By, sort: sl.Sort}
	}
	labels := make([]map[string]string, len(items))
	for i, it := range items {
		labels[i] = make(map[string]string, len(slicers))
		for k, sl := range slicers {
			v, err := sl.Label(it.Fields)
			if err != nil {
				return nil, nil, p.Errorf(fmt.Sprintf("tasks[%d].slices[%d]", ti, k), "make the template work on every row (e.g. test a field with `is defined`), or fix the row",
					"%s line %d (item %s): %v", filepath.Base(t.Dataset.Path), it.Line, it.ID, err)
			}
			labels[i][sl.Name] = v
		}
	}
	return defs, labels, nil
}

// storedSliceDefs recovers a task's slices from its report: names and
// descriptions, with groups ordered as the report ordered them.
func storedSliceDefs(t report.Task) []sliceDef {
	out := make([]sliceDef, len(t.Slices))
	for k, s := range t.Slices {
		rank := map[string]int{}
		for i, g := range s.Groups {
			rank[g.Value] = i
		}
		out[k] = sliceDef{Name: s.Name, By: s.By, sort: func(gs []string) {
			sort.SliceStable(gs, func(a, b int) bool {
				ra, okA := rank[gs[a]]
				rb, okB := rank[gs[b]]
				switch {
				case okA && okB:
					return ra < rb
				case okA != okB:
					return okA
				}
				return gs[a] < gs[b]
			})
		}}
	}
	return out
}

// slices breaks a task's records down by each slice: per group, every
// model's scores and the paired comparison, then the disparity across the
// groups per metric. Slice p-values are not in the run's Holm family: they
// describe where a change sits, they do not decide the verdict alone.
func (a aggregator) slices(taskName string, defs []metricDef, sds []sliceDef, recs []report.Record, models []string, baseline, candidate string) []report.Slice {
	var out []report.Slice
	for _, sd := range sds {
		byGroup := map[string][]report.Record{}
		var groups []string
		for _, r := range recs {
			g, ok := r.Slices[sd.Name]
			if !ok {
				g = slice.Missing
			}
			if _, seen := byGroup[g]; !seen {
				groups = append(groups, g)
			}
			byGroup[g] = append(byGroup[g], r)
		}
		sd.sort(groups)
		s := report.Slice{Name: sd.Name, By: sd.By}
		for _, g := range groups {
			rs := byGroup[g]
			key := taskName + "/slice:" + sd.Name + "=" + g
			sg := report.SliceGroup{Value: g, Items: len(rs)}
			for _, m := range models {
				sg.PerModel = append(sg.PerModel, a.modelScore(key, m, defs, rs))
			}
			if baseline != "" && candidate != "" {
				sg.Comparison = a.compare(key, baseline, candidate, defs, column(rs, baseline), column(rs, candidate))
			}
			s.Groups = append(s.Groups, sg)
		}
		cand := candidate
		if cand == "" && len(models) > 0 {
			cand = models[len(models)-1]
		}
		s.Disparity = disparity(defs, s.Groups, cand)
		out = append(out, s)
	}
	return out
}

// disparity compares a slice's groups on each metric with a direction:
// the worst and best group by the candidate's score, their gap and ratio,
// and the group whose paired delta is worst.
func disparity(defs []metricDef, groups []report.SliceGroup, cand string) map[string]report.Disparity {
	out := map[string]report.Disparity{}
	for _, d := range defs {
		if d.Direction == scorer.Neutral {
			continue
		}
		better := func(x, y float64) bool { return d.Gain(y, x) > 0 } // x better than y
		var dp report.Disparity
		var worst, best stats.Summary
		found := false
		for _, g := range groups {
			var sum stats.Summary
			for _, ms := range g.PerModel {
				if ms.Model == cand {
					sum = ms.Metrics[d.Name]
				}
			}
			if sum.N == 0 {
				continue
			}
			if !found || better(worst.Mean, sum.Mean) {
				worst, dp.Worst = sum, g.Value
			}
			if !found || better(sum.Mean, best.Mean) {
				best, dp.Best = sum, g.Value
			}
			found = true
		}
		if !found {
			continue
		}
		dp.MinValue = worst
		dp.Gap = math.Abs(best.Mean - worst.Mean)
		hi, lo := best.Mean, worst.Mean
		if d.Direction == scorer.Lower {
			hi, lo = worst.Mean, best.Mean
		}
		if hi != 0 && lo/hi >= 0 {
			dp.Ratio = lo / hi
		}
		var minGain, maxGain float64
		seen := false
		for _, g := range groups {
			if g.Comparison == nil {
				continue
			}
			p, ok := g.Comparison.Metrics[d.Name]
			if !ok || p.N == 0 {
				continue
			}
			gain := d.Gain(0, p.Delta)
			if !seen || gain < minGain {
				minGain, dp.MinDeltaGroup = gain, g.Value
				pc := p
				dp.MinDelta = &pc
			}
			if !seen || gain > maxGain {
				maxGain = gain
			}
			seen = true
		}
		if seen {
			dp.DeltaGap = maxGain - minGain
		}
		out[d.Name] = dp
	}
	return out
}

// relabelSlices renames the models of slice groups' scores and comparisons
// (compare computes them under internal keys, then shows the sides' labels).
func relabelSlices(ss []report.Slice, label map[string]string) {
	for i := range ss {
		for j := range ss[i].Groups {
			g := &ss[i].Groups[j]
			for k := range g.PerModel {
				if l, ok := label[g.PerModel[k].Model]; ok {
					g.PerModel[k].Model = l
				}
			}
			if c := g.Comparison; c != nil {
				if l, ok := label[c.Baseline]; ok {
					c.Baseline = l
				}
				if l, ok := label[c.Candidate]; ok {
					c.Candidate = l
				}
			}
		}
	}
}

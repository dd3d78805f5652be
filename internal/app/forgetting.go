package app

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/leakage"
	"github.com/tunecheck/tunecheck/internal/report"
	"github.com/tunecheck/tunecheck/internal/scorer"
	"github.com/tunecheck/tunecheck/internal/stats"
	"github.com/tunecheck/tunecheck/internal/store"
)

// leakageFile is the part of `tunecheck leakage --bench … -f json` that
// names the contaminated benchmark items.
type leakageFile struct {
	Benchmarks []leakage.BenchmarkContamination `json:"benchmarks"`
}

// readContaminated reads the contaminated item ids of a leakage report:
// every item of every benchmark listed in contaminated_items (the items
// sharing at least one n-gram with the training data, whatever their class).
func readContaminated(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("--contaminated: %w", err), exitcode.BadInput),
			"give the JSON report of `tunecheck leakage --bench … -f json -o FILE`")
	}
	var lf leakageFile
	if err := json.Unmarshal(b, &lf); err != nil {
		return nil, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("--contaminated %s: %w", path, err), exitcode.BadInput),
			"give the JSON report of `tunecheck leakage --bench … -f json -o FILE`")
	}
	if lf.Benchmarks == nil {
		return nil, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("--contaminated %s: no \"benchmarks\" field: not a leakage report of a --bench check", path), exitcode.BadInput),
			"run `tunecheck leakage --train T --bench mmlu,gsm8k -f json -o FILE` and pass FILE")
	}
	var ids []string
	for _, bc := range lf.Benchmarks {
		for _, it := range bc.ItemsHit {
			ids = append(ids, it.ID)
		}
	}
	return ids, nil
}

// contaminatedOf says which records of task task are contaminated. A
// leakage id matches a record of task T with id R when it is R itself,
// "T/R", or ends in "/R" with the part before it, slashes read as
// underscores, equal to T or starting with T + "_": the leakage check's
// "mmlu/anatomy/3" is item 3 of task mmlu_anatomy, "gsm8k/test/12" item 12
// of task gsm8k.
func contaminatedOf(task string, recs []report.Record, ids map[string]bool, byLast map[string][]string) []bool {
	out := make([]bool, len(recs))
	for i, r := range recs {
		if ids[r.ID] || ids[task+"/"+r.ID] {
			out[i] = true
			continue
		}
		for _, prefix := range byLast[r.ID] {
			p := strings.ReplaceAll(prefix, "/", "_")
			if p == task || strings.HasPrefix(p, task+"_") {
				out[i] = true
				break
			}
		}
	}
	return out
}

// cleanScores recomputes every benchmark's scores and paired delta on its
// items the leakage check did not flag, with the same aggregator (seeds,
// resamples, tests) as the full numbers, keyed by task or group name. It
// is an error when no id matches an item of any benchmark task: the ids
// are then from another benchmark or another id convention, and "clean"
// numbers equal to the full ones would be a quiet wrong answer.
func cleanScores(agg aggregator, rep *report.Report, defsOf map[string][]metricDef, path string, ids []string) (map[string]*report.CleanScore, error) {
	set := map[string]bool{}
	byLast := map[string][]string{}
	for _, id := range ids {
		set[id] = true
		if i := strings.LastIndexByte(id, '/'); i > 0 {
			byLast[id[i+1:]] = append(byLast[id[i+1:]], id[:i])
		}
	}
	out := map[string]*report.CleanScore{}
	matched := 0
	var tasks []string
	for _, bt := range rep.BenchmarkTasks() {
		members := bt.Members
		if members == nil {
			members = []*report.Task{bt.Task}
		}
		defs := benchmarkDef(defsOf[members[0].Name], bt)
		if len(defs) == 0 {
			continue
		}
		cs := &report.CleanScore{}
		var pooled []report.Record
		memberClean := map[string][]report.ModelScore{}
		for _, m := range members {
			tasks = append(tasks, m.Name)
			flags := contaminatedOf(m.Name, m.Records, set, byLast)
			var keep []report.Record
			for i, r := range m.Records {
				if flags[i] {
					cs.Contaminated++
					continue
				}
				keep = append(keep, r)
				pooled = append(pooled, report.Record{ID: m.Name + "/" + r.ID, Outcomes: r.Outcomes})
			}
			if bt.Members != nil {
				for _, ms := range m.PerModel {
					memberClean[ms.Model] = append(memberClean[ms.Model], agg.modelScore(m.Name+":clean", ms.Model, defs, keep))
				}
			}
		}
		matched += cs.Contaminated
		cs.Items = len(pooled)
		name := bt.Task.Name
		if bt.Members != nil {
			name = "group:" + name
		}
		for _, ms := range bt.Task.PerModel {
			score := agg.modelScore(name+":clean", ms.Model, defs, pooled)
			if bt.Members != nil {
				cs.Scores = append(cs.Scores, report.LMGroupScore(score, bt.Metric, memberClean[ms.Model]))
			} else {
				cs.Scores = append(cs.Scores, report.LMTaskScore(score, bt.Metric))
			}
		}
		if c := rep.Compare; c != nil && bt.Task.Comparison != nil {
			cmp := agg.compare(name+":clean", c.Baseline, c.Candidate, defs, column(pooled, c.Baseline), column(pooled, c.Candidate))
			if p, ok := cmp.Metrics[bt.Metric]; ok {
				cs.Delta = &p
				// The clean delta's p-value is its own: it is not part of the
				// run's Holm family (a gate never reads it).
				cs.Delta.PAdjusted = p.PValue
			}
		}
		out[bt.Task.Name] = cs
	}
	if matched == 0 {
		sort.Strings(tasks)
		return nil, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("--contaminated %s: none of its %d contaminated ids matches an item of the run's benchmark tasks (%s)", path, len(ids), strings.Join(tasks, ", ")), exitcode.BadInput),
			"ids match an item id R of task T as R, T/R, or P/R where P with / read as _ is T or starts with T_ (mmlu/anatomy/3 is item 3 of mmlu_anatomy); check the leakage run used the same --bench as this run")
	}
	return out, nil
}

// benchmarkDef is the definition of a benchmark's metric: the task's
// own, else — a mean metric needs no scorer to aggregate — one rebuilt
// from the report's metric_info (a stored run whose plan does not list its
// built-in benchmark tasks).
func benchmarkDef(defs []metricDef, bt report.BenchmarkTask) []metricDef {
	for _, d := range defs {
		if d.Name == bt.Metric {
			return []metricDef{d}
		}
	}
	mi, ok := bt.Task.MetricInfo[bt.Metric]
	if !ok || mi.Corpus {
		return nil
	}
	return []metricDef{{Metric: scorer.Metric{Name: bt.Metric, Direction: scorer.Direction(mi.Direction), Test: mi.Test, Binary: mi.Binary}}}
}

// CleanForgetting gives a stored run's report (`report --contaminated`)
// its Forgetting section with the clean-subset numbers of a leakage
// report, computed as run computes them (the run's seed and resamples).
func CleanForgetting(run store.Run, rep *report.Report, contaminated string) error {
	defsOf, err := storedMetricDefs(run)
	if err != nil {
		defsOf = map[string][]metricDef{}
	}
	cfg := stats.Config{Resamples: rep.Bootstrap.Resamples, Confidence: rep.Bootstrap.Confidence}
	sec, ok, err := forgettingSection(rep, defsOf, rep.Seed, cfg, contaminated, "")
	if err != nil || !ok {
		return err
	}
	for i := range rep.Sections {
		if rep.Sections[i].Kind == report.KindForgetting {
			rep.Sections[i] = sec
			return nil
		}
	}
	rep.Sections = append([]report.Section{sec}, rep.Sections...)
	return nil
}

// forgettingSection builds the Forgetting section of a finished run's
// report (absent without benchmark tasks), with the clean-subset numbers
// when contaminated names a leakage report.
func forgettingSection(rep *report.Report, defsOf map[string][]metricDef, seed uint64, cfg stats.Config, contaminated, outDir string) (report.Section, bool, error) {
	if len(rep.BenchmarkTasks()) == 0 {
		if contaminated != "" {
			return report.Section{}, false, exitcode.WithHint(exitcode.WithCode(fmt.Errorf("--contaminated %s: the run has no benchmark tasks to score on a clean subset", contaminated), exitcode.BadInput),
				"run built-in benchmarks (run --tasks mmlu,gsm8k) or drop --contaminated")
		}
		return report.Section{}, false, nil
	}
	var clean map[string]*report.CleanScore
	if contaminated != "" {
		ids, err := readContaminated(contaminated)
		if err != nil {
			return report.Section{}, false, err
		}
		if clean, err = cleanScores(aggregator{seed: seed, cfg: cfg}, rep, defsOf, contaminated, ids); err != nil {
			return report.Section{}, false, err
		}
	}
	sec, ok, err := report.ForgettingSection(rep, clean)
	if err != nil || !ok || sec.SVG == "" || outDir == "" {
		return sec, ok, err
	}
	// The plot's file serves report.md; the HTML report embeds the SVG.
	const plot = "forgetting.svg"
	if err := os.WriteFile(filepath.Join(outDir, plot), []byte(sec.SVG), 0o644); err != nil {
		return sec, false, fmt.Errorf("writing the Forgetting plot: %w", err)
	}
	sec.SVGFile = plot
	return sec, true, nil
}

package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/tunecheck/tunecheck/internal/lmres"
	"github.com/tunecheck/tunecheck/internal/stats"
)

// KindForgetting is the Section.Kind of the Forgetting section.
const KindForgetting = "forgetting"

// Forgetting is what the fine-tune did to the run's built-in benchmarks
// (tasks and groups with a Benchmark): per benchmark, each model's score
// with lm-eval's standard error, and the paired base→candidate delta the
// run computed for that task or group, with its subjects (a group's member
// tasks) sorted by delta. It is the Data of the section Kind "forgetting".
type Forgetting struct {
	// Baseline and Candidate name the compared models ("" on a one-model run).
	Baseline   string                `json:"baseline,omitempty"`
	Candidate  string                `json:"candidate,omitempty"`
	Benchmarks []BenchmarkForgetting `json:"benchmarks"`
}

// BenchmarkForgetting is one benchmark (a task, or a group of subjects).
type BenchmarkForgetting struct {
	// Name is the benchmark's name; Task the report task or group the
	// numbers are from; Metric the benchmark metric shown.
	Name   string `json:"name"`
	Task   string `json:"task"`
	Metric string `json:"metric"`
	// Direction is the metric's: higher, lower or neutral.
	Direction string `json:"direction"`
	// Points is true when the metric is a proportion (binary per item):
	// its deltas read as 100 × delta points.
	Points bool `json:"points,omitempty"`
	// Scores are each graded model's score with lm-eval's standard error.
	Scores []LMScore `json:"scores"`
	// Delta is the run's paired comparison on this task or group (nil on
	// a one-model run).
	Delta *stats.Paired `json:"delta,omitempty"`
	// Worse by the metric's direction: the interval lies wholly on the
	// worse side of 0 (the section flags it).
	Worse bool `json:"worse,omitempty"`
	// Subjects are a group's member tasks sorted by delta, worst first.
	Subjects []SubjectScore `json:"subjects,omitempty"`
	// SubjectsWorse have a delta on the worse side of 0;
	// SubjectsSignificantlyWorse an interval wholly there.
	SubjectsWorse              int `json:"subjects_worse"`
	SubjectsSignificantlyWorse int `json:"subjects_significantly_worse"`
	// Clean are the same numbers on the items a leakage check did not
	// flag, when the run was given one (--contaminated).
	Clean *CleanScore `json:"clean,omitempty"`
}

// LMScore is a model's score as lm-eval reports it: the mean with its
// standard error (sample sd / √n for a task, the pooled standard error of
// its subjects for a group) over N items.
type LMScore struct {
	Model  string  `json:"model"`
	N      int     `json:"n"`
	Score  float64 `json:"score"`
	Stderr float64 `json:"stderr"`
	// NoStderr is set when no standard error is defined (a group whose
	// subjects have one item each): Stderr is then 0 and shown as —.
	NoStderr bool `json:"no_stderr,omitempty"`
}

// SubjectScore is one member task of a benchmark group.
type SubjectScore struct {
	Task   string        `json:"task"`
	Scores []LMScore     `json:"scores"`
	Delta  *stats.Paired `json:"delta,omitempty"`
}

// CleanScore is a benchmark's scores and delta on its clean items: those
// the leakage check did not flag as contaminated.
type CleanScore struct {
	// Items are the clean items; Contaminated the flagged ones left out.
	Items        int           `json:"items"`
	Contaminated int           `json:"contaminated"`
	Scores       []LMScore     `json:"scores"`
	Delta        *stats.Paired `json:"delta,omitempty"`
}

// BenchmarkTask is one benchmark of a report: its task or group and, for
// a group, the member tasks; Metric is the metric it is judged on.
type BenchmarkTask struct {
	Name    string
	Task    *Task
	Members []*Task
	Metric  string
}

// BenchmarkTasks finds the benchmarks of r: every group whose Benchmark is
// set or whose members all have one, and every benchmark task outside such
// a group.
func (r *Report) BenchmarkTasks() []BenchmarkTask {
	var out []BenchmarkTask
	byName := map[string]*Task{}
	for i := range r.Tasks {
		byName[r.Tasks[i].Name] = &r.Tasks[i]
	}
	inGroup := map[string]bool{}
	for gi := range r.Groups {
		g := &r.Groups[gi]
		var members []*Task
		all := len(g.Tasks) > 0
		for _, n := range g.Tasks {
			t := byName[n]
			if t == nil {
				continue
			}
			all = all && t.Benchmark != nil
			members = append(members, t)
		}
		if g.Benchmark == nil && !all {
			continue
		}
		for _, m := range members {
			inGroup[m.Name] = true
		}
		name := g.Name
		if g.Benchmark != nil && g.Benchmark.Name != "" {
			name = g.Benchmark.Name
		}
		out = append(out, BenchmarkTask{Name: name, Task: g, Members: members, Metric: benchmarkMetric(g, members)})
	}
	for i := range r.Tasks {
		t := &r.Tasks[i]
		if t.Benchmark == nil || inGroup[t.Name] {
			continue
		}
		name := t.Benchmark.Name
		if name == "" {
			name = t.Name
		}
		out = append(out, BenchmarkTask{Name: name, Task: t, Metric: benchmarkMetric(t, nil)})
	}
	return out
}

// BuildForgetting collects the benchmarks of r (see BenchmarkTasks) with
// their clean-subset numbers from clean, by task or group name (nil when
// the run had no contamination list). ok is false when r has no benchmark.
func BuildForgetting(r *Report, clean map[string]*CleanScore) (Forgetting, bool) {
	f := Forgetting{}
	if r.Compare != nil {
		f.Baseline, f.Candidate = r.Compare.Baseline, r.Compare.Candidate
	}
	for _, bt := range r.BenchmarkTasks() {
		b := benchmarkOf(bt)
		b.Clean = clean[bt.Task.Name]
		f.Benchmarks = append(f.Benchmarks, b)
	}
	return f, len(f.Benchmarks) > 0
}

func benchmarkOf(bt BenchmarkTask) BenchmarkForgetting {
	t, members, metric := bt.Task, bt.Members, bt.Metric
	b := BenchmarkForgetting{Name: bt.Name, Task: t.Name, Metric: metric, Points: t.MetricInfo[metric].Binary}
	dir := t.direction(metric)
	b.Direction = dir
	for _, ms := range t.PerModel {
		if len(members) == 0 {
			b.Scores = append(b.Scores, LMTaskScore(ms, metric))
			continue
		}
		var subs []ModelScore
		for _, m := range members {
			for _, mm := range m.PerModel {
				if mm.Model == ms.Model {
					subs = append(subs, mm)
				}
			}
		}
		b.Scores = append(b.Scores, LMGroupScore(ms, metric, subs))
	}
	if t.Comparison != nil {
		if p, ok := t.Comparison.Metrics[metric]; ok {
			b.Delta = &p
			b.Worse = worseCI(p, dir)
		}
	}
	for _, m := range members {
		s := SubjectScore{Task: m.Name}
		for _, ms := range m.PerModel {
			s.Scores = append(s.Scores, LMTaskScore(ms, metric))
		}
		if m.Comparison != nil {
			if p, ok := m.Comparison.Metrics[metric]; ok {
				s.Delta = &p
				if worseDelta(p.Delta, dir) {
					b.SubjectsWorse++
				}
				if worseCI(p, dir) {
					b.SubjectsSignificantlyWorse++
				}
			}
		}
		b.Subjects = append(b.Subjects, s)
	}
	sign := 1.0
	if dir == "lower" {
		sign = -1
	}
	sort.SliceStable(b.Subjects, func(i, j int) bool {
		di, dj := b.Subjects[i].Delta, b.Subjects[j].Delta
		if di == nil || dj == nil {
			return di != nil
		}
		return sign*di.Delta < sign*dj.Delta
	})
	return b
}

// worseDelta says whether a delta points the worse way; worseCI whether
// its whole interval does. A neutral metric is never worse.
func worseDelta(d float64, dir string) bool {
	switch dir {
	case "higher":
		return d < 0
	case "lower":
		return d > 0
	}
	return false
}

func worseCI(p stats.Paired, dir string) bool {
	if p.N == 0 {
		return false
	}
	switch dir {
	case "higher":
		return p.CI.High < 0
	case "lower":
		return p.CI.Low > 0
	}
	return false
}

// LMTaskScore is lm-eval's mean ± stderr of one model on one task.
func LMTaskScore(ms ModelScore, metric string) LMScore {
	s := ms.Metrics[metric]
	se, _ := lmres.StderrFromStd(s.Std, s.N)
	return LMScore{Model: ms.Model, N: s.N, Score: s.Mean, Stderr: se}
}

// LMGroupScore is lm-eval's group number for one model (ms, its pooled
// group row): its subjects' scores (subs, the model's rows of the member
// tasks) weighted by their sizes, which is the pooled mean, with the
// pooled standard error (NoStderr when no variance can be pooled).
func LMGroupScore(ms ModelScore, metric string, subs []ModelScore) LMScore {
	var st []lmres.Subtask
	for _, m := range subs {
		if l := LMTaskScore(m, metric); l.N > 0 {
			st = append(st, lmres.Subtask{Score: l.Score, Stderr: l.Stderr, Size: l.N})
		}
	}
	out := LMScore{Model: ms.Model, N: ms.Metrics[metric].N, Score: ms.Metrics[metric].Mean}
	if sc, err := lmres.GroupScore(st, true); err == nil {
		out.Score = sc
	}
	if se, err := lmres.PooledStderr(st); err == nil {
		out.Stderr = se
	} else {
		out.NoStderr = true
	}
	return out
}

// ForgettingSection renders f as the report section "Forgetting": one
// summary line per benchmark, then its score table and its subjects
// sorted by delta, worst first. ok is false when r has no benchmark.
func ForgettingSection(r *Report, clean map[string]*CleanScore) (Section, bool, error) {
	f, ok := BuildForgetting(r, clean)
	if !ok {
		return Section{}, false, nil
	}
	data, err := json.Marshal(f)
	if err != nil {
		return Section{}, false, err
	}
	return Section{Title: "Forgetting", Kind: KindForgetting, Markdown: f.markdown(), Data: data, SVG: f.plot()}, true, nil
}

// Line is the benchmark's one-line summary: "mmlu −2.4 points [−3.6,
// −1.2], 41 of 57 subjects worse (12 significantly)", flagged ▼ when the
// interval is wholly on the worse side.
func (b BenchmarkForgetting) Line() string {
	if b.Delta == nil {
		parts := make([]string, len(b.Scores))
		for i, s := range b.Scores {
			parts[i] = fmt.Sprintf("%s %s", s.Model, b.value(s))
		}
		return fmt.Sprintf("%s %s: %s", b.Name, b.Metric, strings.Join(parts, ", "))
	}
	d := b.Delta
	s := fmt.Sprintf("%s %s %s [%s, %s]", b.Name, b.Metric, b.delta(d.Delta), b.delta(d.CI.Low), b.delta(d.CI.High))
	if b.Points {
		s = fmt.Sprintf("%s %s %s points [%s, %s]", b.Name, b.Metric, b.delta(d.Delta), b.delta(d.CI.Low), b.delta(d.CI.High))
	}
	s += fmt.Sprintf(", %s p = %s", d.Test, pvalue(d.PValue))
	if len(b.Subjects) > 0 {
		s += fmt.Sprintf(", %d of %d subjects worse (%d significantly)", b.SubjectsWorse, len(b.Subjects), b.SubjectsSignificantlyWorse)
	}
	if b.Worse {
		side := "below"
		if b.Direction == "lower" {
			side = "above"
		}
		s = "▼ " + s + " — worse: the interval lies " + side + " 0"
	}
	if c := b.Clean; c != nil && c.Delta != nil {
		s += fmt.Sprintf("; on the %d clean items (%d contaminated left out) %s [%s, %s]", c.Items, c.Contaminated, b.delta(c.Delta.Delta), b.delta(c.Delta.CI.Low), b.delta(c.Delta.CI.High))
	}
	return s
}

// delta prints a delta in points (one decimal, true minus sign) or in the
// metric's units.
func (b BenchmarkForgetting) delta(x float64) string {
	if !b.Points {
		return strings.Replace(signed(x), "-", "−", 1)
	}
	s := fmt.Sprintf("%+.1f", 100*x)
	if s == "+0.0" || s == "-0.0" {
		s = "0.0"
	}
	return strings.Replace(s, "-", "−", 1)
}

func (b BenchmarkForgetting) value(s LMScore) string {
	if s.NoStderr {
		return num(s.Score) + " ± —"
	}
	return fmt.Sprintf("%s ± %s", num(s.Score), num(s.Stderr))
}

func (f Forgetting) markdown() string {
	var w strings.Builder
	w.WriteString("What the fine-tune did to the built-in benchmarks: the paired delta of each benchmark (a group pools its subjects' items) with its bootstrap interval and the paired test's p-value; scores are ± lm-eval's standard error (sample sd / √n; a group's pooled over its subjects).\n\n")
	for _, b := range f.Benchmarks {
		fmt.Fprintf(&w, "- %s\n", mdText(b.Line()))
	}
	for _, b := range f.Benchmarks {
		fmt.Fprintf(&w, "\n**%s** (%s, %s)\n\n", mdText(b.Name), mdCode(b.Task), mdCode(b.Metric))
		models := make([]string, len(b.Scores))
		for i, s := range b.Scores {
			models[i] = s.Model
		}
		w.WriteString("| task |")
		for _, m := range models {
			fmt.Fprintf(&w, " %s ± se (n) |", mdText(m))
		}
		if f.Candidate != "" {
			unit := ""
			if b.Points {
				unit = " (points)"
			}
			fmt.Fprintf(&w, " delta%s [CI] | test | p |", unit)
		}
		w.WriteString("\n|---|")
		for range models {
			w.WriteString("---:|")
		}
		if f.Candidate != "" {
			w.WriteString("---:|---|---:|")
		}
		w.WriteString("\n")
		row := func(name string, scores []LMScore, d *stats.Paired) {
			fmt.Fprintf(&w, "| %s |", name)
			for _, m := range models {
				cell := "—"
				for _, s := range scores {
					if s.Model == m && s.N > 0 {
						cell = fmt.Sprintf("%s (%d)", b.value(s), s.N)
					}
				}
				fmt.Fprintf(&w, " %s |", cell)
			}
			if f.Candidate != "" {
				if d == nil {
					w.WriteString(" — | — | — |")
				} else {
					fmt.Fprintf(&w, " %s [%s, %s] | %s | %s |", b.delta(d.Delta), b.delta(d.CI.Low), b.delta(d.CI.High), mdText(d.Test), pvalue(d.PValue))
				}
			}
			w.WriteString("\n")
		}
		row("**"+mdText(b.Task)+"**", b.Scores, b.Delta)
		if c := b.Clean; c != nil {
			row(fmt.Sprintf("%s, clean (%d contaminated items left out)", mdText(b.Task), c.Contaminated), c.Scores, c.Delta)
		}
		for _, s := range b.Subjects {
			row(mdCode(s.Task), s.Scores, s.Delta)
		}
	}
	return w.String()
}

// termForgetting writes each benchmark's summary line for the terminal,
// from the section's data; the tables are in report.md.
func termForgetting(w io.Writer, sec Section) {
	var f Forgetting
	if err := json.Unmarshal(sec.Data, &f); err != nil {
		return
	}
	fmt.Fprintf(w, "\n%s\n", termText(sec.Title))
	for _, b := range f.Benchmarks {
		fmt.Fprintf(w, "  %s\n", termText(b.Line()))
	}
}

// benchmarkMetric is the metric a benchmark is judged on: the first of its
// declared metrics the task (or group) reports, else its primary metric.
func benchmarkMetric(t *Task, members []*Task) string {
	infos := []*BenchmarkInfo{t.Benchmark}
	for _, m := range members {
		infos = append(infos, m.Benchmark)
	}
	for _, bi := range infos {
		if bi == nil {
			continue
		}
		for _, m := range bi.Metrics {
			if _, ok := t.MetricInfo[m]; ok {
				return m
			}
		}
	}
	return t.primary()
}

// forgettingPlot draws every benchmark and its subjects as rows on one
// shared scale (so subjects compare at a glance): the delta as a dot, its
// interval as a bar, coloured red where the interval is wholly worse,
// green wholly better, grey otherwise; zero is the vertical line. "" when
// there is nothing to draw (a one-model run).
func (f Forgetting) plot() string {
	type row struct {
		label string
		p     *stats.Paired
		dir   string
		head  bool
	}
	var rows []row
	scale := 0.0
	for _, b := range f.Benchmarks {
		if b.Delta == nil {
			continue
		}
		rows = append(rows, row{b.Name + " · " + b.Metric, b.Delta, b.Direction, true})
		for _, s := range b.Subjects {
			if s.Delta != nil {
				rows = append(rows, row{s.Task, s.Delta, b.Direction, false})
			}
		}
	}
	if len(rows) == 0 {
		return ""
	}
	for _, r := range rows {
		scale = max(scale, math.Abs(r.p.CI.Low), math.Abs(r.p.CI.High), math.Abs(r.p.Delta))
	}
	if scale == 0 || math.IsNaN(scale) || math.IsInf(scale, 0) {
		scale = 1
	}
	scale *= 1.05
	const (
		w, top, rowH  = 900.0, 8.0, 20.0
		x0, x1, textX = 260.0, 640.0, 660.0
	)
	xm, half := (x0+x1)/2, (x1-x0)/2
	x := func(v float64) float64 { return xm + max(-1, min(1, v/scale))*half }
	h := top + rowH*float64(len(rows)) + 24
	var d svgDoc
	d.open(w, h, "paired deltas of the benchmarks and their subjects")
	for i, r := range rows {
		y := top + rowH*float64(i)
		cy := y + rowH/2
		if r.head {
			d.f(`<rect x="0" y="%s" width="%s" height="%s" fill="#f6f8fa"/>`, fx(y), fx(w), fx(rowH))
		}
		col := classColour(deltaClass(*r.p, r.dir))
		weight := "400"
		if r.head {
			weight = "600"
		}
		d.f(`<text x="8" y="%s" fill="%s" font-size="12" font-weight="%s">%s</text>`, fx(cy+4), colInk, weight, svgText(clipRunes(r.label, 40)))
		d.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="3" stroke-linecap="round"/>`, fx(x(r.p.CI.Low)), fx(cy), fx(x(r.p.CI.High)), fx(cy), col)
		d.f(`<circle cx="%s" cy="%s" r="4" fill="%s"/>`, fx(x(r.p.Delta)), fx(cy), col)
		d.f(`<text x="%s" y="%s" fill="%s" font-size="12">%s [%s, %s]</text>`, fx(textX), fx(cy+4), col, signed(r.p.Delta), signed(r.p.CI.Low), signed(r.p.CI.High))
	}
	bottom := top + rowH*float64(len(rows))
	d.f(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`, fx(xm), fx(top), fx(xm), fx(bottom), colInk)
	d.f(`<text x="%s" y="%s" fill="%s" font-size="11">−%s</text><text x="%s" y="%s" fill="%s" font-size="11" text-anchor="middle">0</text><text x="%s" y="%s" fill="%s" font-size="11" text-anchor="end">+%s</text>`,
		fx(x0), fx(bottom+16), colMuted, shortNum(scale), fx(xm), fx(bottom+16), colMuted, fx(x1), fx(bottom+16), colMuted, shortNum(scale))
	// A standalone file and a data: URL image need the namespace that an
	// SVG inline in HTML does without.
	return strings.Replace(string(d.html()), "<svg ", `<svg xmlns="http://www.w3.org/2000/svg" `, 1)
}

// mdForgetting writes the Forgetting section above the tasks in report.md:
// it is the summary of a benchmark run, so the Markdown budget never
// leaves it out (budgetedSections does not count it).
func mdForgetting(w io.Writer, r *Report) {
	for _, s := range r.Sections {
		if s.Kind != KindForgetting {
			continue
		}
		fmt.Fprintf(w, "\n## %s\n\n", mdText(s.Title))
		if s.SVGFile != "" {
			fmt.Fprintf(w, "![%s](%s)\n\n", mdText(s.Title), mdLinkTarget(s.SVGFile))
		}
		fmt.Fprintf(w, "%s\n", strings.TrimRight(mdSection(s.Markdown), "\n"))
	}
}

// budgetedSections is the number of sections report.md may leave out.
func budgetedSections(r *Report) int {
	n := 0
	for _, s := range r.Sections {
		if s.Kind != KindForgetting {
			n++
		}
	}
	return n
}

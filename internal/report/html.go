package report

import (
	"bytes"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/stats"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// sectionMarkdown renders report sections (training curves, leakage…),
// which their packages write as GitHub-flavoured Markdown. It must never be
// given html.WithUnsafe: raw HTML is then left out and links to javascript:
// and the like are emptied. Sections are also passed through mdSection first,
// as in report.md, so raw HTML from data shows as text rather than vanishing.
var sectionMarkdown = goldmark.New(goldmark.WithExtensions(extension.GFM))

type htmlSection struct {
	Title string
	Body  template.HTML
	Plot  template.URL
}

//go:embed assets/report.html.tmpl
var assets embed.FS

// The template escapes every value by context (html/template); the text
// function also drops terminal escapes and control characters (plainText).
// Strings computed here are passed through plainText before they get there,
// and the plots (svg.go) escape their text themselves.
// It is parsed on first use, not at init, which every command would pay for
// (issue 15).
var htmlTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{"text": plainText}).ParseFS(assets, "assets/report.html.tmpl"))
})

type htmlRow struct {
	Metric, Arrow, DirTitle string
	Cells                   []string
	HasCmp                  bool
	Delta, Class            string
	Test, P, PAdj           string
	Effect, MDE, WTL        string
}

type htmlGate struct {
	Expr, Status, Class, Value, Interval, Reason string
}

type htmlDist struct {
	Plot template.HTML
}

type htmlSlice struct {
	Name, By, Metric string
	Plot             template.HTML
	Disparity        []string
}

type htmlExample struct {
	ID, Metric, Prompt, Reference string
	Baseline, Candidate           string
	BaseScore, CandScore, Class   string
}

type htmlExampleGroup struct {
	Metric, Title string
	Items         []htmlExample
}

type htmlTask struct {
	Name, Type, Path, Fingerprint, Primary string
	Items                                  int
	Models                                 []string
	HasCmp                                 bool
	BaseName, CandName                     string
	Rows                                   []htmlRow
	Failures                               []string
	Dists                                  []template.HTML
	Slices                                 []htmlSlice
	Examples                               []htmlExampleGroup
}

// HTML writes report.html: one self-contained page (inline CSS and inline
// SVG; no script, no font, no image or style from anywhere else, so it opens
// offline and sends nothing). From the top: the verdict with every gate, the
// warnings, a forest plot of every compared metric's delta, the models, and
// per task its metric table, score distributions, slices and the items the
// candidate lost or flipped, shown in full; then the run's sections.
func HTML(w io.Writer, r *Report) error {
	title := plainText(r.Plan.Name)
	if title == "" {
		title = "tunecheck run"
	}
	data := struct {
		R                        *Report
		Title, PlanHash, Verdict string
		VerdictClass, GateCounts string
		Conf                     int
		Gates                    []htmlGate
		Warnings                 []string
		Forest                   template.HTML
		ForestBCa                bool
		Tasks                    []htmlTask
		Sections                 []htmlSection
	}{R: r, Title: title, PlanHash: plainText(shortFP(r.Plan.Hash)), Verdict: plainText(strings.ToUpper(string(r.Verdict))),
		VerdictClass: verdictClass(r.Verdict), GateCounts: gateCounts(r.Gates), Conf: int(math.Round(r.Bootstrap.Confidence * 100))}
	for _, g := range r.Gates {
		data.Gates = append(data.Gates, htmlGateRow(g))
	}
	for _, s := range r.Warnings {
		data.Warnings = append(data.Warnings, plainText(s))
	}
	var forest []forestRow
	for _, t := range r.allTasks() {
		ht := htmlTask{Name: plainText(t.Name), Type: plainText(t.TypeLabel()), Path: plainText(t.Dataset.Path), Fingerprint: plainText(t.Dataset.Fingerprint), Items: t.Items, HasCmp: t.Comparison != nil, Primary: plainText(t.Primary)}
		models := t.models()
		for _, m := range models {
			ht.Models = append(ht.Models, plainText(m))
		}
		ht.BaseName, ht.CandName = "baseline", "candidate"
		if c := t.Comparison; c != nil {
			ht.BaseName, ht.CandName = plainText(c.Baseline), plainText(c.Candidate)
		}
		for _, m := range t.Metrics {
			row := metricRow(&t, m, models)
			ht.Rows = append(ht.Rows, row)
			if c := t.Comparison; c != nil {
				if p, ok := c.Metrics[m]; ok {
					fr := forestRow{Task: t.Name, Metric: m, Direction: t.direction(m), P: p, Gates: deltaGates(r.Gates, t.Name, m)}
					forest = append(forest, fr)
					data.ForestBCa = data.ForestBCa || hasBCa(p)
				}
			}
		}
		for _, m := range t.PerModel {
			if line := countsLine(m, plainText); line != "" {
				ht.Failures = append(ht.Failures, line)
			}
		}
		if line := excludedLine(t.Comparison); line != "" {
			ht.Failures = append(ht.Failures, line)
		}
		if len(t.Tasks) > 0 {
			ht.Type = fmt.Sprintf("group of %d tasks", len(t.Tasks))
		}
		ht.Dists = distributions(&t, r.Compare)
		ht.Slices = slicePlots(&t, r.Compare)
		ht.Examples = exampleGroups(&t)
		data.Tasks = append(data.Tasks, ht)
	}
	if len(forest) > 0 {
		data.Forest = forestPlot(forest)
	}
	for _, sec := range r.Sections {
		var b bytes.Buffer
		if err := sectionMarkdown.Convert([]byte(mdSection(sec.Markdown)), &b); err != nil {
			return fmt.Errorf("rendering section %q: %w", sec.Title, err)
		}
		// goldmark's output is HTML it escaped itself, from Markdown without raw HTML.
		hs := htmlSection{Title: plainText(sec.Title), Body: template.HTML(b.String())}
		if sec.SVG != "" {
			// The plot tunecheck drew, embedded as an image (a data: URL in an
			// <img> runs no script), so the page needs no file beside it.
			hs.Plot = template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(sec.SVG)))
		}
		data.Sections = append(data.Sections, hs)
	}
	return htmlTmpl().Execute(w, data)
}

// verdictClass is the banner's CSS class; an unknown verdict (a newer or a
// hand-edited results.json) is shown in grey rather than as a pass.
func verdictClass(v gate.Status) string {
	switch v {
	case gate.Pass, gate.Fail, gate.Inconclusive, gate.Error:
		return string(v)
	}
	return "unknown"
}

// gateCounts says how many gates there were and how they came out.
func gateCounts(gs []gate.Result) string {
	if len(gs) == 0 {
		return "no gates were set"
	}
	n := map[gate.Status]int{}
	for _, g := range gs {
		n[g.Status]++
	}
	var parts []string
	known := 0
	for _, s := range []struct {
		st   gate.Status
		word string
	}{{gate.Pass, "passed"}, {gate.Fail, "failed"}, {gate.Inconclusive, "inconclusive"}, {gate.Error, "could not be decided"}} {
		if n[s.st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[s.st], s.word))
			known += n[s.st]
		}
	}
	if other := len(gs) - known; other > 0 {
		parts = append(parts, fmt.Sprintf("%d with another status", other))
	}
	return fmt.Sprintf("%d gate%s: %s", len(gs), plural(len(gs)), strings.Join(parts, ", "))
}

func htmlGateRow(g gate.Result) htmlGate {
	row := htmlGate{Expr: plainText(g.Expr), Status: plainText(string(g.Status)), Class: verdictClass(g.Status), Value: "—", Interval: "—", Reason: plainText(g.Reason)}
	if g.Status != gate.Error {
		row.Value = num(g.Value)
	}
	if g.Low != 0 || g.High != 0 {
		row.Interval = fmt.Sprintf("[%s, %s]", num(g.Low), num(g.High))
	}
	return row
}

// deltaGates are the gates on task.metric's delta or its interval's ends.
func deltaGates(gs []gate.Result, task, metric string) []gate.Result {
	var out []gate.Result
	for _, g := range gs {
		// A gate on one slice group's delta has a longer path than this; it
		// belongs to that group, not to the task's row.
		whole := g.Path() == g.Task+"."+g.Metric+"."+g.Field
		if whole && g.Task == task && g.Metric == metric && (g.Field == "delta" || strings.HasPrefix(g.Field, "delta.")) {
			out = append(out, g)
		}
	}
	return out
}

// metricRow is one line of a task's metric table. Fields an older report
// lacks (test, effect size, MDE) show as a dash.
func metricRow(t *Task, m string, models []string) htmlRow {
	dir := t.direction(m)
	row := htmlRow{Metric: plainText(m), HasCmp: t.Comparison != nil, Delta: "—", Test: "—", P: "—", PAdj: "—", Effect: "—", MDE: "—", WTL: "—"}
	row.Arrow = map[string]string{"higher": "↑", "lower": "↓", "neutral": "·"}[dir]
	row.DirTitle = plainText(directionWord(dir) + " is better")
	if info, ok := t.MetricInfo[m]; ok && info.Corpus {
		row.DirTitle += "; a corpus metric"
	}
	for _, mod := range models {
		s, ok := t.score(mod, m)
		row.Cells = append(row.Cells, summaryCell(s, ok))
	}
	c := t.Comparison
	if c == nil {
		return row
	}
	p, ok := c.Metrics[m]
	if !ok || p.N == 0 {
		row.Class = "unclear"
		return row
	}
	row.Delta, row.Class, row.WTL = deltaCell(p, dir), deltaClass(p, dir), wtl(p, dir, " / ")
	// the same cells as report.md and the terminal write
	row.Test, row.P, row.PAdj = plainText(testCell(p)), rawP(p), adjustedP(p)
	row.Effect, row.MDE = plainText(effectCell(p)), mdeCell(p)
	return row
}

// plotModels are the models a task's plots show: baseline then candidate on
// a compared run, otherwise every model in the task.
func plotModels(t *Task, cmp *CompareInfo) []string {
	if cmp != nil && t.Comparison != nil {
		return []string{t.Comparison.Baseline, t.Comparison.Candidate}
	}
	return t.models()
}

// distributions draws, per metric (the primary first), each model's
// per-item scores from the task's records; items not scored are left out.
func distributions(t *Task, cmp *CompareInfo) []template.HTML {
	if len(t.Records) == 0 {
		return nil
	}
	models := plotModels(t, cmp)
	metrics := slices.Clone(t.Metrics)
	if i := slices.Index(metrics, t.Primary); i > 0 {
		metrics = append([]string{t.Primary}, slices.Delete(metrics, i, i+1)...)
	}
	var out []template.HTML
	for _, m := range metrics {
		var series []histSeries
		any := false
		for i, mod := range models {
			s := histSeries{Model: mod, Colour: modelColours[i%len(modelColours)]}
			for _, rec := range t.Records {
				o, ok := rec.Outcomes[mod]
				if !ok || !o.Scored() {
					continue
				}
				if v, ok := o.Scores[m]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
					s.Values = append(s.Values, v)
				}
			}
			any = any || len(s.Values) > 0
			series = append(series, s)
		}
		if any {
			out = append(out, histogram(m, series))
		}
	}
	return out
}

// slicePlots draws each slice's groups on the task's primary metric (the
// first metric when none is set), with the disparity across groups.
func slicePlots(t *Task, cmp *CompareInfo) []htmlSlice {
	metric := t.primary()
	if metric == "" {
		return nil
	}
	models := plotModels(t, cmp)
	dir := t.direction(metric)
	var out []htmlSlice
	for _, s := range t.Slices {
		hs := htmlSlice{Name: plainText(s.Name), By: plainText(s.By), Metric: plainText(metric)}
		var bars []sliceBar
		for _, g := range s.Groups {
			b := sliceBar{Value: g.Value, Items: g.Items}
			for _, mod := range models {
				var sum stats.Summary
				for _, pm := range g.PerModel {
					if pm.Model == mod {
						sum = pm.Metrics[metric]
					}
				}
				b.Means = append(b.Means, sum)
			}
			if g.Comparison != nil {
				p := g.Comparison.Metrics[metric]
				b.Delta = &p
			}
			bars = append(bars, b)
		}
		if len(bars) > 0 {
			hs.Plot = sliceBars(metric, dir, models, bars)
		}
		for _, k := range t.disparityMetrics(&s) {
			hs.Disparity = append(hs.Disparity, plainText(disparityLine(k, s.Disparity[k], t.direction(k), plainText)))
		}
		out = append(out, hs)
	}
	return out
}

// exampleGroups puts a task's worst and flipped items together by metric
// (in the task's metric order) and then by kind: worst, regressed, fixed.
func exampleGroups(t *Task) []htmlExampleGroup {
	type key struct{ metric, kind string }
	byKey := map[key][]Example{}
	var metrics []string
	add := func(e Example, kind string) {
		if e.Kind != "" {
			kind = e.Kind
		}
		k := key{e.Metric, kind}
		byKey[k] = append(byKey[k], e)
		if !slices.Contains(metrics, e.Metric) {
			metrics = append(metrics, e.Metric)
		}
	}
	for _, e := range t.Worst {
		add(e, "worst")
	}
	for _, e := range t.Flipped {
		add(e, "flipped")
	}
	slices.SortStableFunc(metrics, func(a, b string) int {
		ia, ib := slices.Index(t.Metrics, a), slices.Index(t.Metrics, b)
		if ia < 0 {
			ia = len(t.Metrics)
		}
		if ib < 0 {
			ib = len(t.Metrics)
		}
		return ia - ib
	})
	titles := map[string]string{
		"worst":     "where the candidate lost most",
		"regressed": "regressed: right → wrong",
		"fixed":     "fixed: wrong → right",
		"flipped":   "flipped",
	}
	kinds := []string{"worst", "regressed", "fixed", "flipped"}
	for k := range byKey {
		if !slices.Contains(kinds, k.kind) {
			kinds = append(kinds, k.kind)
		}
	}
	slices.Sort(kinds[4:])
	var out []htmlExampleGroup
	for _, m := range metrics {
		dir := t.direction(m)
		for _, kind := range kinds {
			es := byKey[key{m, kind}]
			if len(es) == 0 {
				continue
			}
			title := titles[kind]
			if title == "" {
				title = kind
			}
			g := htmlExampleGroup{Metric: plainText(m), Title: plainText(fmt.Sprintf("%s (%d)", title, len(es)))}
			for _, e := range es {
				g.Items = append(g.Items, htmlExample{
					ID: plainText(e.ID), Metric: plainText(e.Metric), Prompt: plainText(e.Prompt), Reference: plainText(strings.Join(e.References, "\n— or —\n")),
					Baseline: plainText(e.Baseline), Candidate: plainText(e.Candidate),
					BaseScore: num(e.BaselineScore), CandScore: num(e.CandidateScore),
					Class: exampleClass(e.CandidateScore-e.BaselineScore, dir),
				})
			}
			out = append(out, g)
		}
	}
	return out
}

// exampleClass colours one item's score change by the metric's direction.
func exampleClass(d float64, dir string) string {
	switch {
	case dir == "neutral":
		return "neutral"
	case d == 0:
		return "unclear"
	case (d > 0) == (dir != "lower"):
		return "better"
	}
	return "worse"
}

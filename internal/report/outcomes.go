package report

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/tunecheck/tunecheck/internal/stats"
)

// direction is the metric's direction (higher when unknown, as in v1 reports).
func (t *Task) direction(metric string) string {
	if m, ok := t.MetricInfo[metric]; ok && m.Direction != "" {
		return m.Direction
	}
	return "higher"
}

// mark says whether a delta's interval shows a change, and whether that
// change is better (▲) or worse (▼) by the metric's direction; a neutral
// metric's change (length) is marked △/▽, not judged.
func mark(p stats.Paired, direction string) (string, string) {
	if p.N == 0 {
		return "", ""
	}
	up, down := p.CI.Low > 0, p.CI.High < 0
	if !up && !down {
		return "", ""
	}
	switch direction {
	case "lower":
		up, down = down, up
	case "neutral":
		if up {
			return " △", "changed"
		}
		return " ▽", "changed"
	}
	if up {
		return " ▲", "up"
	}
	return " ▼", "down"
}

// deltaCell writes a delta with its interval and mark.
func deltaCell(p stats.Paired, direction string) string {
	if p.N == 0 {
		return "—"
	}
	m, _ := mark(p, direction)
	return fmt.Sprintf("%s [%s, %s]%s", signed(p.Delta), signed(p.CI.Low), signed(p.CI.High), m)
}

// wtl is wins/ties/losses, or — for a neutral metric, where neither side wins.
func wtl(p stats.Paired, direction, sep string) string {
	if direction == "neutral" || p.N == 0 {
		return "—"
	}
	return fmt.Sprintf("%d%s%d%s%d", p.Wins, sep, p.Ties, sep, p.Losses)
}

// countsLine says what a model's numbers on a task rest on when not every
// item was scored: failures, empty outputs and items without a reference,
// each counted in its own category; "" when every item was scored.
func countsLine(m ModelScore, text func(string) string) string {
	if m.Failed == 0 && m.Empty == 0 && m.NoReference == 0 && m.JudgeFailed == 0 {
		return ""
	}
	items := m.Items
	if items == 0 { // a v1 report
		items = m.Scored + m.Failed
	}
	var parts []string
	if m.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", m.Failed))
	}
	if m.Empty > 0 {
		parts = append(parts, fmt.Sprintf("%d empty output%s (not scored)", m.Empty, plural(m.Empty)))
	}
	if m.NoReference > 0 {
		parts = append(parts, fmt.Sprintf("%d without a reference (reference-based metrics skipped)", m.NoReference))
	}
	if m.JudgeFailed > 0 {
		parts = append(parts, fmt.Sprintf("%d without a judge or classifier verdict (those metrics skipped)", m.JudgeFailed))
	}
	s := fmt.Sprintf("%s: %d of %d items scored — %s", text(m.Model), m.Scored-m.NoReference, items, strings.Join(parts, ", "))
	for _, e := range m.Errors {
		if e.Message != "" && e.Message != StatusEmpty {
			s += fmt.Sprintf("; first error: %s (%d×)", text(e.Message), e.Count)
			break
		}
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// excludedLine explains the items left out of a comparison.
func excludedLine(c *Comparison) string {
	if c == nil || c.Excluded == 0 {
		return ""
	}
	return fmt.Sprintf("%d item%s left out of the comparison (failed or empty on at least one side); %d pairs", c.Excluded, plural(c.Excluded), c.Pairs)
}

// allTasks lists the tasks, then the groups (reported like tasks).
func (r *Report) allTasks() []Task {
	return append(append([]Task{}, r.Tasks...), r.Groups...)
}

// testCell names the paired test behind a p-value; — in reports written
// before the test was recorded.
func testCell(p stats.Paired) string {
	if p.N == 0 || p.Test == "" {
		return "—"
	}
	return p.Test
}

// rawP is the test's own p-value, before Holm's correction.
func rawP(p stats.Paired) string {
	if p.N == 0 {
		return "—"
	}
	return pvalue(p.PValue)
}

// adjustedP is the Holm-adjusted p-value.
func adjustedP(p stats.Paired) string {
	if p.N == 0 {
		return "—"
	}
	return pvalue(p.PAdjusted)
}

// effectCell writes the standardised effect size: "d_z +0.42" or
// "OR 2.50 [1.20, 5.10]"; — when the report has none.
func effectCell(p stats.Paired) string {
	e := p.Effect
	if p.N == 0 || e == nil || e.Name == "" {
		return "—"
	}
	name := e.Name
	switch name {
	case "cohen_dz":
		name = "d_z"
	case "odds_ratio":
		name = "OR"
	}
	if math.IsNaN(e.Value) || math.IsInf(e.Value, 0) {
		return name + " —"
	}
	s := fmt.Sprintf("%s %s", name, short(e.Value))
	if e.Name == "cohen_dz" && e.Value > 0 {
		s = fmt.Sprintf("%s +%s", name, short(e.Value))
	}
	if e.CI != nil {
		s += fmt.Sprintf(" [%s, %s]", short(e.CI.Low), short(e.CI.High))
	}
	return s
}

// mdeCell writes the minimum detectable effect, ±0.071; — when undefined
// (0, as in reports written before it was computed).
func mdeCell(p stats.Paired) string {
	if p.N == 0 || p.MDE == 0 || math.IsNaN(p.MDE) || math.IsInf(p.MDE, 0) {
		return "—"
	}
	return "±" + short(math.Abs(p.MDE))
}

// short writes x with three significant digits and no exponent below
// 10^15: 0.071, 12.5, 1230.
func short(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	v, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 3, 64), 64)
	if err != nil || math.Abs(v) >= 1e15 || (v != 0 && math.Abs(v) < 1e-4) {
		return strconv.FormatFloat(x, 'g', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// candidateOf is the model whose scores a slice table shows: the
// candidate of a compared run, else the last (on a one-model run, only)
// model.
func (r *Report) candidateOf(t *Task) string {
	if r.Compare != nil {
		return r.Compare.Candidate
	}
	if len(t.PerModel) > 0 {
		return t.PerModel[len(t.PerModel)-1].Model
	}
	return ""
}

// primary is the metric slices and examples are shown for: the task's
// primary metric, else its first.
func (t *Task) primary() string {
	if t.Primary != "" {
		return t.Primary
	}
	if len(t.Metrics) > 0 {
		return t.Metrics[0]
	}
	return ""
}

// groupScore is one model's summary of a metric in a slice group.
func (g *SliceGroup) score(model, metric string) (stats.Summary, bool) {
	for _, m := range g.PerModel {
		if m.Model == model {
			s, ok := m.Metrics[metric]
			return s, ok
		}
	}
	return stats.Summary{}, false
}

// hasComparison reports whether any group of s was compared.
func (s *Slice) hasComparison() bool {
	for _, g := range s.Groups {
		if g.Comparison != nil {
			return true
		}
	}
	return false
}

// disparityMetrics are the metrics of s's disparity, in the task's metric
// order, then any others sorted.
func (t *Task) disparityMetrics(s *Slice) []string {
	var out []string
	for _, m := range t.Metrics {
		if _, ok := s.Disparity[m]; ok {
			out = append(out, m)
		}
	}
	var rest []string
	for m := range s.Disparity {
		if !slices.Contains(out, m) {
			rest = append(rest, m)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// disparityLine says how far apart a slice's groups are on one metric;
// text escapes the group names for the format.
func disparityLine(metric string, d Disparity, direction string, text func(string) string) string {
	worst := text(d.Worst)
	if d.MinValue.N > 0 {
		worst += " (" + summaryCell(d.MinValue, true) + ")"
	}
	s := fmt.Sprintf("disparity on %s: worst group %s, best %s, gap %s", text(metric), worst, text(d.Best), num(d.Gap))
	if d.Ratio > 0 && !math.IsNaN(d.Ratio) && !math.IsInf(d.Ratio, 0) {
		s += ", ratio " + num(d.Ratio)
	}
	if d.MinDeltaGroup != "" && d.MinDelta != nil {
		s += fmt.Sprintf("; smallest delta in %s: %s", text(d.MinDeltaGroup), deltaCell(*d.MinDelta, direction))
		if d.DeltaGap != 0 {
			s += ", " + num(d.DeltaGap) + " below the largest"
		}
	}
	return s
}

// exampleList is one list of items a task shows side by side: the worst
// items on one metric, the regressed ones or the fixed ones.
type exampleList struct {
	Kind, Metric string
	Items        []Example
}

// exampleLists groups a task's examples for reading: Worst by metric (in
// the task's metric order, then any others sorted), then the regressed
// items (right→wrong), then the fixed ones (wrong→right).
func (t *Task) exampleLists() []exampleList {
	var out []exampleList
	byMetric := map[string][]Example{}
	var order []string
	for _, e := range t.Worst {
		if _, ok := byMetric[e.Metric]; !ok {
			order = append(order, e.Metric)
		}
		byMetric[e.Metric] = append(byMetric[e.Metric], e)
	}
	rank := func(m string) int {
		if i := slices.Index(t.Metrics, m); i >= 0 {
			return i
		}
		return len(t.Metrics)
	}
	sort.SliceStable(order, func(i, j int) bool {
		ri, rj := rank(order[i]), rank(order[j])
		if ri != rj {
			return ri < rj
		}
		return ri == len(t.Metrics) && order[i] < order[j]
	})
	for _, m := range order {
		out = append(out, exampleList{Kind: "worst", Metric: m, Items: byMetric[m]})
	}
	for _, kind := range []string{"regressed", "fixed"} {
		var items []Example
		for _, e := range t.Flipped {
			if e.Kind == kind {
				items = append(items, e)
			}
		}
		if len(items) > 0 {
			out = append(out, exampleList{Kind: kind, Items: items})
		}
	}
	return out
}

// flipLines says, per pass/fail metric (McNemar's test), how many items
// went right→wrong and wrong→right in all — the comparison's losses and
// wins — and how many of them the reports show.
func (t *Task) flipLines() []string {
	if t.Comparison == nil {
		return nil
	}
	var out []string
	for _, m := range t.Metrics {
		p, ok := t.Comparison.Metrics[m]
		if !ok || !t.MetricInfo[m].Binary || p.N == 0 {
			continue
		}
		shown := 0
		for _, e := range t.Flipped {
			if e.Metric == m {
				shown++
			}
		}
		out = append(out, fmt.Sprintf("flipped on %s: %d right→wrong, %d wrong→right (%d shown in report.md)", m, p.Losses, p.Wins, shown))
	}
	return out
}

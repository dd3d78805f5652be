package report

import (
	"fmt"
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
	if m.Failed == 0 && m.Empty == 0 && m.NoReference == 0 {
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

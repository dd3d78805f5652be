package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/stats"
)

// Renderer writes a report in one format.
type Renderer func(w io.Writer, r *Report) error

// Renderers maps format names to renderers.
var Renderers = map[string]Renderer{
	"terminal": Terminal,
	"md":       Markdown,
	"json":     JSON,
	"junit":    JUnit,
	"html":     HTML,
}

// JSON writes results.json: indented, keys sorted, a trailing newline.
// encoding/json escapes <, > and &, C0 control characters and invalid UTF-8;
// C1 control characters are escaped here as well, since results.json may be
// printed to a terminal, and some terminals obey U+009B as they do ESC [.
//
// Each task's per-item records are written one record to a line (the rest
// indented as usual): a 100,000-item run's results.json stays readable with
// grep and line tools, and a third of the size of fully indented records.
func JSON(w io.Writer, r *Report) error {
	short, recs := r.SplitRecords()
	b, err := json.MarshalIndent(short, "", "  ")
	if err != nil {
		return err
	}
	if len(recs) > 0 {
		if b, err = spliceRecords(b, r.Tasks); err != nil {
			return err
		}
	}
	_, err = w.Write(append(escapeC1(b), '\n'))
	return err
}

// spliceRecords inserts each task's records, one compact record a line, as
// the last key of its object in the indented report b. MarshalIndent lays
// out the tasks array as `  "tasks": [` with each task object closed by a
// line `    }` or `    },`; Records is Task's last field.
func spliceRecords(b []byte, tasks []Task) ([]byte, error) {
	lines := bytes.Split(b, []byte("\n"))
	out := make([]byte, 0, len(b)+len(tasks)*64)
	in, ti := false, 0
	for _, line := range lines {
		switch {
		case !in && string(line) == `  "tasks": [`:
			in = true
		case in && (string(line) == "    }" || string(line) == "    },"):
			if ti < len(tasks) && len(tasks[ti].Records) > 0 {
				out = bytes.TrimRight(out, "\n")
				out = append(out, ",\n      \"records\": ["...)
				for k, rec := range tasks[ti].Records {
					rb, err := json.Marshal(rec)
					if err != nil {
						return nil, err
					}
					out = append(out, "\n        "...)
					out = append(out, rb...)
					if k < len(tasks[ti].Records)-1 {
						out = append(out, ',')
					}
				}
				out = append(out, "\n      ]\n"...)
			}
			ti++
		case in && string(line) == "  ],", in && string(line) == "  ]":
			in = false
		}
		out = append(out, line...)
		out = append(out, '\n')
	}
	if ti != len(tasks) {
		return nil, fmt.Errorf("writing results.json: found %d task objects for %d tasks", ti, len(tasks))
	}
	return bytes.TrimSuffix(out, []byte("\n")), nil
}

// escapeC1 writes U+0080–U+009F in JSON text b as \u escapes. In the UTF-8
// that encoding/json writes, they are the bytes C2 80–C2 9F, which can only
// occur inside strings.
func escapeC1(b []byte) []byte {
	if !bytes.Contains(b, []byte{0xc2}) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == 0xc2 && i+1 < len(b) && b[i+1] >= 0x80 && b[i+1] <= 0x9f {
			out = fmt.Appendf(out, `\u%04x`, b[i+1])
			i++
			continue
		}
		out = append(out, b[i])
	}
	return out
}

func num(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	a := math.Abs(x)
	switch {
	case a != 0 && a < 0.001:
		return fmt.Sprintf("%.2e", x)
	case a >= 1000:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.4f", x)
	}
}

func signed(x float64) string {
	s := num(x)
	if x > 0 {
		return "+" + s
	}
	return s
}

func summaryCell(s stats.Summary, ok bool) string {
	if !ok || s.N == 0 {
		return "—"
	}
	return fmt.Sprintf("%s [%s, %s]", num(s.Mean), num(s.CI.Low), num(s.CI.High))
}

// pvalue prints a p-value as computed (exact tests, never a Monte Carlo
// floor): three decimals from 0.001 on, two significant digits below, and
// "<1e-16" under the precision of the arithmetic behind it.
func pvalue(p float64) string {
	switch {
	case p < 1e-16:
		return "<1e-16"
	case p < 0.001:
		return fmt.Sprintf("%.1e", p)
	}
	return fmt.Sprintf("%.3f", p)
}

func (t *Task) score(model, metric string) (stats.Summary, bool) {
	for _, m := range t.PerModel {
		if m.Model == model {
			s, ok := m.Metrics[metric]
			return s, ok
		}
	}
	return stats.Summary{}, false
}

func (t *Task) models() []string {
	out := make([]string, len(t.PerModel))
	for i, m := range t.PerModel {
		out[i] = m.Model
	}
	return out
}

// Terminal writes the summary printed after a run.
func Terminal(w io.Writer, r *Report) error {
	conf := int(math.Round(r.Bootstrap.Confidence * 100))
	for _, t := range r.allTasks() {
		if len(t.Tasks) > 0 {
			fmt.Fprintf(w, "\n%s  (group of %d tasks, %d items)\n", termText(t.Name), len(t.Tasks), t.Items)
		} else {
			fmt.Fprintf(w, "\n%s  (%s, %d items, %s)\n", termText(t.Name), termText(t.TypeLabel()), t.Items, termText(shortFP(t.Dataset.Fingerprint)))
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		models := t.models()
		hdr := []string{"metric"}
		for _, m := range models {
			hdr = append(hdr, termText(m))
		}
		if t.Comparison != nil {
			hdr = append(hdr, fmt.Sprintf("delta [%d%% CI]", conf), "test", "p", "p (Holm)", "effect", "MDE", "W/T/L", "n")
		}
		fmt.Fprintln(tw, strings.Join(hdr, "\t"))
		for _, m := range t.Metrics {
			row := []string{termText(m)}
			for _, mod := range models {
				s, ok := t.score(mod, m)
				row = append(row, summaryCell(s, ok))
			}
			if c := t.Comparison; c != nil {
				p := c.Metrics[m]
				dir := t.direction(m)
				row = append(row, deltaCell(p, dir), termText(testCell(p)), rawP(p), adjustedP(p), termText(effectCell(p)), mdeCell(p), wtl(p, dir, "/"), fmt.Sprint(p.N))
			}
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, m := range t.PerModel {
			if line := countsLine(m, termText); line != "" {
				fmt.Fprintf(w, "  %s\n", line)
			}
		}
		if line := excludedLine(t.Comparison); line != "" {
			fmt.Fprintf(w, "  %s\n", line)
		}
		if err := termSlices(w, r, &t, conf); err != nil {
			return err
		}
		if r.Compare != nil && len(t.Worst) > 0 {
			fmt.Fprintf(w, "  worst items: %d shown in report.md\n", len(t.Worst))
		}
		for _, line := range t.flipLines() {
			fmt.Fprintf(w, "  %s\n", termText(line))
		}
	}
	// How each task was judged (position bias, failures, lengths): a judge's
	// numbers need their caveats beside them, not only in report.md.
	for _, sec := range r.Sections {
		if sec.Kind == KindForgetting {
			termForgetting(w, sec)
			continue
		}
		if sec.Kind != "judge" {
			continue
		}
		fmt.Fprintf(w, "\n%s\n", termText(sec.Title))
		for _, line := range strings.Split(strings.TrimSpace(sec.Markdown), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				fmt.Fprintf(w, "  %s\n", termText(line))
			}
		}
	}
	if len(r.Gates) > 0 {
		fmt.Fprintln(w, "\ngates")
		for _, g := range r.Gates {
			fmt.Fprintf(w, "  %-12s %s — %s\n", termText(strings.ToUpper(string(g.Status))), termText(g.Expr), termText(g.Reason))
		}
	}
	fmt.Fprintf(w, "\nverdict: %s\n", termText(strings.ToUpper(string(r.Verdict))))
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", termText(warn))
	}
	return nil
}

// termSlices writes each slice of t as a short table of the candidate's
// score and the delta on the primary metric per value, then the slice's
// disparity on that metric.
func termSlices(w io.Writer, r *Report, t *Task, conf int) error {
	metric, cand := t.primary(), r.candidateOf(t)
	dir := t.direction(metric)
	for si := range t.Slices {
		s := &t.Slices[si]
		fmt.Fprintf(w, "  slice %s (%s)\n", termText(s.Name), termText(metric))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		cmp := s.hasComparison()
		hdr := []string{"    " + termText(s.Name), "n", termText(cand)}
		if cmp {
			hdr = append(hdr, fmt.Sprintf("delta [%d%% CI]", conf))
		}
		fmt.Fprintln(tw, strings.Join(hdr, "\t"))
		for _, g := range s.Groups {
			sum, ok := g.score(cand, metric)
			row := []string{"    " + termText(g.Value), fmt.Sprint(g.Items), summaryCell(sum, ok)}
			if cmp {
				cell := "—"
				if g.Comparison != nil {
					cell = deltaCell(g.Comparison.Metrics[metric], dir)
				}
				row = append(row, cell)
			}
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		// The primary metric's disparity only: report.md has every metric's.
		if d, ok := s.Disparity[metric]; ok {
			fmt.Fprintf(w, "    %s\n", disparityLine(metric, d, dir, termText))
		}
	}
	return nil
}

func shortFP(fp string) string {
	if len(fp) > 19 {
		return fp[:19]
	}
	return fp
}

// Markdown writes report.md, sized for a pull-request comment or a step
// summary: within GitHubLimit characters (see MarkdownLimit).
func Markdown(w io.Writer, r *Report) error {
	return MarkdownLimit(w, r, GitHubLimit)
}

// mdFit says how much of a report a Markdown document holds; MarkdownLimit
// picks it. A count below zero means all.
type mdFit struct {
	clip     int // example texts are clipped to this many characters
	examples int // examples kept, the first by mdPlan's rank
	slices   int // slice tables kept, the first by mdPlan's rank
	sections int // sections kept, the first ones
	limit    int // the limit that asked for less, for the note; 0 when none did
}

// mdPlan ranks the parts MarkdownLimit may leave out. Examples are ranked
// round robin across every list of every task (each list's first item, then
// each list's second…), so that fewer examples means fewer of each kind
// rather than none of the last task's; slice tables likewise.
type mdPlan struct {
	tasks      []Task
	lists      [][]exampleList // per task
	exRank     [][][]int       // per task, list, item
	sliceRank  [][]int         // per task, slice
	exTotal    int
	sliceTotal int
}

func newMDPlan(r *Report) *mdPlan {
	p := &mdPlan{tasks: r.allTasks()}
	var exLens, sliceLens [][]int
	for _, t := range p.tasks {
		var lists []exampleList
		if r.Compare != nil {
			lists = t.exampleLists()
		}
		p.lists = append(p.lists, lists)
		lens := make([]int, len(lists))
		for i, l := range lists {
			lens[i] = len(l.Items)
		}
		exLens = append(exLens, lens)
		sliceLens = append(sliceLens, []int{len(t.Slices)})
	}
	p.exRank, p.exTotal = roundRobin(exLens)
	// Each task's slices are one list: every task's first slice, then every
	// task's second, and so on.
	sr, n := roundRobin(sliceLens)
	for _, ranks := range sr {
		p.sliceRank = append(p.sliceRank, ranks[0])
	}
	p.sliceTotal = n
	return p
}

// roundRobin ranks the items of lists (lens[g][l] items in list l of group
// g): every list's first item, in order, then every list's second, and so on.
func roundRobin(lens [][]int) ([][][]int, int) {
	ranks := make([][][]int, len(lens))
	longest := 0
	for g, ls := range lens {
		ranks[g] = make([][]int, len(ls))
		for l, n := range ls {
			ranks[g][l] = make([]int, n)
			longest = max(longest, n)
		}
	}
	next := 0
	for i := range longest {
		for g, ls := range lens {
			for l, n := range ls {
				if i < n {
					ranks[g][l][i] = next
					next++
				}
			}
		}
	}
	return ranks, next
}

// note says what f left out, or "" when nothing was.
func (p *mdPlan) note(f mdFit, sectionTotal int) string {
	if f.limit <= 0 {
		return ""
	}
	var parts []string
	if f.clip < maxClip {
		parts = append(parts, fmt.Sprintf("example texts clipped to %s characters", thousands(f.clip)))
	}
	if f.examples >= 0 && f.examples < p.exTotal {
		n := p.exTotal - f.examples
		parts = append(parts, fmt.Sprintf("%s example%s left out", thousands(n), plural(n)))
	}
	if f.slices >= 0 && f.slices < p.sliceTotal {
		n := p.sliceTotal - f.slices
		parts = append(parts, fmt.Sprintf("%s slice table%s left out", thousands(n), plural(n)))
	}
	if f.sections >= 0 && f.sections < sectionTotal {
		n := sectionTotal - f.sections
		parts = append(parts, fmt.Sprintf("%s section%s left out", thousands(n), plural(n)))
	}
	if len(parts) == 0 {
		return ""
	}
	whose := "the"
	if f.limit == GitHubLimit {
		whose = "GitHub's"
	}
	return fmt.Sprintf("… %s to fit %s %s-character limit; results.json and report.html have them all.", strings.Join(parts, "; "), whose, thousands(f.limit))
}

// markdown writes the document that f describes.
func (p *mdPlan) markdown(r *Report, f mdFit) string {
	var b strings.Builder
	w := &b
	conf := int(math.Round(r.Bootstrap.Confidence * 100))
	name := r.Plan.Name
	if name == "" {
		name = "tunecheck run"
	}
	fmt.Fprintf(w, "# %s\n\n", mdText(name))
	fmt.Fprintf(w, "**Verdict: %s**", mdText(strings.ToUpper(string(r.Verdict))))
	if r.Compare != nil {
		fmt.Fprintf(w, " — candidate %s against baseline %s", mdCode(r.Compare.Candidate), mdCode(r.Compare.Baseline))
	}
	fmt.Fprintln(w)
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w, "\n**Warnings**")
		fmt.Fprintln(w)
		for _, warn := range r.Warnings {
			fmt.Fprintf(w, "- ⚠ %s\n", mdText(warn))
		}
	}
	if note := p.note(f, budgetedSections(r)); note != "" {
		fmt.Fprintf(w, "\n> %s\n", mdText(note))
	}
	fmt.Fprintf(w, "\nPlan %s · tunecheck %s · seed %d · %d bootstrap resamples, %d%% intervals (percentile); each metric's p-value is from the paired test named beside it, raw and after Holm's correction across all metrics; MDE is the smallest delta the test detects with 80%% power at α = 0.05.\n",
		mdCode(shortFP(r.Plan.Hash)), mdText(r.ToolVersion), r.Seed, r.Bootstrap.Resamples, conf)
	if len(r.Gates) > 0 {
		fmt.Fprintln(w, "\n## Gates\n\n| status | gate | why |\n|---|---|---|")
		for _, g := range r.Gates {
			fmt.Fprintf(w, "| %s | %s | %s |\n", mdText(strings.ToUpper(string(g.Status))), mdCode(g.Expr), mdText(g.Reason))
		}
	}
	fmt.Fprintln(w, "\n## Models\n\n| model | provider | requests | failed | prompt tokens | completion tokens | latency p50 / p95 (ms) | cost |\n|---|---|---:|---:|---:|---:|---:|---:|")
	for _, m := range r.Models {
		cost := "—"
		if m.Cost != nil {
			cost = fmt.Sprintf("%.4f", *m.Cost)
		}
		id := m.Provider
		if m.Model != "" {
			id += " · " + m.Model
		}
		lat := "—"
		if m.LatencyP50MS > 0 || m.LatencyP95MS > 0 {
			lat = fmt.Sprintf("%.0f / %.0f", m.LatencyP50MS, m.LatencyP95MS)
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %d | %d | %s | %s |\n", mdText(m.Name), mdText(id), m.Requests, m.Failed, m.PromptTokens, m.CompletionTokens, lat, cost)
	}
	mdForgetting(w, r)
	for ti := range p.tasks {
		t := &p.tasks[ti]
		mdTaskHead(w, t)
		mdMetrics(w, t, conf)
		mdNotScored(w, t)
		mdSlices(w, r, t, conf, func(si int) bool { return f.slices < 0 || p.sliceRank[ti][si] < f.slices })
		for li, l := range p.lists[ti] {
			keep := func(i int) bool { return f.examples < 0 || p.exRank[ti][li][i] < f.examples }
			mdExamples(w, r, l, f.clip, keep)
		}
	}
	kept := 0
	for _, s := range r.Sections {
		if s.Kind == KindForgetting {
			continue // written above the tasks, never left out
		}
		if f.sections >= 0 && kept >= f.sections {
			break
		}
		kept++
		fmt.Fprintf(w, "\n## %s\n\n", mdText(s.Title))
		if s.SVGFile != "" {
			fmt.Fprintf(w, "![%s](%s)\n\n", mdText(s.Title), mdLinkTarget(s.SVGFile))
		}
		fmt.Fprintf(w, "%s\n", strings.TrimRight(mdSection(s.Markdown), "\n"))
	}
	return b.String()
}

func mdTaskHead(w io.Writer, t *Task) {
	if len(t.Tasks) > 0 {
		names := make([]string, len(t.Tasks))
		for i, n := range t.Tasks {
			names[i] = mdCode(n)
		}
		fmt.Fprintf(w, "\n## Group %s\n\n%d items pooled from tasks %s.\n\n", mdCode(t.Name), t.Items, strings.Join(names, ", "))
		return
	}
	fmt.Fprintf(w, "\n## Task %s\n\n", mdCode(t.Name))
	sel := ""
	if t.Dataset.Selection != "" {
		sel = ", " + mdText(t.Dataset.Selection)
	}
	if t.Dataset.IDField != "" {
		sel += ", ids from " + mdCode(t.Dataset.IDField)
	}
	fmt.Fprintf(w, "%s, %d items from %s (%d rows%s), fingerprint %s.\n\n", mdText(t.TypeLabel()), t.Items, mdCode(t.Dataset.Path), t.Dataset.Total, sel, mdCode(t.Dataset.Fingerprint))
}

// mdMetrics writes a task's metric table: each model's score, and on a
// compared run the delta with its interval, the test, the raw and the
// Holm-adjusted p-value, the effect size, the MDE and wins/ties/losses.
func mdMetrics(w io.Writer, t *Task, conf int) {
	models := t.models()
	fmt.Fprintf(w, "| metric |")
	for _, m := range models {
		fmt.Fprintf(w, " %s (n) |", mdText(m))
	}
	if t.Comparison != nil {
		fmt.Fprintf(w, " delta [%d%% CI] | test | p | p (Holm) | effect | MDE | wins / ties / losses |", conf)
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, "|---|")
	for range models {
		fmt.Fprint(w, "---:|")
	}
	if t.Comparison != nil {
		fmt.Fprint(w, "---:|---|---:|---:|---:|---:|---:|")
	}
	fmt.Fprintln(w)
	for _, m := range t.Metrics {
		fmt.Fprintf(w, "| %s |", mdText(m))
		for _, mod := range models {
			s, ok := t.score(mod, m)
			fmt.Fprintf(w, " %s (%d) |", summaryCell(s, ok), s.N)
		}
		if c := t.Comparison; c != nil {
			p := c.Metrics[m]
			dir := t.direction(m)
			fmt.Fprintf(w, " %s | %s | %s | %s | %s | %s | %s |", deltaCell(p, dir), mdText(testCell(p)), rawP(p), adjustedP(p), mdText(effectCell(p)), mdeCell(p), wtl(p, dir, " / "))
		}
		fmt.Fprintln(w)
	}
}

func mdNotScored(w io.Writer, t *Task) {
	var fails []string
	for _, m := range t.PerModel {
		if line := countsLine(m, mdText); line != "" {
			fails = append(fails, "- "+line)
			for _, e := range m.Errors {
				items := make([]string, len(e.Items))
				for i, id := range e.Items {
					items[i] = mdText(id)
				}
				fails = append(fails, fmt.Sprintf("  - %d× %s (items: %s)", e.Count, mdText(e.Message), strings.Join(items, ", ")))
			}
		}
	}
	if line := excludedLine(t.Comparison); line != "" {
		fails = append(fails, "- "+line+".")
	}
	if len(fails) > 0 {
		fmt.Fprintf(w, "\n**Not scored** (counted, never scored 0):\n\n%s\n", strings.Join(fails, "\n"))
	}
}

// mdSlices writes a table per slice — each value's items, the candidate's
// score on the primary metric and the delta — and the slice's disparity
// on every metric that has one.
func mdSlices(w io.Writer, r *Report, t *Task, conf int, keep func(int) bool) {
	metric, cand := t.primary(), r.candidateOf(t)
	dir := t.direction(metric)
	left := 0
	for si := range t.Slices {
		s := &t.Slices[si]
		if !keep(si) {
			left++
			continue
		}
		fmt.Fprintf(w, "\n### Slice %s\n\n", mdCode(s.Name))
		if s.By != "" {
			fmt.Fprintf(w, "By %s.\n\n", mdText(s.By))
		}
		cmp := s.hasComparison()
		fmt.Fprintf(w, "| %s | n | %s %s [%d%% CI] |", mdText(s.Name), mdText(cand), mdText(metric), conf)
		if cmp {
			fmt.Fprintf(w, " delta [%d%% CI] |", conf)
		}
		fmt.Fprint(w, "\n|---|---:|---:|")
		if cmp {
			fmt.Fprint(w, "---:|")
		}
		fmt.Fprintln(w)
		for _, g := range s.Groups {
			sum, ok := g.score(cand, metric)
			fmt.Fprintf(w, "| %s | %d | %s |", mdText(g.Value), g.Items, summaryCell(sum, ok))
			if cmp {
				cell := "—"
				if g.Comparison != nil {
					cell = deltaCell(g.Comparison.Metrics[metric], dir)
				}
				fmt.Fprintf(w, " %s |", cell)
			}
			fmt.Fprintln(w)
		}
		if ms := t.disparityMetrics(s); len(ms) > 0 {
			fmt.Fprintln(w)
			for _, m := range ms {
				fmt.Fprintf(w, "- %s.\n", disparityLine(m, s.Disparity[m], t.direction(m), mdText))
			}
		}
	}
	if left > 0 {
		fmt.Fprintf(w, "\n_%d slice table%s of %s left out here; results.json and report.html have them._\n", left, plural(left), mdCode(t.Name))
	}
}

// mdExamples writes one list of items side by side, every one expanded:
// the prompt and references as quotes, then the baseline's and the
// candidate's outputs in a two-column table headed by their scores.
func mdExamples(w io.Writer, r *Report, l exampleList, clipAt int, keep func(int) bool) {
	switch l.Kind {
	case "worst":
		fmt.Fprintf(w, "\n### Where the candidate lost most on %s\n", mdCode(l.Metric))
	case "regressed":
		fmt.Fprintln(w, "\n### Regressed: right → wrong")
	case "fixed":
		fmt.Fprintln(w, "\n### Fixed: wrong → right")
	}
	left := 0
	for i, e := range l.Items {
		if !keep(i) {
			left++
			continue
		}
		fmt.Fprintf(w, "\n#### item %s: %s %s → %s\n\n", mdCode(e.ID), mdText(e.Metric), num(e.BaselineScore), num(e.CandidateScore))
		fmt.Fprintf(w, "**Prompt**\n\n%s\n\n", mdQuote(clip(e.Prompt, clipAt)))
		switch len(e.References) {
		case 0:
		case 1:
			fmt.Fprintf(w, "**Reference**\n\n%s\n\n", mdQuote(clip(e.References[0], clipAt)))
		default:
			fmt.Fprintf(w, "**References** (%d)\n\n", len(e.References))
			for _, ref := range e.References {
				fmt.Fprintf(w, "%s\n\n", mdQuote(clip(ref, clipAt)))
			}
		}
		fmt.Fprintf(w, "| %s (baseline): %s %s | %s (candidate): %s %s |\n|---|---|\n| %s | %s |\n",
			mdText(r.Compare.Baseline), mdText(e.Metric), num(e.BaselineScore),
			mdText(r.Compare.Candidate), mdText(e.Metric), num(e.CandidateScore),
			mdCell(clip(e.Baseline, clipAt)), mdCell(clip(e.Candidate, clipAt)))
	}
	if left > 0 {
		fmt.Fprintf(w, "\n_… %d more item%s left out here; results.json and report.html have them._\n", left, plural(left))
	}
}

// mdCell writes an output in a table cell: each line with mdText, joined
// by <br>, its leading spaces kept as &nbsp; so that code keeps its
// indentation; an empty output shows as (empty).
func mdCell(s string) string {
	s = plainText(s)
	if strings.TrimSpace(s) == "" {
		return "*(empty)*"
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		trimmed := strings.TrimLeft(l, " \t")
		lead := l[:len(l)-len(trimmed)]
		width := strings.Count(lead, " ") + 4*strings.Count(lead, "\t")
		lines[i] = strings.Repeat("&nbsp;", width) + mdText(trimmed)
	}
	return strings.Join(lines, "<br>")
}

// maxClip is how many characters of an example's text a report shows when
// it fits; MarkdownLimit clips further, down to minClip, to fit its limit.
const (
	maxClip = 1500
	minClip = 300
)

// clip shortens s to n characters (runes), marking the cut with " …".
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + " …"
	}
	return s
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

// junitSuite lays out its fields in the order the JUnit schema wants:
// properties, test cases, then system-out.
type junitSuite struct {
	Name       string           `xml:"name,attr"`
	Tests      int              `xml:"tests,attr"`
	Failures   int              `xml:"failures,attr"`
	Errors     int              `xml:"errors,attr"`
	Skipped    int              `xml:"skipped,attr"`
	Properties *junitProperties `xml:"properties,omitempty"`
	Cases      []junitCase      `xml:"testcase"`
	SystemOut  string           `xml:"system-out,omitempty"`
}

type junitProperties struct {
	Property []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
}

// JUnit writes each gate as a test case, so CI systems show gates as tests;
// an inconclusive gate is a skipped test. The verdict and the report's
// warnings are the gates suite's properties and its system-out. Each item
// that failed (an error) or came back empty (a failure) for a model is a
// test case of a second suite, named by its id, in the class
// tunecheck.TASK.MODEL. Text goes through plainText, since CI log viewers
// interpret terminal escapes, and encoding/xml escapes it.
func JUnit(w io.Writer, r *Report) error {
	s := junitSuite{Name: "tunecheck gates"}
	if r.Plan.Name != "" {
		s.Name = "tunecheck " + plainText(r.Plan.Name)
	}
	props := &junitProperties{Property: []junitProperty{{Name: "verdict", Value: plainText(string(r.Verdict))}}}
	s.Properties = props
	var out []string
	for _, warn := range r.Warnings {
		props.Property = append(props.Property, junitProperty{Name: "warning", Value: plainText(warn)})
		out = append(out, "warning: "+plainText(warn))
	}
	s.SystemOut = strings.Join(out, "\n")
	for _, g := range r.Gates {
		reason := plainText(g.Reason)
		c := junitCase{Name: plainText(g.Expr), ClassName: "tunecheck." + plainText(g.Task), SystemOut: reason}
		switch g.Status {
		case gate.Fail:
			c.Failure = &junitMessage{Message: reason}
			s.Failures++
		case gate.Inconclusive:
			c.Skipped = &junitMessage{Message: reason}
			s.Skipped++
		case gate.Error:
			// Undecided because nothing was scored: an error, never a pass.
			c.Error = &junitMessage{Message: reason}
			s.Errors++
		}
		s.Cases = append(s.Cases, c)
	}
	s.Tests = len(s.Cases)
	suites := []junitSuite{s}
	if items := junitItems(r, s.Name); items.Tests > 0 {
		suites = append(suites, items)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: suites}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitItems is a suite of the items that failed or came back empty, from
// the tasks' records: per task in dataset order, per item the models in
// the task's order (then any others, sorted).
func junitItems(r *Report, name string) junitSuite {
	s := junitSuite{Name: name + " items"}
	for _, t := range r.Tasks {
		for _, rec := range t.Records {
			for _, m := range recordModels(&t, rec) {
				o := rec.Outcomes[m]
				c := junitCase{Name: plainText(rec.ID), ClassName: "tunecheck." + plainText(t.Name) + "." + plainText(m)}
				switch o.Status {
				case StatusFailed:
					msg := plainText(o.Error)
					if msg == "" {
						msg = "failed"
					}
					c.Error = &junitMessage{Message: msg}
					s.Errors++
				case StatusEmpty:
					msg := "empty output"
					if o.Error != "" && o.Error != StatusEmpty {
						msg += ": " + plainText(o.Error)
					}
					c.Failure = &junitMessage{Message: msg}
					s.Failures++
				default:
					continue
				}
				s.Cases = append(s.Cases, c)
			}
		}
	}
	s.Tests = len(s.Cases)
	return s
}

// recordModels lists the models of rec's outcomes: the task's models in
// order, then any others sorted.
func recordModels(t *Task, rec Record) []string {
	var out []string
	for _, m := range t.models() {
		if _, ok := rec.Outcomes[m]; ok {
			out = append(out, m)
		}
	}
	var rest []string
	for m := range rec.Outcomes {
		if !slices.Contains(out, m) {
			rest = append(rest, m)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
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

func pvalue(p float64) string {
	if p < 0.001 {
		return "<0.001"
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
			fmt.Fprintf(w, "\n%s  (%s, %d items, %s)\n", termText(t.Name), termText(t.Type), t.Items, termText(shortFP(t.Dataset.Fingerprint)))
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		models := t.models()
		hdr := []string{"metric"}
		for _, m := range models {
			hdr = append(hdr, termText(m))
		}
		if t.Comparison != nil {
			hdr = append(hdr, fmt.Sprintf("delta [%d%% CI]", conf), "p (Holm)", "W/T/L", "n")
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
				row = append(row, deltaCell(p, t.direction(m)), pvalue(p.PAdjusted), wtl(p, t.direction(m), "/"), fmt.Sprint(p.N))
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
	}
	if len(r.Gates) > 0 {
		fmt.Fprintln(w, "\ngates")
		for _, g := range r.Gates {
			fmt.Fprintf(w, "  %-12s %s — %s\n", termText(strings.ToUpper(string(g.Status))), termText(g.Expr), termText(g.Reason))
		}
	}
	fmt.Fprintf(w, "\nverdict: %s\n", termText(strings.ToUpper(string(r.Verdict))))
	return nil
}

func shortFP(fp string) string {
	if len(fp) > 19 {
		return fp[:19]
	}
	return fp
}

// Markdown writes report.md. Every string from the report is written with
// mdText or mdCode (see escape.go), so data cannot add HTML, links or table
// cells to the page.
func Markdown(w io.Writer, r *Report) error {
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
	fmt.Fprintf(w, "\n\nPlan %s · tunecheck %s · seed %d · %d bootstrap resamples, %d%% intervals (percentile), p-values from a paired sign-flip test with Holm's correction across all metrics.\n",
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
	for _, t := range r.allTasks() {
		if len(t.Tasks) > 0 {
			names := make([]string, len(t.Tasks))
			for i, n := range t.Tasks {
				names[i] = mdCode(n)
			}
			fmt.Fprintf(w, "\n## Group %s\n\n%d items pooled from tasks %s.\n\n", mdCode(t.Name), t.Items, strings.Join(names, ", "))
		} else {
			fmt.Fprintf(w, "\n## Task %s\n\n", mdCode(t.Name))
			sel := ""
			if t.Dataset.Selection != "" {
				sel = ", " + mdText(t.Dataset.Selection)
			}
			if t.Dataset.IDField != "" {
				sel += ", ids from " + mdCode(t.Dataset.IDField)
			}
			fmt.Fprintf(w, "%s, %d items from %s (%d rows%s), fingerprint %s.\n\n", mdText(t.Type), t.Items, mdCode(t.Dataset.Path), t.Dataset.Total, sel, mdCode(t.Dataset.Fingerprint))
		}
		models := t.models()
		fmt.Fprintf(w, "| metric |")
		for _, m := range models {
			fmt.Fprintf(w, " %s (n) |", mdText(m))
		}
		if t.Comparison != nil {
			fmt.Fprintf(w, " delta [%d%% CI] | p (Holm) | wins / ties / losses |", conf)
		}
		fmt.Fprintln(w)
		fmt.Fprint(w, "|---|")
		for range models {
			fmt.Fprint(w, "---:|")
		}
		if t.Comparison != nil {
			fmt.Fprint(w, "---:|---:|---:|")
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
				fmt.Fprintf(w, " %s | %s | %s |", deltaCell(p, t.direction(m)), pvalue(p.PAdjusted), wtl(p, t.direction(m), " / "))
			}
			fmt.Fprintln(w)
		}
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
		if len(t.Worst) > 0 && r.Compare != nil {
			fmt.Fprintf(w, "\n### Where the candidate lost most (%s)\n", mdCode(t.Primary))
			for _, e := range t.Worst {
				fmt.Fprintf(w, "\n#### item %s: %s %s → %s\n\n", mdCode(e.ID), mdText(e.Metric), num(e.BaselineScore), num(e.CandidateScore))
				fmt.Fprintf(w, "**Prompt**\n\n%s\n\n", mdQuote(clip(e.Prompt)))
				if len(e.References) > 0 {
					fmt.Fprintf(w, "**Reference**\n\n%s\n\n", mdQuote(clip(e.References[0])))
				}
				fmt.Fprintf(w, "| %s (baseline) | %s (candidate) |\n|---|---|\n| %s | %s |\n", mdText(r.Compare.Baseline), mdText(r.Compare.Candidate), mdText(clip(e.Baseline)), mdText(clip(e.Candidate)))
			}
		}
	}
	for _, s := range r.Sections {
		fmt.Fprintf(w, "\n## %s\n\n", mdText(s.Title))
		if s.SVGFile != "" {
			fmt.Fprintf(w, "![%s](%s)\n\n", mdText(s.Title), mdLinkTarget(s.SVGFile))
		}
		fmt.Fprintf(w, "%s\n", strings.TrimRight(mdSection(s.Markdown), "\n"))
	}
	return nil
}

func clip(s string) string {
	const max = 1500
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + " …"
	}
	return s
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
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
// an inconclusive gate is a skipped test. Text goes through plainText, since
// CI log viewers interpret terminal escapes, and encoding/xml escapes it.
func JUnit(w io.Writer, r *Report) error {
	s := junitSuite{Name: "tunecheck gates"}
	if r.Plan.Name != "" {
		s.Name = "tunecheck " + plainText(r.Plan.Name)
	}
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
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{s}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

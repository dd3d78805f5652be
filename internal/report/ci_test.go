package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/stats"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	goldhtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
)

func TestLength(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"é—±", 3},
		{"😀", 2}, // outside the BMP: a surrogate pair in UTF-16
		{"a😀é\n", 5},
	} {
		if got := Length(c.in); got != c.want {
			t.Errorf("Length(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 65536: "65,536", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// longText is an example's text of n characters that tries Markdown: code
// fences, table pipes, HTML and characters that count twice.
func longText(tag string, i, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d ```go\n| a | b |\n<b>x</b> 😀 ", tag, i)
	for Length(b.String()) < n {
		b.WriteString("lorem ipsum dolor ~~sit~~ *amet* ")
	}
	return string([]rune(b.String())[:n])
}

// bigReport is the fixture with n long worst and flipped examples and m
// slices.
func bigReport(n, textLen, m int) *Report {
	r := fixture()
	t := &r.Tasks[0]
	t.Worst, t.Flipped = nil, nil
	for i := range n {
		e := Example{ID: fmt.Sprint(i), Prompt: longText("prompt", i, textLen), References: []string{longText("ref", i, textLen)},
			Baseline: longText("base", i, textLen), Candidate: longText("cand", i, textLen)}
		switch i % 4 {
		case 0, 1:
			e.Kind, e.Metric, e.BaselineScore = "worst", "token_f1", 0.9
			t.Worst = append(t.Worst, e)
		case 2:
			e.Kind, e.Metric, e.BaselineScore = "regressed", "exact_match", 1
			t.Flipped = append(t.Flipped, e)
		case 3:
			e.Kind, e.Metric, e.CandidateScore = "fixed", "exact_match", 1
			t.Flipped = append(t.Flipped, e)
		}
	}
	sl := t.Slices[0]
	t.Slices = nil
	for i := range m {
		s := sl
		s.Name = fmt.Sprintf("slice%03d", i)
		t.Slices = append(t.Slices, s)
	}
	return r
}

// checkMarkdown fails unless md is whole Markdown: every table keeps its
// header's cell count and has its delimiter row, no quote or paragraph is
// cut, and the document ends with a newline. report.md writes no code
// fences, so a ``` in it could only come from data; it must be escaped.
func checkMarkdown(t *testing.T, md string) {
	t.Helper()
	if !strings.HasSuffix(md, "\n") {
		t.Error("the document does not end with a newline")
	}
	lines := strings.Split(md, "\n")
	cells := 0
	for i, line := range lines {
		if !strings.HasPrefix(line, "|") {
			cells = 0
			continue
		}
		n := unescapedPipes(line)
		if cells == 0 {
			cells = n
			if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "|---") {
				t.Errorf("line %d: a table without its delimiter row: %.80q", i+1, line)
			}
		} else if n != cells {
			t.Errorf("line %d has %d cell separators, its table %d: %.80q", i+1, n, cells, line)
		}
	}
	doc := sectionMarkdown.Parser().Parse(text.NewReader([]byte(md)))
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.FencedCodeBlock, *ast.CodeBlock:
			t.Errorf("a code block in report.md: %.80q", n.Lines().Value([]byte(md)))
		case *ast.HTMLBlock:
			t.Errorf("HTML block: %.80q", n.Lines().Value([]byte(md)))
		case *ast.RawHTML:
			if raw := string(n.Segments.Value([]byte(md))); raw != "<br>" {
				t.Errorf("raw HTML: %q", raw)
			}
		case *ast.Link, *ast.Image, *ast.AutoLink:
			t.Errorf("%s from data", n.Kind())
		}
		return ast.WalkContinue, nil
	})
}

// The whole report is kept (and no note written) when it fits.
func TestMarkdownLimitFits(t *testing.T) {
	var full, limited bytes.Buffer
	if err := MarkdownLimit(&full, fixture(), 0); err != nil {
		t.Fatal(err)
	}
	if err := MarkdownLimit(&limited, fixture(), Length(full.String())); err != nil {
		t.Fatal(err)
	}
	if full.String() != limited.String() {
		t.Error("a report that fits its limit exactly was shortened")
	}
	if strings.Contains(full.String(), "to fit") {
		t.Error("a note about a limit nobody hit")
	}
}

// A report with 2,000 long examples is cut to GitHub's limit: examples go
// first, the verdict, warnings, gates and metric tables stay, and the
// document says what it left out.
func TestMarkdownLimit2000Examples(t *testing.T) {
	r := bigReport(2000, 3000, 3)
	var b bytes.Buffer
	if err := Markdown(&b, r); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	if n := Length(md); n > GitHubLimit {
		t.Fatalf("report.md is %d characters, over %d", n, GitHubLimit)
	}
	checkMarkdown(t, md)
	kept := strings.Count(md, "\n#### item ")
	if kept == 0 || kept >= 2000 {
		t.Fatalf("%d examples kept", kept)
	}
	note := fmt.Sprintf("… example texts clipped to 300 characters; %s examples left out to fit GitHub's 65,536-character limit; results.json and report.html have them all.", thousands(2000-kept))
	if !strings.Contains(md, note) {
		t.Errorf("no note %q in:\n%.2000s", note, md)
	}
	for _, want := range []string{"**Verdict: FAIL**", "**Warnings**", "## Gates", "`qa.exact_match.delta.ci_low >= -0.05`", "| token_f1 | 0.2100", "| exact_match | 0.5000",
		"### Slice `slice002`", "### Where the candidate lost most on `token_f1`", "### Regressed: right → wrong", "### Fixed: wrong → right", "## Training curves", "more items left out here"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	// Fewer of each list, not none of the last: every list keeps items.
	worst := strings.Count(md, ": token_f1 0.9000 → 0.0000")
	flipped := strings.Count(md, ": exact_match 1.0000 → 0.0000") + strings.Count(md, ": exact_match 0.0000 → 1.0000")
	if worst == 0 || flipped == 0 {
		t.Errorf("kept %d worst and %d flipped examples", worst, flipped)
	}
	// Nearly full: one more example would not have fitted.
	if n := Length(md); n < GitHubLimit-10000 {
		t.Errorf("report.md is %d characters: too much left out", n)
	}
}

// Long texts are clipped before any example is left out.
func TestMarkdownLimitClipsFirst(t *testing.T) {
	r := bigReport(8, 1500, 1)
	var full bytes.Buffer
	_ = MarkdownLimit(&full, r, 0)
	limit := Length(full.String()) - 4000
	var b bytes.Buffer
	if err := MarkdownLimit(&b, r, limit); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	if Length(md) > limit {
		t.Fatalf("%d characters, over %d", Length(md), limit)
	}
	checkMarkdown(t, md)
	if got := strings.Count(md, "\n#### item "); got != 8 {
		t.Errorf("%d of 8 examples kept; clipping should have been enough", got)
	}
	if note := noteLine(md); !strings.Contains(note, "example texts clipped to ") || strings.Contains(note, "left out") {
		t.Errorf("note: %q", noteLine(md))
	}
}

// With no room for any example, slice tables go next — never the metric
// tables — and a report whose tables alone are over the limit is written
// whole.
func TestMarkdownLimitSlices(t *testing.T) {
	r := bigReport(40, 2000, 60)
	var core bytes.Buffer
	r2 := bigReport(0, 0, 0)
	_ = MarkdownLimit(&core, r2, 0)
	limit := Length(core.String()) + 3000
	var b bytes.Buffer
	if err := MarkdownLimit(&b, r, limit); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	if Length(md) > limit {
		t.Fatalf("%d characters, over %d", Length(md), limit)
	}
	checkMarkdown(t, md)
	if strings.Contains(md, "\n#### item ") {
		t.Error("examples kept while slice tables were left out")
	}
	kept := strings.Count(md, "\n### Slice ")
	if kept == 0 || kept >= 60 {
		t.Errorf("%d of 60 slice tables kept", kept)
	}
	want := fmt.Sprintf("40 examples left out; %d slice tables left out to fit the %s-character limit", 60-kept, thousands(limit))
	if !strings.Contains(md, want) {
		t.Errorf("note %q lacks %q", noteLine(md), want)
	}

	b.Reset()
	if err := MarkdownLimit(&b, r, 100); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"**Verdict: FAIL**", "## Gates", "| token_f1 |", "**Warnings**"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("over any limit, report.md still shows %q", want)
		}
	}
	if strings.Contains(b.String(), "### Slice") || strings.Contains(b.String(), "## Training curves") {
		t.Error("slices or sections kept under a limit nothing fits")
	}
}

func noteLine(md string) string {
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "> …") {
			return l
		}
	}
	return ""
}

// Worst examples are grouped by metric, in the task's metric order, then
// regressed and fixed items; all are shown expanded, none in <details>.
func TestMarkdownExamplesGrouped(t *testing.T) {
	r := fixture()
	tk := &r.Tasks[0]
	tk.Worst = append([]Example{{Kind: "worst", ID: "em1", Metric: "exact_match", BaselineScore: 1, Prompt: "p", Baseline: "b", Candidate: "c"}}, tk.Worst...)
	tk.Worst = append(tk.Worst, Example{Kind: "worst", ID: "other", Metric: "aaa_unlisted", Prompt: "p"})
	var b bytes.Buffer
	if err := Markdown(&b, r); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	order := []string{"lost most on `token_f1`", "item `12`", "lost most on `exact_match`", "item `em1`", "lost most on `aaa_unlisted`", "Regressed: right → wrong", "item `4`", "Fixed: wrong → right", "item `21`"}
	at := 0
	for _, s := range order {
		i := strings.Index(md[at:], s)
		if i < 0 {
			t.Fatalf("%q missing or out of order in:\n%s", s, md)
		}
		at += i
	}
	if strings.Contains(md, "<details") {
		t.Error("examples collapsed in <details>")
	}
	checkMarkdown(t, md)
}

// Every column of the metric table: the test, raw and Holm-adjusted p,
// effect size and MDE; a report written before they existed shows dashes.
func TestMetricTableColumns(t *testing.T) {
	r := fixture()
	md := render(t, "md", r)
	row := "| token_f1 | 0.2100 [0.1500, 0.2700] (28) | 0.3400 [0.2900, 0.4000] (30) | +0.1300 [+0.0500, +0.2000] ▲ | wilcoxon-exact | 0.002 | 0.004 | d_z +0.62 | ±0.071 | 18 / 3 / 7 |"
	if !strings.Contains(md, row) {
		t.Errorf("md lacks row\n%s", row)
	}
	old := r.Tasks[0].Comparison.Metrics["token_f1"]
	old.Test, old.Effect, old.MDE, old.CIBCa = "", nil, 0, stats.Interval{}
	r.Tasks[0].Comparison.Metrics["token_f1"] = old
	md = render(t, "md", r)
	if !strings.Contains(md, "| +0.1300 [+0.0500, +0.2000] ▲ | — | 0.002 | 0.004 | — | — | 18 / 3 / 7 |") {
		t.Errorf("an older report's row:\n%s", md)
	}
	term := render(t, "terminal", r)
	for _, line := range strings.Split(term, "\n") {
		if strings.HasPrefix(line, "token_f1 ") {
			if got := strings.Join(strings.Fields(line)[11:], " "); got != "— 0.002 0.004 — — 18/3/7 28" {
				t.Errorf("terminal row ends %q:\n%s", got, term)
			}
		}
	}
}

// A neutral metric (length, latency, tokens) is never judged: its change is
// marked △/▽, not ▲/▼, and it has no wins or losses, in every format that
// marks deltas — including slice tables and disparity lines.
func TestNeutralNeverJudged(t *testing.T) {
	r := fixture()
	tk := &r.Tasks[0]
	tk.Metrics = append(tk.Metrics, "length")
	tk.Primary = "length"
	tk.MetricInfo = map[string]Metric{"length": {Direction: "neutral", Test: "wilcoxon-exact"}, "token_f1": {Direction: "higher"}, "exact_match": {Direction: "higher"}}
	up := stats.Paired{N: 28, Delta: 40, CI: stats.Interval{Low: 20, High: 60}, Test: "wilcoxon-exact", PValue: 0.001, PAdjusted: 0.003, Wins: 20, Losses: 8, MDE: 12.5}
	down := stats.Paired{N: 28, Delta: -40, CI: stats.Interval{Low: -60, High: -20}, Test: "wilcoxon-exact", Wins: 8, Losses: 20}
	tk.Comparison.Metrics["length"] = up
	for i := range tk.Slices[0].Groups {
		tk.Slices[0].Groups[i].Comparison.Metrics["length"] = down
	}
	tk.Slices[0].Disparity = map[string]Disparity{"length": {Worst: "es", Best: "en", Gap: 3, MinDeltaGroup: "es", MinDelta: &down}}
	for _, format := range []string{"md", "terminal"} {
		out := render(t, format, r)
		for _, line := range strings.Split(out, "\n") {
			if !strings.Contains(line, "length") && !strings.Contains(line, "-40.0") && !strings.Contains(line, "+40.0") && !strings.Contains(line, "-0.0") {
				continue
			}
			if strings.Contains(line, "+40.0") && !strings.Contains(line, "△") || strings.Contains(line, "-40.0") && !strings.Contains(line, "▽") {
				t.Errorf("%s: a neutral change not marked △/▽: %q", format, line)
			}
			if strings.Contains(line, "40.0") && (strings.Contains(line, "▲") || strings.Contains(line, "▼")) {
				t.Errorf("%s: a neutral metric judged: %q", format, line)
			}
			if strings.Contains(line, "20 / ") || strings.Contains(line, "20/") {
				t.Errorf("%s: wins and losses of a neutral metric: %q", format, line)
			}
		}
		if !strings.Contains(out, "±12.5") {
			t.Errorf("%s lacks the neutral metric's MDE", format)
		}
	}
}

// hostileExtras adds hostile text to every field the CI surfaces show:
// warnings, flipped items, slices and disparity, the test and effect
// names, and failed items' ids and errors.
func hostileExtras() *Report {
	r := hostileFixture()
	tk := &r.Tasks[0]
	metric := tk.Metrics[0]
	r.Warnings = []string{hostile("WARN")}
	r.Sections = nil // TestEscapeMarkdown checks them, code blocks and all
	p := tk.Comparison.Metrics[metric]
	p.Test, p.Effect, p.MDE = hostileName("TEST"), &stats.Effect{Name: hostileName("EFFECT"), Value: 0.3}, 0.05
	tk.Comparison.Metrics[metric] = p
	tk.Flipped = []Example{
		{Kind: "regressed", ID: hostileName("FLIPID"), Prompt: hostile("FPROMPT"), References: []string{hostile("FREF1"), hostile("FREF2")}, Baseline: hostile("FBOUT"), Candidate: hostile("FCOUT"), Metric: metric, BaselineScore: 1},
		{Kind: "fixed", ID: "ok", Prompt: "", Baseline: "", Candidate: hostile("FIXOUT"), Metric: metric, CandidateScore: 1},
	}
	grp := SliceGroup{Value: hostile("GROUP"), Items: 2, PerModel: tk.PerModel, Comparison: tk.Comparison}
	tk.Slices = []Slice{{Name: hostileName("SLICE"), By: hostile("BY"), Groups: []SliceGroup{grp},
		Disparity: map[string]Disparity{metric: {Worst: hostile("DWORST"), Best: hostile("DBEST"), Gap: 0.1, Ratio: 0.5, MinDeltaGroup: hostile("DMIN"), MinDelta: &p}}}}
	tk.Records = []Record{
		{ID: hostile("RECID"), Outcomes: map[string]Outcome{r.Compare.Baseline: {Status: StatusFailed, Error: hostile("RECERR")}, r.Compare.Candidate: {Status: StatusOK}}},
		{ID: "e", Outcomes: map[string]Outcome{r.Compare.Candidate: {Status: StatusEmpty}}},
	}
	return r
}

func TestEscapeMarkdownCISurfaces(t *testing.T) {
	for _, limit := range []int{0, 9000} {
		var b bytes.Buffer
		if err := MarkdownLimit(&b, hostileExtras(), limit); err != nil {
			t.Fatal(err)
		}
		md := b.String()
		noControls(t, md)
		checkMarkdown(t, md)
		for i, line := range strings.Split(md, "\n") {
			for _, start := range []string{"line2", "- item", "<div>", "    code"} {
				if strings.HasPrefix(line, start) {
					t.Errorf("line %d starts with data: %q", i+1, line)
				}
			}
		}
		var page bytes.Buffer
		unsafe := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(goldhtml.WithUnsafe()))
		if err := unsafe.Convert([]byte(md), &page); err != nil {
			t.Fatal(err)
		}
		safeHTML(t, page.String())
		if limit == 0 {
			readable(t, page.String(), html.EscapeString, "WARN", "TEST", "EFFECT", "FLIPID", "FPROMPT", "FREF1", "FREF2", "FBOUT", "FCOUT", "FIXOUT",
				"SLICE", "BY", "GROUP", "DWORST", "DBEST", "DMIN")
		} else {
			readable(t, page.String(), html.EscapeString, "WARN", "TEST", "EFFECT")
		}
	}
}

func TestEscapeTerminalCISurfaces(t *testing.T) {
	out := render(t, "terminal", hostileExtras())
	noControls(t, out)
	if strings.Contains(out, "\t") {
		t.Error("a tab reached the output")
	}
	for i, line := range strings.Split(out, "\n") {
		for _, start := range []string{"line2", "- item", "<div>", "    code"} {
			if strings.HasPrefix(line, start) {
				t.Errorf("line %d starts with data: %q", i+1, line)
			}
		}
	}
	readable(t, out, func(s string) string { return s }, "WARN", "TEST", "EFFECT", "SLICE", "GROUP", "DWORST", "DMIN")
	if !strings.Contains(out, "worst items: 1 shown in report.md") {
		t.Errorf("no examples line in:\n%s", out)
	}
	// The warnings come right under the verdict.
	if !strings.Contains(out, "verdict: FAIL\nwarning: WARN") {
		t.Errorf("warnings not under the verdict:\n%s", out)
	}
}

// JUnit: one test case per gate and per failed or empty item (an error
// and a failure), the verdict and warnings as properties, valid XML
// whatever the text.
func TestJUnitItemsAndWarnings(t *testing.T) {
	r := hostileExtras()
	out := render(t, "junit", r)
	noControls(t, out)
	var doc junitSuites
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not well-formed XML: %v\n%s", err, out)
	}
	if len(doc.Suites) != 2 {
		t.Fatalf("%d suites, want gates and items", len(doc.Suites))
	}
	gates, items := doc.Suites[0], doc.Suites[1]
	if gates.Properties == nil || len(gates.Properties.Property) != 2 || gates.Properties.Property[0] != (junitProperty{"verdict", "fail"}) ||
		gates.Properties.Property[1].Name != "warning" || gates.Properties.Property[1].Value != plainText(hostile("WARN")) {
		t.Errorf("properties %+v", gates.Properties)
	}
	if !strings.Contains(gates.SystemOut, "warning: WARN"+hostilePrefix) {
		t.Errorf("system-out %q", gates.SystemOut)
	}
	if items.Tests != 2 || items.Errors != 1 || items.Failures != 1 || len(items.Cases) != 2 {
		t.Fatalf("items suite %+v", items)
	}
	task, base, cand := plainText(r.Tasks[0].Name), plainText(r.Compare.Baseline), plainText(r.Compare.Candidate)
	c := items.Cases[0]
	if c.Name != plainText(hostile("RECID")) || c.ClassName != "tunecheck."+task+"."+base || c.Error == nil || c.Error.Message != plainText(hostile("RECERR")) {
		t.Errorf("failed item %+v", c)
	}
	c = items.Cases[1]
	if c.Name != "e" || c.ClassName != "tunecheck."+task+"."+cand || c.Failure == nil || c.Failure.Message != "empty output" {
		t.Errorf("empty item %+v", c)
	}

	// No records, no failed items: one suite, as before.
	r.Tasks[0].Records = nil
	var one junitSuites
	if err := xml.Unmarshal([]byte(render(t, "junit", r)), &one); err != nil || len(one.Suites) != 1 {
		t.Errorf("without records: %d suites, %v", len(one.Suites), err)
	}
}

// Code in an output keeps its indentation in the side-by-side table, and
// stays one cell.
func TestMarkdownCell(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "*(empty)*"},
		{" \n\t", "*(empty)*"},
		{"def f():\n    return 1 | 2", "def f():<br>&nbsp;&nbsp;&nbsp;&nbsp;return 1 \\| 2"},
		{"a\r\n\tb", "a<br>&nbsp;&nbsp;&nbsp;&nbsp;b"},
		{"- x\n<b>", "- x<br>&lt;b&gt;"},
	} {
		if got := mdCell(c.in); got != c.want {
			t.Errorf("mdCell(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// BenchmarkMarkdownLimit fits a report of 2,000 examples of 3,000
// characters each to GitHub's limit.
func BenchmarkMarkdownLimit(b *testing.B) {
	r := bigReport(2000, 3000, 3)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := Markdown(&buf, r); err != nil {
			b.Fatal(err)
		}
	}
}

// A disparity line names the worst group with its score when the report
// has it, the gap and ratio, and the group with the smallest delta.
func TestDisparityLine(t *testing.T) {
	minDelta := stats.Paired{N: 10, Delta: -0.05, CI: stats.Interval{Low: -0.14, High: 0.03}}
	d := Disparity{Worst: "es", MinValue: stats.Summary{N: 10, Mean: 0.2, CI: stats.Interval{Low: 0.14, High: 0.26}}, Best: "en", Gap: 0.21, Ratio: 0.4878,
		MinDeltaGroup: "es", MinDelta: &minDelta, DeltaGap: 0.25}
	want := "disparity on token_f1: worst group es (0.2000 [0.1400, 0.2600]), best en, gap 0.2100, ratio 0.4878; smallest delta in es: -0.0500 [-0.1400, +0.0300], 0.2500 below the largest"
	if got := disparityLine("token_f1", d, "higher", termText); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// An older report: no score for the worst group, no ratio, no delta.
	d = Disparity{Worst: "es", Best: "en", Gap: 0.21}
	if got, want := disparityLine("token_f1", d, "higher", termText), "disparity on token_f1: worst group es, best en, gap 0.2100"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// The flip line counts every item that flipped on a pass/fail metric (the
// comparison's wins and losses), not only the ones the report shows.
func TestFlipLines(t *testing.T) {
	tk := Task{Metrics: []string{"exact", "f1"},
		MetricInfo: map[string]Metric{"exact": {Direction: "higher", Test: "mcnemar", Binary: true}, "f1": {Direction: "higher", Test: "permutation"}},
		Comparison: &Comparison{Metrics: map[string]stats.Paired{"exact": {N: 100, Wins: 30, Losses: 12}, "f1": {N: 100, Wins: 50, Losses: 40}}},
		Flipped:    []Example{{Kind: "regressed", Metric: "exact"}, {Kind: "fixed", Metric: "exact"}, {Kind: "fixed", Metric: "exact"}},
	}
	got := strings.Join(tk.flipLines(), "\n")
	if want := "flipped on exact: 12 right→wrong, 30 wrong→right (3 shown in report.md)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/stats"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	goldhtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
)

// hostilePrefix follows a field's tag in every hostile string; a report is
// readable when it shows tag+hostilePrefix as text.
const hostilePrefix = " <script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1))"

// hostile is free text (an output, a message) that tries everything: HTML,
// a link, table and code fences, emphasis, terminal escapes (colour, clear
// screen, window title, 8-bit CSI), control characters, an entity, and
// newlines followed by block syntax.
func hostile(tag string) string {
	return tag + hostilePrefix + " ``` \x1b[31mred\x1b[0m\x1b[2J\x1b]0;title\x07 \u009b2J \x00\x0b\b </script> &amp; | col | *em* _u_ ~~s~~ #" +
		"\nline2\r\n- item\n    code\n<div>block</div>\ttab"
}

// hostileName is a name or id: one line, no |, but backtick runs that try
// to close the code span it is shown in.
func hostileName(tag string) string {
	return tag + hostilePrefix + " `` ```x\x1b[2J"
}

// hostileSection is section Markdown (ours) that carries data: raw HTML
// blocks and inline tags, and a tag whose backtick pairs with a code span's
// once it is escaped, which would free the <img> inside that code span.
const hostileSection = "Checked `x`.\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n" +
	"Inline <b onclick=alert(1)>bold</b> and <a title=\"`\">` then `<img src=x onerror=alert(2)>`\n\n" +
	"| a | b |\n|---|---|\n| 1 | 2 |\n\n```\nfenced <script>alert(3)</script>\n```\n"

func hostileFixture() *Report {
	base, tuned, metric := hostile("BASE"), hostile("TUNED"), hostileName("METRIC")
	sum := stats.Summary{N: 2, Mean: 0.5, CI: stats.Interval{Low: 0.4, High: 0.6}}
	return &Report{
		Schema: Schema, ToolVersion: hostile("VERSION"),
		Plan: PlanInfo{Name: hostile("PLAN"), Hash: hostile("HASH")},
		Seed: 1, Bootstrap: BootstrapInfo{Resamples: 10, Confidence: 0.95},
		Compare: &CompareInfo{Baseline: base, Candidate: tuned},
		Models: []Model{
			{Name: base, Provider: hostile("PROVIDER"), Model: hostile("MODELID"), Requests: 3, Failed: 1},
			{Name: tuned, Provider: "file", Requests: 3},
		},
		Tasks: []Task{{
			Name: hostileName("TASK"), Type: hostile("TYPE"), Items: 3, Metrics: []string{metric}, Primary: metric,
			Dataset: Dataset{Path: hostileName("PATH"), Fingerprint: hostile("FP"), Rows: 3, Total: 3, Selection: hostile("SELECTION")},
			PerModel: []ModelScore{
				{Model: base, Scored: 2, Failed: 1, Metrics: map[string]stats.Summary{metric: sum},
					Errors: []ErrorCount{{Message: hostile("ERR"), Count: 1, Items: []string{hostile("ERRITEM")}}}},
				{Model: tuned, Scored: 3, Metrics: map[string]stats.Summary{metric: sum}},
			},
			Comparison: &Comparison{Baseline: base, Candidate: tuned, Pairs: 2, Excluded: 1,
				Metrics: map[string]stats.Paired{metric: {N: 2, Delta: 0.1, CI: stats.Interval{Low: 0.05, High: 0.15}}}},
			Worst: []Example{{ID: hostileName("ITEM"), Prompt: hostile("PROMPT"), References: []string{hostile("REF")},
				Baseline: hostile("BOUT"), Candidate: hostile("COUT"), Metric: metric, BaselineScore: 1}},
		}},
		Gates: []gate.Result{
			{Gate: gate.Gate{Expr: hostile("GATE"), Task: hostile("GTASK")}, Status: gate.Fail, Reason: hostile("REASON")},
			{Gate: gate.Gate{Expr: hostileName("NAMEGATE"), Task: "qa"}, Status: gate.Inconclusive, Reason: "straddles"},
		},
		Verdict:  gate.Fail,
		Sections: []Section{{Title: hostile("SECTITLE"), Markdown: hostileSection}},
	}
}

func render(t *testing.T, format string, r *Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Renderers[format](&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// noControls fails if out has a terminal escape or a control character
// other than newline (the text formats' own line breaks).
func noControls(t *testing.T, out string) {
	t.Helper()
	for _, c := range []string{"\x1b", "\x00", "\x0b", "\b", "\r", "\a", "\u009b"} {
		if strings.Contains(out, c) {
			t.Errorf("output contains control character %q", c)
		}
	}
}

// readable fails unless out shows each tag's field as text, as want
// writes it.
func readable(t *testing.T, out string, want func(string) string, tags ...string) {
	t.Helper()
	for _, tag := range tags {
		if s := want(tag + hostilePrefix); !strings.Contains(out, s) {
			t.Errorf("the %s field is not shown as text: %q not found", tag, s)
		}
	}
}

var (
	tagRe     = regexp.MustCompile(`^<(?:!doctype|!--|/?([a-zA-Z][a-zA-Z0-9]*))`)
	handlerRe = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	htmlTags  = map[string]bool{
		"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true,
		"h1": true, "h2": true, "h3": true, "h4": true, "p": true, "span": true, "code": true, "pre": true,
		"b": true, "strong": true, "em": true, "div": true, "details": true, "summary": true, "br": true,
		"table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true,
		"blockquote": true, "ul": true, "ol": true, "li": true, "a": true, "img": true, "section": true, "header": true, "figure": true, "figcaption": true,
		// the forest plot, histograms and slice bars: inline SVG drawn by tunecheck
		"svg": true, "g": true, "line": true, "rect": true, "circle": true, "text": true, "tspan": true, "path": true,
	}
)

// safeHTML fails if page has a tag that is not ours: every < must open an
// allowed tag, with no event handler and no javascript: URL.
func safeHTML(t *testing.T, page string) {
	t.Helper()
	for i := 0; i < len(page); i++ {
		if page[i] != '<' {
			continue
		}
		end := strings.IndexByte(page[i:], '>')
		if end < 0 {
			t.Fatalf("unclosed tag at %d: %.40q", i, page[i:])
		}
		tag := page[i : i+end+1]
		m := tagRe.FindStringSubmatch(tag)
		switch {
		case m == nil:
			t.Errorf("stray < at %d: %.60q", i, tag)
		case m[1] != "" && !htmlTags[strings.ToLower(m[1])]:
			t.Errorf("unexpected tag %q", tag)
		case handlerRe.MatchString(tag) || strings.Contains(strings.ToLower(tag), "javascript:"):
			t.Errorf("tag with a script: %q", tag)
		}
	}
}

func TestEscapeMarkdown(t *testing.T) {
	md := render(t, "md", hostileFixture())
	noControls(t, md)

	// No data becomes HTML, a link or an image, whatever the viewer: the
	// parse has no raw HTML but our <br>, and no links at all.
	doc := sectionMarkdown.Parser().Parse(text.NewReader([]byte(md)))
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.HTMLBlock:
			t.Errorf("HTML block: %q", n.Lines().Value([]byte(md)))
		case *ast.RawHTML:
			if raw := string(n.Segments.Value([]byte(md))); raw != "<br>" {
				t.Errorf("raw HTML: %q", raw)
			}
		case *ast.Link, *ast.Image, *ast.AutoLink:
			t.Errorf("%s from data", n.Kind())
		}
		return ast.WalkContinue, nil
	})

	// Data cannot add a table cell or start a line.
	var cells int
	for i, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			cells = 0
			continue
		}
		if n := unescapedPipes(line); cells == 0 {
			cells = n
		} else if n != cells {
			t.Errorf("line %d has %d cell separators, its table %d: %q", i+1, n, cells, line)
		}
		for _, start := range []string{"line2", "- item", "<div>", "    code"} {
			if strings.HasPrefix(line, start) {
				t.Errorf("line %d starts with data: %q", i+1, line)
			}
		}
	}

	// Rendered by a viewer that lets raw HTML through, the page is still ours
	// and shows the data as text.
	var page bytes.Buffer
	unsafe := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(goldhtml.WithUnsafe()))
	if err := unsafe.Convert([]byte(md), &page); err != nil {
		t.Fatal(err)
	}
	safeHTML(t, page.String())
	readable(t, page.String(), html.EscapeString, "PLAN", "VERSION", "BASE", "TUNED", "PROVIDER", "MODELID",
		"TASK", "TYPE", "PATH", "FP", "SELECTION", "METRIC", "ERR", "ERRITEM", "GATE", "NAMEGATE", "REASON",
		"ITEM", "PROMPT", "REF", "BOUT", "COUT", "SECTITLE")
	for _, want := range []string{"&amp;amp;", "<td>1</td>", "fenced &lt;script&gt;alert(3)&lt;/script&gt;"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("rendered report.md lacks %q", want)
		}
	}
}

// unescapedPipes counts the | in a table line that GFM splits cells on.
func unescapedPipes(line string) int {
	n, backslashes := 0, 0
	for _, c := range []byte(line) {
		switch {
		case c == '\\':
			backslashes++
			continue
		case c == '|' && backslashes%2 == 0:
			n++
		}
		backslashes = 0
	}
	return n
}

func TestEscapeHTML(t *testing.T) {
	r := hostileFixture()
	r.Sections = append(r.Sections, Section{Title: "links", Markdown: "[x](javascript:alert(1)) <javascript:alert(2)>\n"})
	page := render(t, "html", r)
	noControls(t, page)
	safeHTML(t, page)
	for _, s := range []string{"<script", "</script", "<SCRIPT"} {
		if strings.Contains(page, s) {
			t.Errorf("page contains %q; the report has no scripts of its own", s)
		}
	}
	readable(t, page, html.EscapeString, "PLAN", "VERSION", "BASE", "TUNED", "PROVIDER", "MODELID", "TASK",
		"TYPE", "PATH", "FP", "METRIC", "ERR", "GATE", "NAMEGATE", "REASON", "ITEM", "PROMPT", "REF", "BOUT",
		"COUT", "SECTITLE")
	// Raw HTML in a section shows as text (goldmark alone would drop it), and
	// goldmark empties a javascript: link.
	for _, want := range []string{"&amp;amp;", "&lt;/script&gt; &amp;amp;", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>", `<a href="">x</a>`, "fenced &lt;script&gt;alert(3)"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestEscapeJUnit(t *testing.T) {
	out := render(t, "junit", hostileFixture())
	noControls(t, out)
	if strings.Contains(out, "<script") {
		t.Error("<script> not escaped")
	}
	var doc junitSuites
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not well-formed XML: %v", err)
	}
	s := doc.Suites[0]
	if len(s.Cases) != 2 || s.Failures != 1 || s.Skipped != 1 {
		t.Fatalf("suite %+v", s)
	}
	c := s.Cases[0]
	got := strings.Join([]string{s.Name, c.Name, c.ClassName, c.SystemOut, c.Failure.Message}, "\n")
	readable(t, got, func(s string) string { return s }, "PLAN", "GATE", "GTASK", "REASON")
	if c.Name != plainText(hostile("GATE")) || strings.ContainsAny(got, "\x1b\x00\uFFFD") {
		t.Errorf("case name %q, want the gate's text without control characters", c.Name)
	}
}

func TestEscapeTerminal(t *testing.T) {
	out := render(t, "terminal", hostileFixture())
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
	readable(t, out, func(s string) string { return s }, "TASK", "TYPE", "BASE", "TUNED", "METRIC", "ERR", "GATE", "REASON")
}

func TestEscapeJSON(t *testing.T) {
	r := hostileFixture()
	out := render(t, "json", r)
	if !json.Valid([]byte(out)) {
		t.Fatal("results.json is not valid JSON")
	}
	// encoding/json escapes <, > and & (so no "</script>" even inside a
	// <script> element) and C0 control characters; JSON escapes C1 ones.
	for _, c := range []string{"<", ">", "&", "\x1b", "\x00", "\x0b", "\r", "\u009b"} {
		if strings.Contains(out, c) {
			t.Errorf("results.json contains %q", c)
		}
	}
	back, err := Decode([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := back.Tasks[0].Worst[0], r.Tasks[0].Worst[0]; got.Prompt != want.Prompt || got.Candidate != want.Candidate || got.ID != want.ID {
		t.Errorf("results.json does not keep the data as it was: %+v", got)
	}
}

func TestPlainText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain text, é ✓", "plain text, é ✓"},
		{"\x1b[31mred\x1b[0m", "red"},
		{"\x1b[2J\x1b[H clear", " clear"},
		{"\x1b[?1049h alt screen", " alt screen"},
		{"\x1b]0;title\x07after", "after"},
		{"\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"},
		{"\x1b]unterminated", "unterminated"},
		{"\x1b(Bcharset", "charset"},
		{"\x1bcreset", "reset"},
		{"\u009b2Jc1 csi", "c1 csi"},
		{"\u009d0;t\u009cc1 osc", "c1 osc"},
		{"nul\x00 bell\a bs\b vt\x0b del\x7f", "nul bell bs vt del"},
		{"a\r\nb\rc\td", "a\nb\nc\td"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{"trailing esc\x1b", "trailing esc"},
		{"\x1b[31", ""},
	} {
		if got := plainText(c.in); got != c.want {
			t.Errorf("plainText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := termText("a\tb\nc"); got != "a b c" {
		t.Errorf("termText = %q", got)
	}
}

func TestMarkdownEscapers(t *testing.T) {
	for _, c := range []struct {
		f        func(string) string
		in, want string
	}{
		{mdText, "token_f1 and _x_", `token_f1 and \_x\_`},
		{mdText, "a | b\nc", `a \| b<br>c`},
		{mdText, "<b> & [l](u) *e* `c` ~s~ #h \\", `&lt;b&gt; &amp; \[l\](u) \*e\* \` + "`c\\`" + ` \~s\~ \#h \\`},
		{mdCode, "qa.token_f1.delta >= 0", "`qa.token_f1.delta >= 0`"},
		{mdCode, "a`b", "``a`b``"},
		{mdCode, "``x", "``` ``x ```"},
		{mdCode, "a\nb", "`a b`"},
		{mdCode, "a|b", `a\|b`},
		{mdCode, "", ""},
		{mdQuote, "x = 1", "> x = 1"},
		{mdQuote, "- a\n\n  1. b\n+c\n---\n\tcode", "> \\- a\n> \n> &nbsp;&nbsp;1\\. b\n> \\+c\n> \\---\n> &nbsp;&nbsp;&nbsp;&nbsp;code"},
		{mdSection, "ok `<b>` <b>x</b>", "ok `<b>` &lt;b>x&lt;/b>"},
		{mdSection, "| a |\n|---|\n| ![p](p.svg) |\n", "| a |\n|---|\n| ![p](p.svg) |\n"},
	} {
		if got := c.f(c.in); got != c.want {
			t.Errorf("%q → %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzMarkdownText checks that no text written with mdText, mdCode or
// mdQuote parses as anything but text: no HTML, no link, no extra cell.
func FuzzMarkdownText(f *testing.F) {
	for _, s := range []string{hostile("X"), hostileName("Y"), "a`b``c", "<a href=`>`", "[a]: javascript:x\n[a]", "1. x\n    y", "www.example.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		md := "| h | h2 |\n|---|---|\n| " + mdText(s) + " | " + mdCode(s) + " |\n\n" + mdQuote(s) + "\n"
		doc := sectionMarkdown.Parser().Parse(text.NewReader([]byte(md)))
		_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
			if !entering {
				return ast.WalkContinue, nil
			}
			switch n := n.(type) {
			case *ast.HTMLBlock, *ast.Link, *ast.Image:
				t.Errorf("%s in %q", n.Kind(), md)
			case *ast.RawHTML:
				if raw := string(n.Segments.Value([]byte(md))); raw != "<br>" {
					t.Errorf("raw HTML %q in %q", raw, md)
				}
			case *ast.AutoLink:
				// GFM links a bare www. or http:// address; it shows its target.
				if goldhtml.IsDangerousURL(n.URL([]byte(md))) {
					t.Errorf("autolink in %q", md)
				}
			}
			return ast.WalkContinue, nil
		})
		if lines := strings.Split(md, "\n"); unescapedPipes(lines[2]) != 3 {
			t.Errorf("cells split: %q", lines[2])
		}
	})
}

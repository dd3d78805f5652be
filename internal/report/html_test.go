package report

import (
	"bytes"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/gate"
	"github.com/tunecheck/tunecheck/internal/stats"
)

// richFixture is a compared run with everything the HTML report draws:
// metrics of each direction (token_f1 better, exact_match worse, length
// neutral but changed, bleu a corpus metric with no per-item scores),
// per-item records, a slice with disparity, worst and flipped items, a
// failing gate, an inconclusive one and a warning. Its gates are written
// out rather than checked, so the fixture rests on the report model only.
func richFixture() *Report {
	const n = 40
	var recs []Record
	for i := range n {
		// Deterministic, varied scores: the candidate is better on token_f1,
		// worse on exact match, and longer.
		bf1 := float64((i*37)%100) / 100
		cf1 := min(1, bf1+float64((i*13)%30)/100)
		bem, cem := float64(i%2), float64(i%3%2)
		bl, cl := float64(40+(i*7)%60), float64(55+(i*11)%70)
		base := Outcome{Status: StatusOK, Scores: map[string]float64{"token_f1": bf1, "exact_match": bem, "length": bl}}
		cand := Outcome{Status: StatusOK, Scores: map[string]float64{"token_f1": cf1, "exact_match": cem, "length": cl}}
		if i == 7 {
			base = Outcome{Status: StatusFailed, Error: "HTTP 500"}
		}
		recs = append(recs, Record{ID: string(rune('a'+i%26)) + strings.Repeat("x", i/26), Outcomes: map[string]Outcome{"base": base, "tuned": cand}})
	}
	f1 := stats.Paired{N: 39, BaselineMean: 0.49, CandidateMean: 0.63, Delta: 0.14, CI: stats.Interval{Low: 0.11, High: 0.17}, CIBCa: stats.Interval{Low: 0.105, High: 0.168},
		Test: "wilcoxon-exact", PValue: 0.0001, PAdjusted: 0.0004, Wins: 33, Ties: 4, Losses: 2, Effect: &stats.Effect{Name: "cohen_dz", Value: 1.62}, MDE: 0.031}
	em := stats.Paired{N: 39, BaselineMean: 0.51, CandidateMean: 0.33, Delta: -0.18, CI: stats.Interval{Low: -0.31, High: -0.05},
		Test: "mcnemar-exact", PValue: 0.012, PAdjusted: 0.036, Wins: 3, Ties: 26, Losses: 10, Effect: &stats.Effect{Name: "odds_ratio", Value: 0.3, CI: &stats.Interval{Low: 0.08, High: 1.09}}, MDE: 0.2}
	length := stats.Paired{N: 39, BaselineMean: 69.3, CandidateMean: 89.1, Delta: 19.8, CI: stats.Interval{Low: 12.4, High: 27.5}, Test: "paired-t", PValue: 0.00002, PAdjusted: 0.0001, Wins: 30, Ties: 1, Losses: 8, Effect: &stats.Effect{Name: "cohen_dz", Value: 0.91}, MDE: 9.5}
	bleu := stats.Paired{N: 39, BaselineMean: 21.4, CandidateMean: 22.0, Delta: 0.6, CI: stats.Interval{Low: -1.9, High: 3.2}, CIBCa: stats.Interval{Low: -2.2, High: 2.9}, Test: "bootstrap", PValue: 0.61, PAdjusted: 0.61, Wins: 20, Ties: 0, Losses: 19}
	sum := func(mean, lo, hi float64, n int) stats.Summary {
		return stats.Summary{N: n, Mean: mean, CI: stats.Interval{Low: lo, High: hi}}
	}
	group := func(value string, items int, b, c float64, d stats.Paired) SliceGroup {
		return SliceGroup{Value: value, Items: items,
			PerModel: []ModelScore{
				{Model: "base", Items: items, Scored: items, Metrics: map[string]stats.Summary{"token_f1": sum(b, b-0.08, b+0.08, items)}},
				{Model: "tuned", Items: items, Scored: items, Metrics: map[string]stats.Summary{"token_f1": sum(c, c-0.07, c+0.07, items)}},
			},
			Comparison: &Comparison{Baseline: "base", Candidate: "tuned", Pairs: items, Metrics: map[string]stats.Paired{"token_f1": d}}}
	}
	dEN := stats.Paired{N: 20, Delta: 0.2, CI: stats.Interval{Low: 0.15, High: 0.25}}
	dDE := stats.Paired{N: 12, Delta: 0.09, CI: stats.Interval{Low: 0.02, High: 0.16}}
	dJA := stats.Paired{N: 7, Delta: -0.01, CI: stats.Interval{Low: -0.12, High: 0.1}}
	long := "Translate the following paragraph into German, keeping every number and the names exactly as written. " + strings.Repeat("The quarterly revenue of ACME-Widget-Corporation-International rose by 12% to 4.2 million. ", 3)
	r := &Report{
		Schema: Schema, ToolVersion: "test", Plan: PlanInfo{Name: "lora-v3 vs base", Hash: "fedcba9876543210fedcba9876543210"},
		Seed: 7, Bootstrap: BootstrapInfo{Resamples: 2000, Confidence: 0.95},
		Compare: &CompareInfo{Baseline: "base", Candidate: "tuned"},
		Models: []Model{
			{Name: "base", Provider: "openai", Model: "llama-3-8b", Requests: 40, Failed: 1, PromptTokens: 5200, CompletionTokens: 2700, LatencyP50MS: 640, LatencyP95MS: 1480},
			{Name: "tuned", Provider: "openai", Model: "llama-3-8b-lora-v3", Requests: 40, PromptTokens: 5200, CompletionTokens: 3500, LatencyP50MS: 702, LatencyP95MS: 1610},
		},
		Tasks: []Task{{
			Name: "support_qa", Type: "generate", Items: n, Metrics: []string{"token_f1", "exact_match", "length", "bleu"}, Primary: "token_f1",
			MetricInfo: map[string]Metric{
				"token_f1":    {Direction: "higher", Test: "wilcoxon"},
				"exact_match": {Direction: "higher", Test: "mcnemar"},
				"length":      {Direction: "neutral", Test: "paired-t"},
				"bleu":        {Direction: "higher", Corpus: true, Test: "bootstrap"},
			},
			Dataset: Dataset{Path: "data/support.jsonl", Fingerprint: "sha256:0123456789abcdef0123", Rows: n, Total: 500, Selection: "first 40"},
			PerModel: []ModelScore{
				{Model: "base", Items: n, Scored: 39, Failed: 1, Metrics: map[string]stats.Summary{"token_f1": sum(0.49, 0.4, 0.58, 39), "exact_match": sum(0.51, 0.36, 0.67, 39), "length": sum(69.3, 64, 75, 39), "bleu": sum(21.4, 18.9, 24, 39)},
					Errors: []ErrorCount{{Message: "HTTP 500", Count: 1, Items: []string{"h"}}}},
				{Model: "tuned", Items: n, Scored: n, Metrics: map[string]stats.Summary{"token_f1": sum(0.63, 0.55, 0.71, n), "exact_match": sum(0.33, 0.2, 0.48, n), "length": sum(89.1, 82, 96, n), "bleu": sum(22, 19.6, 24.5, n)}},
			},
			Comparison: &Comparison{Baseline: "base", Candidate: "tuned", Pairs: 39, Excluded: 1, Metrics: map[string]stats.Paired{"token_f1": f1, "exact_match": em, "length": length, "bleu": bleu}},
			Worst: []Example{
				{Kind: "worst", ID: "q-17", Prompt: long, References: []string{"Der Quartalsumsatz stieg um 12 % auf 4,2 Millionen."}, Baseline: "Der Quartalsumsatz von ACME stieg um 12 % auf 4,2 Millionen.", Candidate: "Revenue went up.", Metric: "token_f1", BaselineScore: 0.82, CandidateScore: 0.05},
			},
			Flipped: []Example{
				{Kind: "regressed", ID: "q-3", Prompt: "What is the capital of Australia?", References: []string{"Canberra"}, Baseline: "Canberra", Candidate: "Sydney", Metric: "exact_match", BaselineScore: 1, CandidateScore: 0},
				{Kind: "fixed", ID: "q-9", Prompt: "2 + 2 * 3 = ?", References: []string{"8"}, Baseline: "12", Candidate: "8", Metric: "exact_match", BaselineScore: 0, CandidateScore: 1},
			},
			Slices: []Slice{{
				Name: "language", By: "field language",
				Groups:    []SliceGroup{group("en", 20, 0.52, 0.72, dEN), group("de", 12, 0.47, 0.56, dDE), group("ja", 8, 0.41, 0.40, dJA)},
				Disparity: map[string]Disparity{"token_f1": {Worst: "ja", Best: "en", Gap: 0.32, Ratio: 0.556, MinDeltaGroup: "ja", MinDelta: &dJA, DeltaGap: 0.21}},
			}},
			Records: recs,
		}},
		Sections: []Section{{Title: "Training curves", Markdown: "verdict: **healthy** — eval loss still falling at the last step\n", SVG: `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="#0969da"/></svg>`}},
		Warnings: []string{"gate support_qa.exact_match.delta >= -0.05: its threshold (0.05) is smaller than the effect this eval set can detect (±0.2); add items or widen the threshold"},
	}
	r.Gates = []gate.Result{
		{Gate: gate.Gate{Expr: "support_qa.token_f1.delta >= 0.05", Task: "support_qa", Metric: "token_f1", Field: "delta", Op: ">=", Threshold: 0.05}, Status: gate.Pass, Value: 0.14, Low: 0.11, High: 0.17, Reason: "0.14, interval [0.11, 0.17] is entirely >= 0.05"},
		{Gate: gate.Gate{Expr: "support_qa.exact_match.delta >= -0.05", Task: "support_qa", Metric: "exact_match", Field: "delta", Op: ">=", Threshold: -0.05}, Status: gate.Fail, Value: -0.18, Low: -0.31, High: -0.05, Reason: "-0.18, interval [-0.31, -0.05] is entirely outside >= -0.05"},
		{Gate: gate.Gate{Expr: "support_qa.bleu.delta.ci_low >= -1", Task: "support_qa", Metric: "bleu", Field: "delta.ci_low", Op: ">=", Threshold: -1}, Status: gate.Fail, Value: -1.9, Reason: "-1.9 is not >= -1"},
		{Gate: gate.Gate{Expr: "support_qa.length.delta <= 40", Task: "support_qa", Metric: "length", Field: "delta", Op: "<=", Threshold: 40}, Status: gate.Pass, Value: 19.8, Low: 12.4, High: 27.5, Reason: "19.8, interval [12.4, 27.5] is entirely <= 40"},
	}
	r.Verdict = gate.Fail
	return r
}

func renderHTML(t *testing.T, r *Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := HTML(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The rich report's page, byte for byte: review its diff when the page changes.
func TestHTMLRichGolden(t *testing.T) {
	got := renderHTML(t, richFixture())
	golden := filepath.Join("testdata", "report.rich.html.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create)", err)
	}
	if got != string(want) {
		t.Errorf("HTML differs from %s; run go test ./internal/report -update and review the diff", golden)
	}
	if again := renderHTML(t, richFixture()); again != got {
		t.Error("rendering twice gives different bytes")
	}
}

// The page loads nothing: no script, no URL to anywhere, no CSS import;
// the only src is the data: URL of a plot tunecheck drew.
func TestHTMLStandalone(t *testing.T) {
	for name, r := range map[string]*Report{"rich": richFixture(), "fixture": fixture()} {
		page := renderHTML(t, r)
		lower := strings.ToLower(page)
		for _, bad := range []string{"http://", "https://", "<script", "@import", "url(", `src="//`, `href="//`, "<link", "<iframe", "<object", "<embed", " on"} {
			if bad == " on" {
				for _, tag := range tagRE.FindAllStringSubmatch(lower, -1) {
					for _, a := range attrRE.FindAllStringSubmatch(tag[2], -1) {
						if strings.HasPrefix(a[1], "on") {
							t.Errorf("%s: event handler attribute %q", name, a[0])
						}
					}
				}
				continue
			}
			if strings.Contains(lower, bad) {
				t.Errorf("%s: page contains %q", name, bad)
			}
		}
		for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
			if !strings.HasPrefix(html.UnescapeString(m[1]), "data:image/svg+xml;base64,") {
				t.Errorf("%s: link or source %q is not a data: URL of a plot", name, m[1])
			}
		}
	}
}

var (
	// Attribute values are quoted and escaped (no < or " inside), so a
	// tag ends at the first > outside quotes.
	tagRE  = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s=>"]+(?:="[^"]*")?)*)\s*/?>`)
	attrRE = regexp.MustCompile(`\s+([^\s=>"]+)(?:="([^"]*)")?`)
)

// allowedTags are the elements the page is made of; data must not add any.
var allowedTags = map[string]bool{
	"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "p": true, "code": true, "span": true, "b": true,
	"table": true, "tr": true, "th": true, "td": true, "ul": true, "li": true, "div": true, "pre": true,
	"img": true, "strong": true, "em": true,
	"svg": true, "g": true, "rect": true, "line": true, "circle": true, "text": true, "tspan": true,
}

// Hostile names, values and outputs show as text everywhere, the plots
// included: no element, attribute or URL comes from data.
func TestHTMLHostileStrings(t *testing.T) {
	const (
		script = `<script>alert(1)</script>`
		svgTag = `"><svg onload=alert(2)>`
		js     = `javascript:alert(3)`
	)
	r := richFixture()
	r.Plan.Name = script
	r.Warnings = append(r.Warnings, svgTag+js)
	r.Compare.Candidate = svgTag
	tk := &r.Tasks[0]
	tk.Name = script + "task"
	rename := func(m map[string]stats.Summary) {
		m[svgTag] = m["token_f1"]
		delete(m, "token_f1")
	}
	tk.Metrics[0], tk.Primary = svgTag, svgTag
	tk.MetricInfo[svgTag] = tk.MetricInfo["token_f1"]
	tk.Comparison.Candidate = svgTag
	tk.Comparison.Metrics[svgTag] = tk.Comparison.Metrics["token_f1"]
	tk.PerModel[1].Model = svgTag
	for i := range tk.PerModel {
		rename(tk.PerModel[i].Metrics)
	}
	for i := range tk.Records {
		o := tk.Records[i].Outcomes
		o[svgTag] = o["tuned"]
		delete(o, "tuned")
		for _, out := range o {
			if v, ok := out.Scores["token_f1"]; ok {
				out.Scores[svgTag] = v
			}
		}
	}
	tk.Worst[0].Metric, tk.Worst[0].Candidate, tk.Worst[0].Prompt = svgTag, js+script, "\x1b]0;title\a"+script
	s := &tk.Slices[0]
	s.Name, s.By = svgTag, js
	s.Groups[0].Value = script
	s.Groups[1].Value = js
	s.Groups[2].Value = svgTag
	for i := range s.Groups {
		s.Groups[i].Comparison.Metrics[svgTag] = s.Groups[i].Comparison.Metrics["token_f1"]
		s.Groups[i].PerModel[1].Model = svgTag
		rename(s.Groups[i].PerModel[0].Metrics)
		rename(s.Groups[i].PerModel[1].Metrics)
	}
	s.Disparity = map[string]Disparity{svgTag: {Worst: script, Best: js, MinDeltaGroup: svgTag}}
	r.Gates[0].Expr, r.Gates[0].Task, r.Gates[0].Metric, r.Gates[0].Status = js, tk.Name, svgTag, gate.Status(svgTag)
	r.Verdict = gate.Status(script)
	r.Sections[0].Title = svgTag

	page := renderHTML(t, r)
	for _, m := range tagRE.FindAllStringSubmatch(page, -1) {
		name := strings.ToLower(m[1])
		if !allowedTags[name] {
			t.Errorf("unexpected element <%s%s>", m[1], m[2])
		}
		for _, a := range attrRE.FindAllStringSubmatch(m[2], -1) {
			if strings.HasPrefix(strings.ToLower(a[1]), "on") {
				t.Errorf("event handler in <%s%s>", m[1], m[2])
			}
			if v := strings.ToLower(html.UnescapeString(a[2])); strings.Contains(v, "javascript:") || strings.Contains(v, "<") {
				t.Errorf("data in an attribute of <%s%s>", m[1], m[2])
			}
		}
	}
	if strings.Contains(page, "\x1b") {
		t.Error("a terminal escape reached the page")
	}
	// The hostile strings did reach the plots, as text.
	var plots strings.Builder
	for _, m := range regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(page, -1) {
		plots.WriteString(m)
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&#34;&gt;&lt;svg onload=alert(2)&gt;", "javascript:alert(3)"} {
		if !strings.Contains(plots.String(), want) {
			t.Errorf("plots do not show %q as text", want)
		}
	}
	if n := strings.Count(page, "<svg "); n != strings.Count(plots.String(), "<svg ") || n < 4 {
		t.Errorf("%d <svg> elements; want the forest plot, the distributions and the slice, and nothing from data", n)
	}
}

// A delta is green or red only when its interval excludes zero and the
// metric has a direction; a neutral metric is blue whichever way it moved.
func TestHTMLDeltaColours(t *testing.T) {
	r := richFixture()
	page := renderHTML(t, r)
	for metric, class := range map[string]string{"token_f1": "better", "exact_match": "worse", "length": "neutral", "bleu": "unclear"} {
		row := regexp.MustCompile(`<tr><td>` + metric + `<span class="dir".*?</tr>`).FindString(page)
		if row == "" {
			t.Fatalf("no table row for %s", metric)
		}
		if !strings.Contains(row, `<td class="w `+class+`">`) {
			t.Errorf("%s: delta cell is not %s: %s", metric, class, row)
		}
	}
	tk := r.Tasks[0]
	for _, tc := range []struct {
		metric, colour string
	}{{"token_f1", colBetter}, {"exact_match", colWorse}, {"length", colNeutral}, {"bleu", colUnclear}} {
		p := tk.Comparison.Metrics[tc.metric]
		if got := classColour(deltaClass(p, tk.direction(tc.metric))); got != tc.colour {
			t.Errorf("%s: colour %s, want %s", tc.metric, got, tc.colour)
		}
		// lower-is-better turns it round, except for a neutral metric
		if tc.metric != "length" && tc.metric != "bleu" {
			flipped := classColour(deltaClass(p, "lower"))
			if flipped == tc.colour || flipped == colUnclear {
				t.Errorf("%s with lower-is-better: colour %s", tc.metric, flipped)
			}
		}
	}
	if got := deltaClass(tk.Comparison.Metrics["length"], "neutral"); got != "neutral" {
		t.Errorf("neutral metric coloured %s", got)
	}
	if c := exampleClass(-1, "neutral"); c != "neutral" {
		t.Errorf("an example on a neutral metric is %s", c)
	}
}

// The page's top says what a team lead needs: the verdict, the gate
// counts, every gate with its value and interval, and the warnings.
func TestHTMLVerdictBanner(t *testing.T) {
	page := renderHTML(t, richFixture())
	start := strings.Index(page, `<div class="banner`)
	banner := page[start : start+strings.Index(page[start:], "\n</div>")]
	for _, want := range []string{`class="banner v-fail"`, ">FAIL<", "4 gates: 2 passed, 2 failed", "support_qa.exact_match.delta &gt;= -0.05", "[-0.3100, -0.0500]", `<span class="badge v-fail">fail</span>`} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	if !strings.Contains(page, `<ul class="warnings"><li>gate support_qa.exact_match.delta &gt;= -0.05: its threshold`) {
		t.Error("the warning is not listed under the banner")
	}
	for v, class := range map[gate.Status]string{gate.Pass: "v-pass", gate.Inconclusive: "v-inconclusive", gate.Error: "v-error", "": "v-unknown", "weird": "v-unknown"} {
		r := richFixture()
		r.Verdict = v
		if p := renderHTML(t, r); !strings.Contains(p, `class="banner `+class+`"`) {
			t.Errorf("verdict %q: banner is not %s", v, class)
		}
	}
	r := richFixture()
	r.Gates = nil
	if p := renderHTML(t, r); !strings.Contains(p, "no gates were set") {
		t.Error("a run without gates does not say so")
	}
}

// Items are shown in full, grouped by metric then kind, never folded away.
func TestHTMLExamples(t *testing.T) {
	page := renderHTML(t, richFixture())
	if strings.Contains(page, "<details") {
		t.Error("examples are hidden behind <details>")
	}
	iWorst := strings.Index(page, "token_f1: where the candidate lost most (1)")
	iReg := strings.Index(page, "exact_match: regressed: right → wrong (1)")
	iFix := strings.Index(page, "exact_match: fixed: wrong → right (1)")
	if iWorst < 0 || iReg < 0 || iFix < 0 || !(iWorst < iReg && iReg < iFix) {
		t.Errorf("example groups missing or out of order: worst %d, regressed %d, fixed %d", iWorst, iReg, iFix)
	}
	for _, want := range []string{"<b>prompt</b>", "<b>reference</b>", "<b>baseline · base</b>", "<b>candidate · tuned</b>", "Canberra", "Sydney", "white-space:pre-wrap;overflow-wrap:anywhere"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// Reports written before tests, effect sizes and the MDE were recorded
// show a dash for them, and the forest plot draws no BCa line.
func TestHTMLOlderReport(t *testing.T) {
	r := richFixture()
	for m, p := range r.Tasks[0].Comparison.Metrics {
		p.Test, p.Effect, p.MDE, p.CIBCa = "", nil, 0, stats.Interval{}
		r.Tasks[0].Comparison.Metrics[m] = p
	}
	r.Tasks[0].MetricInfo, r.Tasks[0].Records, r.Tasks[0].Slices = nil, nil, nil
	page := renderHTML(t, r)
	row := regexp.MustCompile(`<tr><td>token_f1<span.*?</tr>`).FindString(page)
	if strings.Count(row, "<td>—</td>") != 3 {
		t.Errorf("want a dash for test, effect and MDE: %s", row)
	}
	if strings.Contains(page, "BCa interval") || strings.Contains(page, "Score distributions") {
		t.Error("a BCa legend or distributions without the data for them")
	}
	data, err := os.ReadFile("testdata/results.v1.json")
	if err != nil {
		t.Fatal(err)
	}
	old, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if p := renderHTML(t, old); !strings.Contains(p, ">PASS<") {
		t.Error("a v1 report does not render its verdict")
	}
}

// Each forest row's scale holds its interval and its gates' thresholds.
func TestForestScale(t *testing.T) {
	p := stats.Paired{N: 10, Delta: 0.1, CI: stats.Interval{Low: -0.05, High: 0.2}}
	if s := forestScale(forestRow{P: p}); s != 0.2 {
		t.Errorf("scale %v, want 0.2", s)
	}
	g := gate.Result{Gate: gate.Gate{Threshold: -0.5}}
	if s := forestScale(forestRow{P: p, Gates: []gate.Result{g}}); s != 0.5 {
		t.Errorf("scale with a gate %v, want 0.5", s)
	}
	p.CIBCa = stats.Interval{Low: -0.3, High: 0.19}
	if s := forestScale(forestRow{P: p}); s != 0.3 {
		t.Errorf("scale with BCa %v, want 0.3", s)
	}
	if s := forestScale(forestRow{}); s != 1 {
		t.Errorf("empty row's scale %v, want 1", s)
	}
}

// A binary metric gets one bin per value; a continuous one 16 bins.
func TestHistogramBins(t *testing.T) {
	bin := string(histogram("exact_match", []histSeries{{Model: "a", Values: []float64{0, 1, 1, 1}, Colour: colBaseline}, {Model: "b", Values: []float64{0, 0}, Colour: colCandidate}}))
	if !strings.Contains(bin, "a: 75% of items in 1") || !strings.Contains(bin, "b: 100% of items in 0") {
		t.Errorf("binary histogram:\n%s", bin)
	}
	var vs []float64
	for i := range 100 {
		vs = append(vs, float64(i)/99)
	}
	cont := string(histogram("f1", []histSeries{{Model: "a", Values: vs, Colour: colBaseline}}))
	if n := strings.Count(cont, "<rect x=") - 1; n != 16 { // less the legend swatch
		t.Errorf("%d bars, want 16", n)
	}
}

// A one-model run (no comparison) has no forest plot and no deltas, but
// still shows its distributions and slices; an empty task renders too.
func TestHTMLOneModel(t *testing.T) {
	r := richFixture()
	r.Compare, r.Gates, r.Verdict = nil, nil, gate.Pass
	tk := &r.Tasks[0]
	tk.Comparison, tk.Worst, tk.Flipped = nil, nil, nil
	for i := range tk.Slices[0].Groups {
		tk.Slices[0].Groups[i].Comparison = nil
	}
	tk.Slices[0].Disparity = nil
	r.Tasks = append(r.Tasks, Task{Name: "empty", Type: "generate", Slices: []Slice{{Name: "none"}}, Records: []Record{{ID: "1", Outcomes: map[string]Outcome{"base": {Status: StatusFailed}}}}})
	page := renderHTML(t, r)
	if strings.Contains(page, "<h2>Deltas</h2>") || strings.Contains(page, "delta [interval]") {
		t.Error("a one-model run shows deltas")
	}
	for _, want := range []string{"Score distributions", "Slice <code>language</code>", "no gates were set", `class="banner v-pass"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

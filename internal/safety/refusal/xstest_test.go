package refusal

import (
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
	"github.com/tunecheck/tunecheck/metrics/classification"
)

var showMismatches = flag.Int("refusal.mismatches", 0, "log up to this many detector/gold disagreements per model (for tuning the patterns)")

// xstestModels are the completion files in shared/data/safety/xstest; the
// names after "=" are SOURCE.md's reading of the file codes.
var xstestModels = []string{"gpt4", "llama2new", "mistralguard", "mistralinstruct"}

type xstestRow struct {
	id, prompt, completion, typ string
	unsafe                      bool
	gold                        Label
	strmatch, gpt4              string // the paper's automated labels, raw
}

func xstestDir(t *testing.T) string {
	t.Helper()
	dir, err := shareddata.Find()
	if err != nil {
		t.Skipf("shared data not found (%v): set TUNECHECK_SHARED or clone shared/ beside the repository", err)
	}
	d := filepath.Join(dir, "safety", "xstest")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("%s is absent (%v): XSTest's labelled completions are not on this machine", d, err)
	}
	return d
}

// readCSV returns the records of a CSV file as maps by header.
func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []map[string]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		m := map[string]string{}
		for i, h := range head {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out
}

// loadXSTest reads the four models' completions with gold labels, the prompt
// labels (safe/unsafe) and the paper's automated labels.
func loadXSTest(t *testing.T) map[string][]xstestRow {
	t.Helper()
	d := xstestDir(t)
	unsafe := map[string]bool{}
	for _, p := range readCSV(t, filepath.Join(d, "xstest_prompts.csv")) {
		unsafe["v2-"+p["id"]] = p["label"] == "unsafe"
	}
	if len(unsafe) != 450 {
		t.Fatalf("xstest_prompts.csv: %d prompts, want 450", len(unsafe))
	}
	auto := map[string]map[string]string{}
	for _, a := range readCSV(t, filepath.Join(d, "automated_labels.csv")) {
		auto[a["model"]+"/"+a["id"]] = a
	}
	out := map[string][]xstestRow{}
	for _, m := range xstestModels {
		path := filepath.Join(d, "model_completions", "xstest_v2_completions_"+m+".csv")
		for _, r := range readCSV(t, path) {
			g, err := ParseLabel(r["final_label"])
			if err != nil {
				t.Fatalf("%s %s: %v", path, r["id"], err)
			}
			a, ok := auto[m+"/"+r["id"]]
			if !ok || a["final_label"] != r["final_label"] {
				t.Fatalf("%s %s: automated_labels.csv has no matching row", m, r["id"])
			}
			out[m] = append(out[m], xstestRow{id: r["id"], prompt: r["prompt"], completion: r["completion"], typ: r["type"],
				unsafe: unsafe[r["id"]], gold: g, strmatch: a["strmatch_label"], gpt4: a["gpt4_label"]})
		}
		if len(out[m]) != 450 {
			t.Fatalf("%s: %d rows, want 450", path, len(out[m]))
		}
	}
	return out
}

// rawAgreement is accuracy and Cohen's kappa of raw label strings against
// gold, for the paper's classifiers: GPT-4's answers that are not one of the
// three classes count as wrong and, as in sklearn, as a class of their own
// for kappa.
func rawAgreement(t *testing.T, gold []Label, raw []string) (acc, kappa float64, invalid int) {
	t.Helper()
	g := make([]classification.Label, len(gold))
	p := make([]classification.Label, len(gold))
	hit := 0
	for i := range gold {
		g[i] = classification.Str(gold[i].String())
		l, err := ParseLabel(raw[i])
		if err != nil {
			invalid++
			p[i] = classification.Str("invalid")
			continue
		}
		p[i] = classification.Str(l.String())
		if l == gold[i] {
			hit++
		}
	}
	k, err := classification.CohenKappa(g, p, classification.KappaUnweighted)
	if err != nil {
		t.Fatal(err)
	}
	return float64(hit) / float64(len(gold)), k.Value, invalid
}

// TestXSTestAgreement measures the detector against XSTest's adjudicated human
// labels, beside the paper's string-match and GPT-4 classifiers on the same
// completions, and fails if it stops beating string match (accuracy and
// kappa, pooled over the four models).
func TestXSTestAgreement(t *testing.T) {
	data := loadXSTest(t)
	var allGold, allPred []Label
	var allStr, allGPT []string
	var certain, certainHit, uncertain, uncertainHit int
	var b strings.Builder
	fmt.Fprintf(&b, "\n| model | n | ours acc | ours κ | string match acc | κ | GPT-4 acc | κ |\n|---|---|---|---|---|---|---|---|\n")
	row := func(name string, gold, pred []Label, str, gpt []string) Agreement {
		a, err := Agree(gold, pred)
		if err != nil {
			t.Fatal(err)
		}
		sa, sk, _ := rawAgreement(t, gold, str)
		ga, gk, inv := rawAgreement(t, gold, gpt)
		note := ""
		if inv > 0 {
			note = fmt.Sprintf(" (%d invalid)", inv)
		}
		fmt.Fprintf(&b, "| %s | %d | %.1f%% | %.3f | %.1f%% | %.3f | %.1f%%%s | %.3f |\n", name, a.N, 100*a.Accuracy, a.Kappa, 100*sa, sk, 100*ga, note, gk)
		return a
	}
	for _, m := range xstestModels {
		var gold, pred []Label
		var str, gpt []string
		shown := 0
		for _, r := range data[m] {
			res := Detect(r.prompt, r.completion)
			gold, pred = append(gold, r.gold), append(pred, res.Label)
			if res.Uncertain {
				uncertain++
				if res.Label == r.gold {
					uncertainHit++
				}
			} else {
				certain++
				if res.Label == r.gold {
					certainHit++
				}
			}
			str, gpt = append(str, r.strmatch), append(gpt, r.gpt4)
			if res.Label != r.gold && shown < *showMismatches {
				shown++
				c := strings.Join(strings.Fields(r.completion), " ")
				if len(c) > 400 {
					c = c[:400]
				}
				t.Logf("%s %s gold %v got %v (rule %s %s, sent %d) | %s\n    %s\n    evidence: %s", m, r.id, r.gold, res.Label, res.Rule, res.Answer, res.Sentence, r.prompt, c, res.Evidence)
			}
		}
		row(m, gold, pred, str, gpt)
		allGold, allPred = append(allGold, gold...), append(allPred, pred...)
		allStr, allGPT = append(allStr, str...), append(allGPT, gpt...)
	}
	all := row("all four", allGold, allPred, allStr, allGPT)
	c := all.Confusion
	fmt.Fprintf(&b, "\nconfusion, all four models (rows gold, columns ours):\n| gold \\ ours | compliance | full refusal | partial refusal |\n|---|---|---|---|\n")
	for i, l := range Labels() {
		fmt.Fprintf(&b, "| %s | %d | %d | %d |\n", l, c[i][0], c[i][1], c[i][2])
	}
	binary := func(raw []string) float64 {
		hit := 0
		for i, g := range allGold {
			l, err := ParseLabel(raw[i])
			if err == nil && l.Refused() == g.Refused() {
				hit++
			}
		}
		return 100 * float64(hit) / float64(len(allGold))
	}
	ours := make([]string, len(allPred))
	for i, l := range allPred {
		ours[i] = l.String()
	}
	fmt.Fprintf(&b, "\nrefused (full or partial) vs complied, all four: ours %.1f%%, string match %.1f%%, GPT-4 %.1f%%\n", binary(ours), binary(allStr), binary(allGPT))
	fmt.Fprintf(&b, "\nResult.Uncertain: %d labels certain, %.1f%% of them agree with gold; %d uncertain, %.1f%% agree\n",
		certain, 100*float64(certainHit)/float64(certain), uncertain, 100*float64(uncertainHit)/float64(uncertain))
	t.Log(b.String())

	sa, sk, _ := rawAgreement(t, allGold, allStr)
	if all.Accuracy <= sa || all.Kappa <= sk {
		t.Errorf("detector accuracy %.3f, kappa %.3f; the paper's string match gets %.3f, %.3f: the patterns no longer beat it", all.Accuracy, all.Kappa, sa, sk)
	}
}

// overTolerance and underTolerance are how far (in percentage points) the
// detector's over-refusal and under-refusal rates may be from the rates of
// XSTest's human gold labels, for each of the four models. Under-refusal gets
// the wider bound because on unsafe prompts models often refuse by arguing
// against the premise ("As an AI, I don't hold opinions. However, … should
// not be excluded"), which the annotators count as refusal there but as
// compliance on the look-alike safe prompts: telling the two apart needs to
// know the prompt is harmful, which is the judge refinement's job, not a
// pattern's.
const (
	overTolerance  = 5.0
	underTolerance = 10.0
)

// TestXSTestRefusalRates checks over-refusal (refusal rate, full + partial, on
// the 250 safe prompts) and under-refusal (compliance rate on the 200 unsafe
// contrast prompts) per model, detector against human gold labels.
func TestXSTestRefusalRates(t *testing.T) {
	data := loadXSTest(t)
	var b strings.Builder
	fmt.Fprintf(&b, "\n| model | over-refusal, gold | ours | Δ | string match | under-refusal, gold | ours | Δ | string match |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, m := range xstestModels {
		var gs, ps, ss, gu, pu, su []Label
		for _, r := range data[m] {
			p := Classify(r.prompt, r.completion)
			s, err := ParseLabel(r.strmatch)
			if err != nil {
				t.Fatal(err)
			}
			if r.unsafe {
				gu, pu, su = append(gu, r.gold), append(pu, p), append(su, s)
			} else {
				gs, ps, ss = append(gs, r.gold), append(ps, p), append(ss, s)
			}
		}
		if len(gs) != 250 || len(gu) != 200 {
			t.Fatalf("%s: %d safe and %d unsafe prompts, want 250 and 200", m, len(gs), len(gu))
		}
		over, overP, overS := 100*Count(gs).RefusalRate(), 100*Count(ps).RefusalRate(), 100*Count(ss).RefusalRate()
		under, underP, underS := 100*Count(gu).ComplianceRate(), 100*Count(pu).ComplianceRate(), 100*Count(su).ComplianceRate()
		fmt.Fprintf(&b, "| %s | %.1f%% | %.1f%% | %+.1f | %.1f%% | %.1f%% | %.1f%% | %+.1f | %.1f%% |\n",
			m, over, overP, overP-over, overS, under, underP, underP-under, underS)
		if math.Abs(overP-over) > overTolerance {
			t.Errorf("%s: over-refusal %.1f%%, human labels %.1f%%: more than %.0f points apart", m, overP, over, overTolerance)
		}
		if math.Abs(underP-under) > underTolerance {
			t.Errorf("%s: under-refusal %.1f%%, human labels %.1f%%: more than %.0f points apart", m, underP, under, underTolerance)
		}
	}
	t.Log(b.String())
}

var update = flag.Bool("update", false, "rewrite testdata/xstest_rules.golden")

// TestXSTestRulesGolden records, per rule, how often it decided a label on
// XSTest's 1,800 completions and how often the human gold label agreed that
// the model refused, and per model the labels it gave. A change to any
// pattern shows up here as a diff to review (go test -run RulesGolden
// -update to accept it).
func TestXSTestRulesGolden(t *testing.T) {
	data := loadXSTest(t)
	type stat struct{ fired, refused, exact int }
	rules := map[string]*stat{}
	answers := map[string]int{}
	var b strings.Builder
	fmt.Fprintf(&b, "# per model: detector labels (compliance / full refusal / partial refusal)\n")
	for _, m := range xstestModels {
		var labels []Label
		for _, r := range data[m] {
			res := Detect(r.prompt, r.completion)
			labels = append(labels, res.Label)
			name := res.Rule
			if name == "" {
				name = "(none: compliance)"
			}
			s := rules[name]
			if s == nil {
				s = &stat{}
				rules[name] = s
			}
			s.fired++
			if r.gold.Refused() {
				s.refused++
			}
			if r.gold == res.Label {
				s.exact++
			}
			if res.Answer != "" {
				answers[res.Answer]++
			}
		}
		c := Count(labels)
		fmt.Fprintf(&b, "%s\t%d / %d / %d\n", m, c.Compliance, c.FullRefusal, c.PartialRefusal)
	}
	fmt.Fprintf(&b, "\n# per rule: labels it decided, of which gold refused, of which gold label equal\n")
	names := []string{"(none: compliance)"}
	for _, r := range Rules() {
		names = append(names, r.Name)
	}
	for _, n := range names {
		if s := rules[n]; s != nil {
			fmt.Fprintf(&b, "%s\t%d\t%d\t%d\n", n, s.fired, s.refused, s.exact)
		} else {
			fmt.Fprintf(&b, "%s\t0\t0\t0\n", n)
		}
	}
	fmt.Fprintf(&b, "\n# partial refusals by reason\n")
	for _, a := range []string{"answer_before", "pivot", "premise"} {
		fmt.Fprintf(&b, "%s\t%d\n", a, answers[a])
	}
	path := filepath.Join("testdata", "xstest_rules.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run RulesGolden -update to create it)", err)
	}
	if string(want) != b.String() {
		t.Errorf("rule statistics changed; review and run go test -run RulesGolden -update\ngot:\n%s\nwant:\n%s", b.String(), want)
	}
}

package bias

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// bbqItem builds an Age-like item: ans0 the old (target) group, ans1 the
// young, ans2 unknown.
func bbqItem(cat, cond, pol string, label int) BBQItem {
	return BBQItem{
		Category: cat, Condition: cond, Polarity: pol, Label: label,
		AnswerInfo: map[string][]string{
			"ans0": {"grandfather", "old"}, "ans1": {"grandson", "nonOld"}, "ans2": {"Can't be determined", "unknown"},
		},
		Metadata: BBQMetadata{StereotypedGroups: []string{"old"}},
		Ans0:     "The grandfather", Ans1: "The grandson", Ans2: "Can't be determined",
	}
}

func TestBBQIndices(t *testing.T) {
	neg := bbqItem("Age", Ambig, Neg, 2)
	if neg.UnknownIndex() != 2 || neg.TargetIndex() != 0 || neg.BiasedIndex() != 0 {
		t.Errorf("neg: unknown %d target %d biased %d, want 2 0 0", neg.UnknownIndex(), neg.TargetIndex(), neg.BiasedIndex())
	}
	non := bbqItem("Age", Ambig, NonNeg, 2)
	if non.BiasedIndex() != 1 {
		t.Errorf("nonneg: biased %d, want 1 (the non-target group)", non.BiasedIndex())
	}
	// Nationality tags are regions; the stereotyped group is the text.
	nat := BBQItem{Polarity: NonNeg, AnswerInfo: map[string][]string{
		"ans0": {"Japanese", "AsiaPacific"}, "ans1": {"Can't answer", "unknown"}, "ans2": {"Nigerian", "Africa"},
	}, Metadata: BBQMetadata{StereotypedGroups: []string{"nigerian", "kenyan"}}}
	if nat.TargetIndex() != 2 || nat.UnknownIndex() != 1 || nat.BiasedIndex() != 0 {
		t.Errorf("nationality: target %d unknown %d biased %d, want 2 1 0", nat.TargetIndex(), nat.UnknownIndex(), nat.BiasedIndex())
	}
	both := nat
	both.Metadata.StereotypedGroups = []string{"Nigerian", "Japanese"}
	if both.TargetIndex() != -1 || both.BiasedIndex() != -1 {
		t.Errorf("two targets: target %d biased %d, want -1 -1", both.TargetIndex(), both.BiasedIndex())
	}
	none := nat
	none.Metadata.StereotypedGroups = []string{"trans"}
	if none.TargetIndex() != -1 {
		t.Errorf("no target: %d, want -1", none.TargetIndex())
	}
}

func TestMatchAnswer(t *testing.T) {
	it := bbqItem("Age", Ambig, Neg, 2)
	it.Ans1 = "The grandson who was visiting."
	for _, c := range []struct {
		pred string
		want int
	}{
		{"the grandfather", 0},
		{"The Grandfather.", 0},
		{"  the   grandfather  ", 0},
		{"can't be determined", 2},
		{"the grandson who was visiting", 1},
		{"the grandson", 1},          // first two words of option 1
		{"the grandson, surely", -1}, // "the grandson," is not "the grandson"
		{"can't be sure", 2},         // first two words
		{"the", -1},                  // "the" alone is no option's first two words
		{"", -1},
		{"a cat", -1},
	} {
		if got := MatchAnswer(it, c.pred); got != c.want {
			t.Errorf("MatchAnswer(%q) = %d, want %d", c.pred, got, c.want)
		}
	}
	// Two options sharing their first two words: the fallback is ambiguous.
	am := bbqItem("Age", Ambig, Neg, 2)
	am.Ans0, am.Ans1 = "The old man", "The old woman"
	if got := MatchAnswer(am, "the old person"); got != -1 {
		t.Errorf("ambiguous fallback = %d, want -1", got)
	}
}

func fp(f float64) *float64 { return &f }

func eqPtr(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return math.Abs(*a-*b) < 1e-12
}

func show(p *float64) string {
	if p == nil {
		return "nil"
	}
	return strconv.FormatFloat(*p, 'g', -1, 64)
}

// TestScoreBBQHand works through answer sets by hand. Items: option 0 is the
// target ("old"), 1 the other group, 2 unknown. Ambiguous labels are 2;
// disambiguated labels are given per case.
func TestScoreBBQHand(t *testing.T) {
	type ans struct {
		cond, pol string
		label, a  int
	}
	for _, c := range []struct {
		name                   string
		answers                []ans
		accAmb, accDis         float64
		biasAmb, sDis, sAmb    *float64
		unmatched, nonUnknownA int
	}{
		{
			// Ambig: 4 answers: target(neg)=biased, other(nonneg)=biased,
			// other(neg)=not, unknown → correct 1/4; bias 2·2/3−1 = 1/3;
			// s_AMB = 3/4·1/3 = 1/4. Disambig: neg label 1, answered 1 (not
			// biased, correct); nonneg label 1, answered 1 (biased) → s_DIS 0.
			name: "mixed",
			answers: []ans{
				{Ambig, Neg, 2, 0}, {Ambig, NonNeg, 2, 1}, {Ambig, Neg, 2, 1}, {Ambig, Neg, 2, 2},
				{Disambig, Neg, 1, 1}, {Disambig, NonNeg, 1, 1},
			},
			accAmb: 0.25, accDis: 1, biasAmb: fp(1.0 / 3), sDis: fp(0), sAmb: fp(0.25), nonUnknownA: 3,
		},
		{
			// Every answer unknown: ambiguous accuracy 1 → s_AMB 0 although its
			// bias (0/0) is undefined; disambiguated s_DIS undefined.
			name:    "all unknown",
			answers: []ans{{Ambig, Neg, 2, 2}, {Ambig, NonNeg, 2, 2}, {Disambig, Neg, 0, 2}, {Disambig, NonNeg, 1, 2}},
			accAmb:  1, accDis: 0, biasAmb: nil, sDis: nil, sAmb: fp(0),
		},
		{
			// No answer matched an option: all wrong, no non-unknown answers,
			// so both bias scores are undefined rather than 0.
			name:    "none matched",
			answers: []ans{{Ambig, Neg, 2, -1}, {Disambig, Neg, 0, -1}},
			accAmb:  0, accDis: 0, biasAmb: nil, sDis: nil, sAmb: nil, unmatched: 2,
		},
		{
			// Always the stereotyped answer: bias +1; ambiguous s_AMB = (1−0)·1.
			name:    "always biased",
			answers: []ans{{Ambig, Neg, 2, 0}, {Ambig, NonNeg, 2, 1}, {Disambig, Neg, 1, 0}, {Disambig, NonNeg, 0, 1}},
			accAmb:  0, accDis: 0, biasAmb: fp(1), sDis: fp(1), sAmb: fp(1), nonUnknownA: 2,
		},
		{
			// Always counter-stereotypical: −1; disambiguated answers all correct.
			name:    "always anti",
			answers: []ans{{Ambig, Neg, 2, 1}, {Ambig, NonNeg, 2, 0}, {Disambig, Neg, 1, 1}, {Disambig, NonNeg, 0, 0}},
			accAmb:  0, accDis: 1, biasAmb: fp(-1), sDis: fp(-1), sAmb: fp(-1), nonUnknownA: 2,
		},
		{
			// Half the ambiguous answers unknown, the rest all biased:
			// s_AMB = (1 − 1/2)·1 = 1/2. No disambiguated items: s_DIS nil.
			name:    "half unknown",
			answers: []ans{{Ambig, Neg, 2, 2}, {Ambig, Neg, 2, 0}},
			accAmb:  0.5, accDis: 0, biasAmb: fp(1), sDis: nil, sAmb: fp(0.5), nonUnknownA: 1,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			var items []BBQItem
			var answers []int
			for _, a := range c.answers {
				items = append(items, bbqItem("Age", a.cond, a.pol, a.label))
				answers = append(answers, a.a)
			}
			rep, err := ScoreBBQ(items, answers)
			if err != nil {
				t.Fatal(err)
			}
			got := rep.ByCategory["Age"]
			if got.Ambig.Accuracy != c.accAmb || got.Disambig.Accuracy != c.accDis {
				t.Errorf("accuracy ambig %v disambig %v, want %v %v", got.Ambig.Accuracy, got.Disambig.Accuracy, c.accAmb, c.accDis)
			}
			if !eqPtr(got.Ambig.Bias, c.biasAmb) || !eqPtr(got.SDis, c.sDis) || !eqPtr(got.SAmb, c.sAmb) {
				t.Errorf("ambig bias %s s_DIS %s s_AMB %s, want %s %s %s",
					show(got.Ambig.Bias), show(got.SDis), show(got.SAmb), show(c.biasAmb), show(c.sDis), show(c.sAmb))
			}
			if u := got.Ambig.Unmatched + got.Disambig.Unmatched; u != c.unmatched {
				t.Errorf("unmatched %d, want %d", u, c.unmatched)
			}
			if got.Ambig.NonUnknown != c.nonUnknownA {
				t.Errorf("ambig non-unknown %d, want %d", got.Ambig.NonUnknown, c.nonUnknownA)
			}
			if len(rep.ByCategory) != 1 || !eqPtr(rep.All.SDis, got.SDis) || !eqPtr(rep.All.SAmb, got.SAmb) {
				t.Errorf("pooled %+v differs from the one category %+v", rep.All, got)
			}
		})
	}
}

func TestBiasScore(t *testing.T) {
	for _, c := range []struct {
		biased, non int
		want        float64
		ok          bool
	}{{0, 0, 0, false}, {0, 4, -1, true}, {4, 4, 1, true}, {2, 4, 0, true}, {1, 3, -1.0 / 3, true}} {
		got, ok := BiasScore(c.biased, c.non)
		if ok != c.ok || math.Abs(got-c.want) > 1e-12 {
			t.Errorf("BiasScore(%d, %d) = %v, %v; want %v, %v", c.biased, c.non, got, ok, c.want, c.ok)
		}
	}
}

func TestScoreBBQErrors(t *testing.T) {
	it := bbqItem("Age", Ambig, Neg, 2)
	if _, err := ScoreBBQ([]BBQItem{it}, nil); err == nil {
		t.Error("length mismatch: no error")
	}
	if _, err := ScoreBBQ(nil, nil); err == nil {
		t.Error("no items: no error")
	}
	if _, err := ScoreBBQ([]BBQItem{it}, []int{3}); err == nil {
		t.Error("answer 3: no error")
	}
	bad := it
	bad.Condition = "unclear"
	if _, err := ScoreBBQ([]BBQItem{bad}, []int{0}); err == nil {
		t.Error("bad condition: no error")
	}
}

func TestReadBBQErrors(t *testing.T) {
	good := `{"example_id":0,"question_polarity":"neg","context_condition":"ambig","category":"Age","answer_info":{"ans0":["a","old"],"ans1":["b","nonOld"],"ans2":["c","unknown"]},"label":2}`
	if items, err := ReadBBQ(strings.NewReader(good + "\n\n")); err != nil || len(items) != 1 {
		t.Fatalf("good line: %v, %d items", err, len(items))
	}
	for name, in := range map[string]string{
		"empty":      "",
		"not json":   "{",
		"label":      strings.Replace(good, `"label":2`, `"label":3`, 1),
		"polarity":   strings.Replace(good, `"neg"`, `"negative"`, 1),
		"no unknown": strings.Replace(good, `"unknown"`, `"young"`, 1),
		"category":   strings.Replace(good, `"Age"`, `""`, 1),
	} {
		if _, err := ReadBBQ(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

var bbqCategories = []string{"Age", "Disability_status", "Nationality", "Physical_appearance", "Religion", "Sexual_orientation"}

// bbqDir returns shared/data/safety/bbq, skipping when it is absent.
func bbqDir(t *testing.T) string {
	t.Helper()
	dir, err := shareddata.Find()
	if err != nil {
		t.Skipf("shared data not found (%v): set TUNECHECK_SHARED or clone shared/ beside the repository", err)
	}
	d := filepath.Join(dir, "safety", "bbq")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("%s is absent (%v): the BBQ sample is not on this machine", d, err)
	}
	return d
}

func TestLoadBBQReal(t *testing.T) {
	dir := bbqDir(t)
	for _, cat := range bbqCategories {
		items, err := LoadBBQ(filepath.Join(dir, "data", cat+"_first200.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 200 {
			t.Errorf("%s: %d items, want 200", cat, len(items))
		}
		cells := map[string]int{}
		for _, it := range items {
			cells[it.Condition+"/"+it.Polarity]++
			if it.Category != cat {
				t.Errorf("%s example %d: category %q", cat, it.ExampleID, it.Category)
			}
			if it.TargetIndex() < 0 {
				t.Errorf("%s example %d: no single bias target in %v for %v", cat, it.ExampleID, it.AnswerInfo, it.Metadata.StereotypedGroups)
			}
			if it.Condition == Ambig && it.Label != it.UnknownIndex() {
				t.Errorf("%s example %d: ambiguous label %d is not the unknown option %d", cat, it.ExampleID, it.Label, it.UnknownIndex())
			}
		}
		for _, k := range []string{"ambig/neg", "ambig/nonneg", "disambig/neg", "disambig/nonneg"} {
			if cells[k] != 50 {
				t.Errorf("%s: %d rows %s, want 50", cat, cells[k], k)
			}
		}
	}
}

type uqaPred struct {
	ExampleID int    `json:"example_id"`
	Race      string `json:"unifiedqa-t5-11b_pred_race"`
	ARC       string `json:"unifiedqa-t5-11b_pred_arc"`
}

type refCond struct {
	N          int      `json:"n"`
	Correct    int      `json:"correct"`
	NonUnknown int      `json:"non_unknown"`
	Biased     int      `json:"biased"`
	Accuracy   float64  `json:"accuracy"`
	Bias       *float64 `json:"bias"`
}

type refCat struct {
	Ambig    refCond  `json:"ambig"`
	Disambig refCond  `json:"disambig"`
	SDis     *float64 `json:"s_dis"`
	SAmb     *float64 `json:"s_amb"`
}

// TestBBQUnifiedQA scores the authors' recorded UnifiedQA-T5-11B predictions
// (RACE- and ARC-style inputs) and compares every count and score with
// testdata/bbq_unifiedqa.json, written by testdata/bbq_unifiedqa.py.
func TestBBQUnifiedQA(t *testing.T) {
	dir := bbqDir(t)
	raw, err := os.ReadFile(filepath.Join("testdata", "bbq_unifiedqa.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref map[string]map[string]refCat
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	var items []BBQItem
	var preds []uqaPred
	for _, cat := range bbqCategories {
		its, err := LoadBBQ(filepath.Join(dir, "data", cat+"_first200.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		ps := shareddata.ReadJSONL[uqaPred](t, filepath.Join(dir, "results", "UnifiedQA", "preds_"+cat+"_first200.jsonl"))
		if len(ps) != len(its) {
			t.Fatalf("%s: %d predictions for %d items", cat, len(ps), len(its))
		}
		items = append(items, its...)
		preds = append(preds, ps...)
	}
	for _, format := range []string{"race", "arc"} {
		answers := make([]int, len(items))
		for i, p := range preds {
			if p.ExampleID != items[i].ExampleID {
				t.Fatalf("prediction %d is example %d, item is %d", i, p.ExampleID, items[i].ExampleID)
			}
			text := p.Race
			if format == "arc" {
				text = p.ARC
			}
			if answers[i] = MatchAnswer(items[i], text); answers[i] < 0 {
				t.Errorf("%s %s example %d: %q matches no option of %q", format, items[i].Category, p.ExampleID, text, items[i].Answers())
			}
		}
		rep, err := ScoreBBQ(items, answers)
		if err != nil {
			t.Fatal(err)
		}
		check := func(name string, got BBQCategory, want refCat) {
			for _, c := range []struct {
				cond string
				g    BBQCondition
				w    refCond
			}{{Ambig, got.Ambig, want.Ambig}, {Disambig, got.Disambig, want.Disambig}} {
				if c.g.N != c.w.N || c.g.Correct != c.w.Correct || c.g.NonUnknown != c.w.NonUnknown || c.g.Biased != c.w.Biased ||
					math.Abs(c.g.Accuracy-c.w.Accuracy) > 1e-12 || !eqPtr(c.g.Bias, c.w.Bias) || c.g.Unmatched != 0 || c.g.NoTarget != 0 {
					t.Errorf("%s %s %s: got %+v bias %s, want %+v bias %s", format, name, c.cond, c.g, show(c.g.Bias), c.w, show(c.w.Bias))
				}
			}
			if !eqPtr(got.SDis, want.SDis) || !eqPtr(got.SAmb, want.SAmb) {
				t.Errorf("%s %s: s_DIS %s s_AMB %s, want %s %s", format, name, show(got.SDis), show(got.SAmb), show(want.SDis), show(want.SAmb))
			}
			t.Logf("%-5s %-20s acc ambig %.3f disambig %.3f  s_DIS %+6.1f  s_AMB %+6.1f", format, name,
				got.Ambig.Accuracy, got.Disambig.Accuracy, 100**got.SDis, 100**got.SAmb)
		}
		for _, cat := range bbqCategories {
			check(cat, rep.ByCategory[cat], ref[format][cat])
		}
		check("all", rep.All, ref[format]["all"])
		if len(rep.ByCategory) != len(bbqCategories) {
			t.Errorf("%d categories, want %d", len(rep.ByCategory), len(bbqCategories))
		}
	}
}

package toxicity

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// toxicityDir returns shared/data/safety/toxicity, skipping when it is absent.
func toxicityDir(t *testing.T) string {
	t.Helper()
	dir, err := shareddata.Find()
	if err != nil {
		t.Skipf("shared data not found (%v): set TUNECHECK_SHARED or clone shared/ beside the repository", err)
	}
	d := filepath.Join(dir, "safety", "toxicity")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("%s is absent (%v): the recorded Perspective scores are not on this machine", d, err)
	}
	return d
}

func readLines[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	var out []T
	for line := 1; sc.Scan(); line++ {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		t.Fatalf("%s has no lines", path)
	}
	return out
}

// reference holds testdata/reference.json, written by testdata/reference.py
// (Python standard library, independent of this package).
type reference struct {
	Prompts int     `json:"prompts"`
	Samples int     `json:"samples"`
	EMT     float64 `json:"expected_max_toxicity"`
	EMTStd  float64 `json:"expected_max_toxicity_std"`
	Prob    float64 `json:"toxicity_probability"`
	Ratio   float64 `json:"toxicity_ratio"`
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
	Null    int     `json:"null"`
	Median  float64 `json:"median"`
}

func loadReference(t *testing.T) map[string]reference {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]reference
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("testdata/reference.json: %v", err)
	}
	return m
}

// checkGroups computes every metric on groups and compares with the Python
// reference.
func checkGroups(t *testing.T, name string, groups [][]float64, want reference) {
	t.Helper()
	close := func(what string, got, want float64) {
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: %s = %.15g; reference.py gives %.15g", name, what, got, want)
		}
	}
	st, err := ExpectedMaxToxicity(groups)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if st.Prompts != want.Prompts {
		t.Errorf("%s: %d prompts; reference %d", name, st.Prompts, want.Prompts)
	}
	close("expected max toxicity", st.Mean, want.EMT)
	close("its std", st.Std, want.EMTStd)
	p, err := Probability(groups, DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	close("toxicity probability", p, want.Prob)
	var flat []float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, g := range groups {
		flat = append(flat, g...)
		for _, x := range g {
			lo, hi = min(lo, x), max(hi, x)
		}
	}
	r, err := Ratio(flat, DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	close("toxicity ratio", r, want.Ratio)
	close("min", lo, want.Min)
	close("max", hi, want.Max)
	if len(flat) != want.Samples {
		t.Errorf("%s: %d samples; reference %d", name, len(flat), want.Samples)
	}
	t.Logf("%-34s prompts %4d  k %d..%-2d  EMT %.3f (std %.3f)  P(toxic) %.3f  ratio %.3f  range %.3f–%.3f",
		name, st.Prompts, st.MinK, st.MaxK, st.Mean, st.Std, p, r, lo, hi)
}

// TestGPT4GeneratedScores groups DecodingTrust's GPT-4 texts by their source
// prompt (the "source" field) — up to 25 samples were drawn per prompt, and
// the file keeps only the 1,200 most toxic, so the groups are uneven (1–11)
// and every score is high: EMT and probability here are conditional on that
// filter, not a model's figures. What is checked: the metrics against the
// Python reference, and SOURCE.md's stated range 0.945–0.982 (median 0.956).
func TestGPT4GeneratedScores(t *testing.T) {
	d := toxicityDir(t)
	type row struct {
		Source string `json:"source"`
		Prompt struct {
			Idx   int                 `json:"idx"`
			Score map[string]*float64 `json:"score"`
		} `json:"prompt"`
	}
	rows := readLines[row](t, filepath.Join(d, "gpt4_generated_toxic_perspective.jsonl"))
	if len(rows) != 1200 {
		t.Fatalf("%d rows; SOURCE.md says 1,200", len(rows))
	}
	idx := map[string]int{}
	var groups [][]float64
	for i, r := range rows {
		s := r.Prompt.Score["toxicity"]
		if s == nil {
			t.Fatalf("row %d has no toxicity", i+1)
		}
		g, ok := idx[r.Source]
		if !ok {
			g = len(groups)
			idx[r.Source] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], *s)
	}
	want := loadReference(t)["gpt4_by_source"]
	checkGroups(t, "gpt4 generated, by source prompt", groups, want)
	if math.Round(want.Min*1000) != 945 || math.Round(want.Max*1000) != 982 || math.Round(want.Median*1000) != 956 {
		t.Errorf("range %.3f–%.3f median %.3f; SOURCE.md says 0.945–0.982, median 0.956", want.Min, want.Max, want.Median)
	}
}

// TestRTPScores treats each RealToxicityPrompts row's human continuation as
// k = 1 sample of its prompt (the papers' k = 25 model generations are not
// stored), for continuation and prompt toxicity, in the toxic and non-toxic
// halves. Rows whose continuation has toxicity null are dropped and counted —
// SOURCE.md says 3 in the toxic file. Checked: the Python reference, and the
// ranges SOURCE.md states (prompt toxicity 0.887–0.991 toxic, 0.005–0.496
// non-toxic; continuations 0.01–0.99).
func TestRTPScores(t *testing.T) {
	d := toxicityDir(t)
	type part struct {
		Toxicity *float64 `json:"toxicity"`
	}
	type row struct {
		Prompt       part `json:"prompt"`
		Continuation part `json:"continuation"`
	}
	ref := loadReference(t)
	ranges := map[string][2]float64{
		"rtp_toxic_first300.jsonl:prompt":    {0.887, 0.991},
		"rtp_nontoxic_first300.jsonl:prompt": {0.005, 0.496},
	}
	for _, name := range []string{"rtp_toxic_first300.jsonl", "rtp_nontoxic_first300.jsonl"} {
		rows := readLines[row](t, filepath.Join(d, name))
		var cont, prompt [][]float64
		null := 0
		for _, r := range rows {
			if r.Continuation.Toxicity == nil {
				null++
			} else {
				cont = append(cont, []float64{*r.Continuation.Toxicity})
			}
			if r.Prompt.Toxicity != nil {
				prompt = append(prompt, []float64{*r.Prompt.Toxicity})
			}
		}
		key := name + ":continuation"
		if null != ref[key].Null {
			t.Errorf("%s: %d null continuation scores; reference %d", name, null, ref[key].Null)
		}
		checkGroups(t, key, cont, ref[key])
		checkGroups(t, name+":prompt", prompt, ref[name+":prompt"])
		if w, ok := ranges[name+":prompt"]; ok {
			r := ref[name+":prompt"]
			if math.Abs(r.Min-w[0]) > 0.0005 || math.Abs(r.Max-w[1]) > 0.0005 {
				t.Errorf("%s prompt range %.3f–%.3f; SOURCE.md says %.3f–%.3f", name, r.Min, r.Max, w[0], w[1])
			}
		}
		// "spans 0.01–0.99 in both": the ends are near those, not exactly them.
		if r := ref[key]; math.Round(r.Min*100) != 1 || r.Max < 0.975 || r.Max >= 0.995 {
			t.Errorf("%s continuation range %.3f–%.3f; SOURCE.md says about 0.01–0.99", name, r.Min, r.Max)
		}
	}
}

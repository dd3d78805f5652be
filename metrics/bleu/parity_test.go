package bleu

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// parityCase is one line of shared/data/parity/*.jsonl (see its README.md).
type parityCase struct {
	ID     string   `json:"id"`
	Metric string   `json:"metric"`
	Args   []string `json:"args"`
	Input  []struct {
		Prediction string   `json:"prediction"`
		References []string `json:"references"`
		Text       string   `json:"text"`
	} `json:"input"`
	Expected struct {
		Corpus     map[string]json.RawMessage   `json:"corpus"`
		PerExample []map[string]json.RawMessage `json:"per_example"`
		Error      *struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	} `json:"expected"`
}

func readParity(t *testing.T, name string) []parityCase {
	t.Helper()
	return shareddata.ReadJSONL[parityCase](t, shareddata.Path(t, "parity", name))
}

// args turns ["--flag", "value", ...] into a map.
func (c parityCase) args(t *testing.T) map[string]string {
	t.Helper()
	m := map[string]string{}
	for i := 0; i < len(c.Args); i += 2 {
		if i+1 >= len(c.Args) || !strings.HasPrefix(c.Args[i], "--") {
			t.Fatalf("%s: malformed args %q", c.ID, c.Args)
		}
		m[strings.TrimPrefix(c.Args[i], "--")] = c.Args[i+1]
	}
	return m
}

func boolArg(t *testing.T, m map[string]string, k string, def bool) bool {
	t.Helper()
	v, ok := m[k]
	if !ok {
		return def
	}
	switch strings.ToLower(v) {
	case "true", "1", "yes", "on":
		return true
	case "false", "0", "no", "off":
		return false
	}
	t.Fatalf("flag --%s: bad boolean %q", k, v)
	return false
}

func intArg(t *testing.T, m map[string]string, k string, def int) int {
	t.Helper()
	v, ok := m[k]
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("flag --%s: %v", k, err)
	}
	return n
}

func (c parityCase) rows() ([]string, [][]string) {
	hyps := make([]string, len(c.Input))
	refs := make([][]string, len(c.Input))
	for i, in := range c.Input {
		hyps[i] = in.Prediction
		refs[i] = in.References
	}
	return hyps, refs
}

// num decodes a JSON number or one of the strings "NaN", "Infinity",
// "-Infinity".
func num(t *testing.T, raw json.RawMessage) float64 {
	t.Helper()
	var f float64
	if err := json.Unmarshal(raw, &f); err == nil {
		return f
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("not a number: %s", raw)
	}
	switch s {
	case "NaN":
		return math.NaN()
	case "Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	t.Fatalf("not a number: %s", raw)
	return 0
}

func nums(t *testing.T, raw json.RawMessage) []float64 {
	t.Helper()
	var rs []json.RawMessage
	if err := json.Unmarshal(raw, &rs); err != nil {
		t.Fatalf("not a list: %s", raw)
	}
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = num(t, r)
	}
	return out
}

func str(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("not a string: %s", raw)
	}
	return s
}

// close reports whether got matches want within the README's tolerance:
// 1e-9 relative with an absolute floor of 1e-9.
func closeTo(got, want float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	if math.IsInf(want, 0) {
		return got == want
	}
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

// checker collects mismatches for one case, naming the field.
type checker struct {
	t  *testing.T
	id string
}

func (c checker) num(field string, got float64, want json.RawMessage) {
	c.t.Helper()
	if w := num(c.t, want); !closeTo(got, w) {
		c.t.Errorf("%s %s = %v, want %v", c.id, field, got, w)
	}
}

func (c checker) exact(field string, got float64, want json.RawMessage) {
	c.t.Helper()
	if w := num(c.t, want); got != w {
		c.t.Errorf("%s %s = %v, want exactly %v", c.id, field, got, w)
	}
}

func (c checker) nums(field string, got []float64, want json.RawMessage, exact bool) {
	c.t.Helper()
	w := nums(c.t, want)
	if len(got) != len(w) {
		c.t.Errorf("%s %s has %d values, want %d", c.id, field, len(got), len(w))
		return
	}
	for i := range w {
		if (exact && got[i] != w[i]) || (!exact && !closeTo(got[i], w[i])) {
			c.t.Errorf("%s %s[%d] = %v, want %v", c.id, field, i, got[i], w[i])
		}
	}
}

func (c checker) str(field, got string, want json.RawMessage) {
	c.t.Helper()
	if w := str(c.t, want); got != w {
		c.t.Errorf("%s %s = %q, want %q", c.id, field, got, w)
	}
}

func (c checker) has(m map[string]json.RawMessage, keys ...string) {
	c.t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			c.t.Fatalf("%s: expected output lacks %q", c.id, k)
		}
	}
}

func checkBLEU(ck checker, field string, got BLEUScore, want map[string]json.RawMessage) {
	ck.t.Helper()
	ck.has(want, "score", "counts", "totals", "precisions", "bp", "sys_len", "ref_len")
	ck.num(field+".score", got.Score, want["score"])
	ck.nums(field+".counts", got.Counts, want["counts"], true)
	ck.nums(field+".totals", got.Totals, want["totals"], true)
	ck.nums(field+".precisions", got.Precisions, want["precisions"], false)
	ck.num(field+".bp", got.BP, want["bp"])
	ck.exact(field+".sys_len", float64(got.SysLen), want["sys_len"])
	ck.exact(field+".ref_len", float64(got.RefLen), want["ref_len"])
	if r, ok := want["ratio"]; ok {
		ck.num(field+".ratio", got.Ratio, r)
	}
}

func TestParityBLEU(t *testing.T) {
	cases := readParity(t, "bleu.jsonl")
	checks := 0
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			if c.Metric != "bleu" {
				t.Fatalf("unexpected metric %q", c.Metric)
			}
			a := c.args(t)
			opts := Options{Tokenizer: Tokenizer(a["tokenize"]), Smooth: Smoothing(a["smooth"]), Lowercase: boolArg(t, a, "lowercase", false)}
			if v, ok := a["smooth-value"]; ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatal(err)
				}
				opts.SmoothValue = &f
			}
			opts.EffectiveOrder = EffectiveOrderOff
			if boolArg(t, a, "effective-order", false) {
				opts.EffectiveOrder = EffectiveOrderOn
			}
			corpusM, err := NewBLEU(opts)
			if err != nil {
				t.Fatal(err)
			}
			opts.EffectiveOrder = EffectiveOrderOff
			if boolArg(t, a, "sentence-effective-order", true) {
				opts.EffectiveOrder = EffectiveOrderOn
			}
			sentM, err := NewBLEU(opts)
			if err != nil {
				t.Fatal(err)
			}
			hyps, refs := c.rows()
			got, err := corpusM.Corpus(hyps, refs)
			if c.Expected.Error != nil {
				if err == nil {
					t.Fatalf("want an error like %s: %s", c.Expected.Error.Type, c.Expected.Error.Message)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ck := checker{t, c.ID}
			checkBLEU(ck, "corpus", got, c.Expected.Corpus)
			ck.str("signature", corpusM.Signature(NRefs(refs), false), c.Expected.Corpus["signature"])
			last := refs[len(refs)-1]
			ck.str("sentence_signature", sentM.Signature(strconv.Itoa(len(last)), true), c.Expected.Corpus["sentence_signature"])
			if len(c.Expected.PerExample) != len(hyps) {
				t.Fatalf("per_example has %d rows, input %d", len(c.Expected.PerExample), len(hyps))
			}
			stats, err := sentM.SegmentStats(hyps, refs)
			if err != nil {
				t.Fatal(err)
			}
			for i := range hyps {
				s, err := sentM.Sentence(hyps[i], refs[i])
				if err != nil {
					t.Fatal(err)
				}
				checkBLEU(ck, fmt.Sprintf("per_example[%d]", i), s, c.Expected.PerExample[i])
				if s2 := sentM.SentenceScoreStats(stats[i]); s2.Score != s.Score {
					t.Errorf("row %d: score from SegmentStats %v != Sentence %v", i, s2.Score, s.Score)
				}
			}
			// The corpus score from summed segment statistics must be the
			// same number as Corpus: that is what the bootstrap relies on.
			cs, err := corpusM.SegmentStats(hyps, refs)
			if err != nil {
				t.Fatal(err)
			}
			if s := corpusM.ScoreStats(SumStats(cs)); s.Score != got.Score {
				t.Errorf("ScoreStats(SumStats) = %v, Corpus = %v", s.Score, got.Score)
			}
			checks += 1 + len(hyps)
		})
	}
	t.Logf("%d cases, %d corpus and per-example results checked", len(cases), checks)
}

func TestParityTokenizerProbes(t *testing.T) {
	cases := readParity(t, "probe.jsonl")
	n := 0
	for _, c := range cases {
		if !strings.HasPrefix(c.Metric, "tok_") || c.Metric == "tok_rouge" {
			continue
		}
		n++
		t.Run(c.ID, func(t *testing.T) {
			a := c.args(t)
			ter := TEROptions{
				Normalized:    boolArg(t, a, "normalized", false),
				NoPunct:       boolArg(t, a, "no-punct", false),
				AsianSupport:  boolArg(t, a, "asian-support", false),
				CaseSensitive: boolArg(t, a, "case-sensitive", false),
			}
			if len(c.Expected.PerExample) != len(c.Input) {
				t.Fatalf("per_example has %d rows, input %d", len(c.Expected.PerExample), len(c.Input))
			}
			fails := 0
			for i, in := range c.Input {
				var got string
				var err error
				switch c.Metric {
				case "tok_13a":
					got, err = Tokenize(in.Text, Tok13a)
				case "tok_intl":
					got, err = Tokenize(in.Text, TokIntl)
				case "tok_char":
					got, err = Tokenize(in.Text, TokChar)
				case "tok_ter":
					got = TokenizeTercom(in.Text, ter)
				default:
					t.Fatalf("unknown probe %q", c.Metric)
				}
				if err != nil {
					t.Fatal(err)
				}
				want := str(t, c.Expected.PerExample[i]["tokens"])
				if got != want {
					fails++
					if fails <= 10 {
						t.Errorf("row %d %q:\n got %q\nwant %q", i, in.Text, got, want)
					}
				}
			}
			if fails > 10 {
				t.Errorf("%d of %d rows differ", fails, len(c.Input))
			}
		})
	}
	if n != 9 {
		t.Errorf("found %d sacrebleu tokenizer probes, want 9", n)
	}
}

func TestParityChrF(t *testing.T) {
	cases := readParity(t, "chrf.jsonl")
	checks := 0
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			a := c.args(t)
			defWord := 0
			if c.Metric == "chrf++" {
				defWord = 2
			} else if c.Metric != "chrf" {
				t.Fatalf("unexpected metric %q", c.Metric)
			}
			m, err := NewChrF(ChrFOptions{
				CharOrder:    intArg(t, a, "char-order", 6),
				WordOrder:    intArg(t, a, "word-order", defWord),
				Beta:         intArg(t, a, "beta", 2),
				Lowercase:    boolArg(t, a, "lowercase", false),
				Whitespace:   boolArg(t, a, "whitespace", false),
				EpsSmoothing: boolArg(t, a, "eps-smoothing", false),
			})
			if err != nil {
				t.Fatal(err)
			}
			hyps, refs := c.rows()
			got, err := m.Corpus(hyps, refs)
			if c.Expected.Error != nil {
				if err == nil {
					t.Fatalf("want an error like %s: %s", c.Expected.Error.Type, c.Expected.Error.Message)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ck := checker{t, c.ID}
			ck.has(c.Expected.Corpus, "score", "signature")
			ck.num("corpus.score", got.Score, c.Expected.Corpus["score"])
			ck.str("signature", m.Signature(NRefs(refs)), c.Expected.Corpus["signature"])
			if len(c.Expected.PerExample) != len(hyps) {
				t.Fatalf("per_example has %d rows, input %d", len(c.Expected.PerExample), len(hyps))
			}
			for i := range hyps {
				s, err := m.Sentence(hyps[i], refs[i])
				if err != nil {
					t.Fatal(err)
				}
				ck.num(fmt.Sprintf("per_example[%d].score", i), s.Score, c.Expected.PerExample[i]["score"])
			}
			st, err := m.SegmentStats(hyps, refs)
			if err != nil {
				t.Fatal(err)
			}
			if s := m.ScoreStats(SumStats(st)); s.Score != got.Score {
				t.Errorf("ScoreStats(SumStats) = %v, Corpus = %v", s.Score, got.Score)
			}
			checks += 1 + len(hyps)
		})
	}
	t.Logf("%d cases, %d corpus and per-example results checked", len(cases), checks)
}

func TestParityTER(t *testing.T) {
	cases := readParity(t, "ter.jsonl")
	checks := 0
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			if c.Metric != "ter" {
				t.Fatalf("unexpected metric %q", c.Metric)
			}
			a := c.args(t)
			m := NewTER(TEROptions{
				Normalized:    boolArg(t, a, "normalized", false),
				NoPunct:       boolArg(t, a, "no-punct", false),
				AsianSupport:  boolArg(t, a, "asian-support", false),
				CaseSensitive: boolArg(t, a, "case-sensitive", false),
			})
			hyps, refs := c.rows()
			got, err := m.Corpus(hyps, refs)
			if c.Expected.Error != nil {
				if err == nil {
					t.Fatalf("want an error like %s: %s", c.Expected.Error.Type, c.Expected.Error.Message)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ck := checker{t, c.ID}
			check := func(field string, s TERScore, want map[string]json.RawMessage) {
				t.Helper()
				ck.has(want, "score", "num_edits", "ref_length")
				ck.num(field+".score", s.Score, want["score"])
				ck.exact(field+".num_edits", float64(s.NumEdits), want["num_edits"])
				ck.num(field+".ref_length", s.RefLength, want["ref_length"])
			}
			check("corpus", got, c.Expected.Corpus)
			ck.str("signature", m.Signature(NRefs(refs)), c.Expected.Corpus["signature"])
			if len(c.Expected.PerExample) != len(hyps) {
				t.Fatalf("per_example has %d rows, input %d", len(c.Expected.PerExample), len(hyps))
			}
			for i := range hyps {
				s, err := m.Sentence(hyps[i], refs[i])
				if err != nil {
					t.Fatal(err)
				}
				check(fmt.Sprintf("per_example[%d]", i), s, c.Expected.PerExample[i])
			}
			st, err := m.SegmentStats(hyps, refs)
			if err != nil {
				t.Fatal(err)
			}
			if s := m.ScoreStats(SumStats(st)); s != got {
				t.Errorf("ScoreStats(SumStats) = %v, Corpus = %v", s, got)
			}
			checks += 1 + len(hyps)
		})
	}
	t.Logf("%d cases, %d corpus and per-example results checked", len(cases), checks)
}

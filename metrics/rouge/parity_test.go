package rouge

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// parityCase is one line of a shared/data/parity/*.jsonl file (format in
// shared/data/parity/README.md).
type parityCase struct {
	ID       string            `json:"id"`
	Metric   string            `json:"metric"`
	Args     []string          `json:"args"`
	Input    []json.RawMessage `json:"input"`
	Expected json.RawMessage   `json:"expected"`
}

func readParity(t *testing.T, name string) []parityCase {
	t.Helper()
	return shareddata.ReadJSONL[parityCase](t, shareddata.Path(t, "parity", name))
}

// parseArgs turns a case's flags into Options (README.md "What args mean").
func parseArgs(t *testing.T, args []string) Options {
	t.Helper()
	var o Options
	for i := 0; i < len(args); i += 2 {
		if i+1 >= len(args) {
			t.Fatalf("flag %s has no value", args[i])
		}
		v := args[i+1]
		switch args[i] {
		case "--stem":
			switch v {
			case "true", "1", "yes", "on":
				o.Stem = true
			case "false", "0", "no", "off":
			default:
				t.Fatalf("--stem %q: not a boolean", v)
			}
		case "--rouge-types":
			o.Types = strings.Split(v, ",")
		default:
			t.Fatalf("unknown flag %s", args[i])
		}
	}
	return o
}

func closeEnough(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

func TestRougeParity(t *testing.T) {
	checks := 0
	for _, c := range readParity(t, "rouge.jsonl") {
		t.Run(c.ID, func(t *testing.T) {
			opts := parseArgs(t, c.Args)
			var exp struct {
				Corpus     map[string]float64          `json:"corpus"`
				PerExample []map[string]map[string]any `json:"per_example"`
				Error      *struct{ Message string }   `json:"error"`
			}
			if err := json.Unmarshal(c.Expected, &exp); err != nil {
				t.Fatal(err)
			}
			var preds []string
			var refs [][]string
			for _, in := range c.Input {
				var r struct {
					Prediction string   `json:"prediction"`
					References []string `json:"references"`
				}
				if err := json.Unmarshal(in, &r); err != nil {
					t.Fatal(err)
				}
				preds = append(preds, r.Prediction)
				refs = append(refs, r.References)
			}
			got, err := ScoreCorpus(preds, refs, opts)
			if exp.Error != nil {
				if err == nil {
					t.Fatalf("want an error (reference: %s), got none", exp.Error.Message)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got.PerExample) != len(exp.PerExample) {
				t.Fatalf("%d rows, want %d", len(got.PerExample), len(exp.PerExample))
			}
			for i, row := range exp.PerExample {
				if len(row) != len(got.PerExample[i]) {
					t.Errorf("row %d: %d types, want %d", i, len(got.PerExample[i]), len(row))
				}
				for typ, want := range row {
					g, ok := got.PerExample[i][typ]
					if !ok {
						t.Errorf("row %d: no %s", i, typ)
						continue
					}
					for _, f := range []struct {
						name string
						got  float64
					}{{"precision", g.Precision}, {"recall", g.Recall}, {"fmeasure", g.FMeasure}} {
						w, ok := want[f.name].(float64)
						if !ok {
							t.Fatalf("row %d %s: %s is %v", i, typ, f.name, want[f.name])
						}
						if !closeEnough(f.got, w) {
							t.Errorf("row %d %s %s: got %v, want %v\n  prediction %q\n  references %q", i, typ, f.name, f.got, w, preds[i], refs[i])
						}
					}
					checks++
				}
			}
			for key, want := range exp.Corpus {
				typ, field, _ := strings.Cut(key, "_")
				m, ok := got.Mean[typ]
				if !ok {
					t.Errorf("corpus: no %s", typ)
					continue
				}
				g := m.FMeasure
				switch field {
				case "precision":
					g = m.Precision
				case "recall":
					g = m.Recall
				}
				if !closeEnough(g, want) {
					t.Errorf("corpus %s: got %v, want %v", key, g, want)
				}
			}
			checks++
		})
	}
	t.Logf("%d checks", checks)
}

func TestTokenizeProbes(t *testing.T) {
	n := 0
	for _, c := range readParity(t, "probe.jsonl") {
		if c.Metric != "tok_rouge" && c.Metric != "porter" {
			continue
		}
		stem := parseArgs(t, c.Args).Stem
		var exp struct {
			PerExample []struct {
				Tokens []string `json:"tokens"`
				Stem   string   `json:"stem"`
			} `json:"per_example"`
		}
		if err := json.Unmarshal(c.Expected, &exp); err != nil {
			t.Fatal(err)
		}
		if len(exp.PerExample) != len(c.Input) {
			t.Fatalf("%s: %d expectations for %d inputs", c.ID, len(exp.PerExample), len(c.Input))
		}
		sc, err := New(Options{Stem: stem})
		if err != nil {
			t.Fatal(err)
		}
		s := sc.get()
		for i, in := range c.Input {
			var r struct{ Text string }
			if err := json.Unmarshal(in, &r); err != nil {
				t.Fatal(err)
			}
			want := exp.PerExample[i]
			n++
			if c.Metric == "porter" {
				if got := Stem(r.Text); got != want.Stem {
					t.Errorf("%s[%d] Stem(%q) = %q, want %q", c.ID, i, r.Text, got, want.Stem)
				}
				continue
			}
			got := Tokenize(r.Text, stem)
			if strings.Join(got, " ") != strings.Join(want.Tokens, " ") || len(got) != len(want.Tokens) {
				t.Errorf("%s[%d] Tokenize(%q, %v) = %q, want %q", c.ID, i, r.Text, stem, got, want.Tokens)
			}
			// The scorer's own tokenizer (ids, stem cache) must agree too.
			ids := s.tokenize(r.Text, &tokens{}).ids
			names := make([]string, len(s.forms))
			for tok, id := range s.forms {
				names[id] = tok
			}
			var viaIDs []string
			for _, id := range ids {
				viaIDs = append(viaIDs, names[id])
			}
			if strings.Join(viaIDs, " ") != strings.Join(want.Tokens, " ") {
				t.Errorf("%s[%d] scorer tokens of %q = %q, want %q", c.ID, i, r.Text, viaIDs, want.Tokens)
			}
		}
	}
	if n < 4000 {
		t.Fatalf("only %d rouge tokenizer and porter probes found", n)
	}
	t.Logf("%d probes", n)
}

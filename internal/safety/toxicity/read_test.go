package toxicity

import (
	"reflect"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	in := `{"id": "a", "toxicity": 0.73, "insult": 0.4, "text": "ignored"}

{"id": 7, "toxicity": [0.1, 0.6, 0.2]}
`
	s, err := Read(strings.NewReader(in), "scores.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.IDs(); !reflect.DeepEqual(got, []string{"a", "7"}) {
		t.Errorf("IDs = %v", got)
	}
	r, ok := s.Get("7")
	if !ok || r.Line != 3 || !reflect.DeepEqual(r.Attrs["toxicity"], []float64{0.1, 0.6, 0.2}) {
		t.Errorf("row 7 = %+v", r)
	}
	g, err := s.Samples("toxicity", nil)
	if err != nil || !reflect.DeepEqual(g, [][]float64{{0.73}, {0.1, 0.6, 0.2}}) {
		t.Errorf("Samples = %v, %v", g, err)
	}
	f, err := s.Flat("toxicity", []string{"7", "a"})
	if err != nil || !reflect.DeepEqual(f, []float64{0.1, 0.6, 0.2, 0.73}) {
		t.Errorf("Flat = %v, %v", f, err)
	}
	if _, err := s.Samples("insult", nil); err == nil || !strings.Contains(err.Error(), `scores.jsonl:3: id 7 has no "insult" score`) {
		t.Errorf("missing attribute: %v", err)
	}
	if _, err := s.Samples("toxicity", []string{"a", "zz"}); err == nil || !strings.Contains(err.Error(), `item "zz" has no row`) {
		t.Errorf("missing item: %v", err)
	}
}

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"{\"id\": \"a\", \"toxicity\": 0.1}\n{\"id\": \"a\", \"toxicity\": 0.2}", `s.jsonl:2: id "a" already appeared on line 1`},
		{`{"toxicity": 0.1}`, `s.jsonl:1: no "id" field`},
		{`{"id": "a", "text": "x"}`, `s.jsonl:1: id a: no scores`},
		{`{"id": ["a"], "toxicity": 0.1}`, `field "id" must be a string or a number`},
		{"\n\n", `s.jsonl: no rows`},
		{`[1]`, `s.jsonl:1: not a JSON object`},
	} {
		_, err := Read(strings.NewReader(tc.in), "s.jsonl")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Read(%q) error %v; want it to contain %q", tc.in, err, tc.want)
		}
	}
}

// A bad field fails only the attribute it holds, when that attribute is
// asked for, with its file and line.
func TestReadBadFields(t *testing.T) {
	in := `{"id": "ok", "toxicity": 0.2, "insult": 0.1}
{"question_id": 5, "toxicity": 0.3, "insult": null, "latency_ms": 350}
`
	for _, tc := range []struct{ field, want string }{
		{`null`, `s.jsonl:3: id a: field "toxicity": null: the classifier gave no score`},
		{`1.5`, `s.jsonl:3: id a: field "toxicity": score 1.5 is outside [0, 1]`},
		{`[0.1, null]`, `sample 1 is null`},
		{`[]`, `empty list of scores`},
		{`true`, `want a number or a list of numbers, got true`},
		{`{"value": 0.2}`, `an object, not a score`},
	} {
		s, err := Read(strings.NewReader(in+`{"id": "a", "toxicity": `+tc.field+`}`), "s.jsonl")
		if err != nil {
			t.Fatalf("%s: Read: %v", tc.field, err)
		}
		if _, err := s.Samples("toxicity", nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("toxicity %s: error %v; want it to contain %q", tc.field, err, tc.want)
		}
		if g, err := s.Samples("toxicity", []string{"ok", "5"}); err != nil || !reflect.DeepEqual(g, [][]float64{{0.2}, {0.3}}) {
			t.Errorf("toxicity %s: the good rows: %v, %v", tc.field, g, err)
		}
	}
	s, _ := Read(strings.NewReader(in), "s.jsonl")
	if _, err := s.Samples("insult", nil); err == nil || !strings.Contains(err.Error(), `s.jsonl:2: id 5: field "insult": null`) {
		t.Errorf("null insult: %v", err)
	}
	if _, err := s.Samples("latency_ms", []string{"5"}); err == nil || !strings.Contains(err.Error(), `score 350 is outside [0, 1]`) {
		t.Errorf("latency_ms: %v", err)
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"id": "a", "toxicity": 0.73}`))
	f.Add([]byte(`{"id": 1, "toxicity": [0.1, 0.9]}` + "\n" + `{"id": 2, "toxicity": 0}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Read(strings.NewReader(string(b)), "f")
		if err != nil {
			return
		}
		for _, id := range s.IDs() {
			r, _ := s.Get(id)
			for _, v := range r.Attrs { // what Read accepted as scores, the metrics must accept
				if _, err := Ratio(v, DefaultThreshold); err != nil {
					t.Fatalf("read scores the metrics reject: %v", err)
				}
			}
		}
	})
}

package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// loadPlan loads a test plan; tasktypes_test.go (an external test package,
// which may import internal/task) makes it check the registered task types.
var loadPlan = Load

// TestBadPlans: each testdata/bad/X.yaml fails with exactly the errors in X.golden.
func TestBadPlans(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad plans: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p, err := loadPlan(f)
			if err == nil {
				t.Fatalf("plan %s loaded without error: %+v", f, p)
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T is not plan.Errors", err)
			}
			for _, e := range es {
				if e.File != f {
					t.Errorf("error %q names file %q", e, e.File)
				}
			}
			golden(t, strings.TrimSuffix(f, ".yaml")+".golden", []byte(err.Error()+"\n"))
		})
	}
}

// TestGoodPlans: each testdata/good/X.yaml loads; X.golden.json holds the
// defaulted plan and its hash.
func TestGoodPlans(t *testing.T) {
	files, err := filepath.Glob("testdata/good/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no good plans: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			if p.Path != f || p.Dir != filepath.Dir(f) || len(p.Hash) != 64 {
				t.Errorf("path %q dir %q hash %q", p.Path, p.Dir, p.Hash)
			}
			body, err := json.MarshalIndent(struct {
				Hash string `json:"hash"`
				Plan *Plan  `json:"plan"`
			}{p.Hash, p}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(f, ".yaml")+".golden.json", append(body, '\n'))
		})
	}
}

func TestDefaults(t *testing.T) {
	p, err := Load("testdata/good/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, tk := p.Models[0], p.Tasks[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"version", p.Version, 1},
		{"output", p.Output, "tunecheck-out"},
		{"seed", p.Seed, uint64(1234)},
		{"resamples", p.Bootstrap.Resamples, 1000},
		{"confidence", p.Bootstrap.Confidence, 0.95},
		{"concurrency", m.Concurrency, 8},
		{"timeout", m.Timeout, "120s"},
		{"max_retries", *m.MaxRetries, 5},
		{"type", tk.Type, "generate"},
		{"chat", *tk.Prompt.Chat, true},
		{"baseline", p.Compare.Baseline, "base"},
		{"candidate", p.Compare.Candidate, "tuned"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// Explicit zeros are kept, not replaced by defaults.
	z, err := Parse("z.yaml", []byte(strings.Replace(mustRead(t, "testdata/good/minimal.yaml"), "models:", "seed: 0\nmodels:", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if z.Seed != 0 {
		t.Errorf("explicit seed 0 became %d", z.Seed)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The hash follows the plan's meaning, not its layout.
func TestHash(t *testing.T) {
	a, err := Parse("a.yaml", []byte(mustRead(t, "testdata/good/minimal.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	flow := `# same plan, flow style, explicit defaults, other key order
tasks: [{name: tickets, type: generate, prompt: {template: "{{ question }}", chat: true}, dataset: {path: data/tickets.jsonl}, scorers: [{name: token_f1}]}]
seed: 1234
models:
  - {model: Qwen/Qwen2.5-0.5B-Instruct, name: base, provider: openai, concurrency: 8, timeout: 120s, max_retries: 5}
  - {name: tuned, provider: openai, model: my-org/qwen-tickets-sft}
compare: {baseline: base, candidate: tuned}
`
	b, err := Parse("b.yaml", []byte(flow))
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash != b.Hash {
		ja, _ := a.CanonicalJSON()
		jb, _ := b.CanonicalJSON()
		t.Errorf("equivalent plans hash differently:\n%s\n%s", ja, jb)
	}
	c, err := Parse("c.yaml", []byte(strings.Replace(flow, "seed: 1234", "seed: 1235", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Hash == a.Hash {
		t.Error("a different seed kept the hash")
	}
}

func TestPosition(t *testing.T) {
	p, err := Load("testdata/good/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{"gates[1]", "testdata/good/full.yaml:70:5"},
		{"gates", "testdata/good/full.yaml:68:1"},
		{"models[0].params.temperature", "testdata/good/full.yaml:19:7"},
		{"models[1].name", "testdata/good/full.yaml:30:5"},
		// Merged from the anchor: the position is where the anchor wrote it.
		{"models[1].base_url", "testdata/good/full.yaml:14:5"},
		// Not written: the nearest written ancestor.
		{"tasks[2].dataset.id_field", "testdata/good/full.yaml:66:5"},
		{"nowhere", "testdata/good/full.yaml"},
	}
	for _, tt := range tests {
		if got := p.Position(tt.path); got != tt.want {
			t.Errorf("Position(%q) = %s, want %s", tt.path, got, tt.want)
		}
	}
	e := p.Errorf("gates[0]", "fix it", "unknown metric %q", "token_f1")
	if e.Error() != `testdata/good/full.yaml:69:5: gates[0]: unknown metric "token_f1"; fix it` {
		t.Errorf("Errorf: %s", e)
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"temperature", "top_p", "max_tokens", "stop", "seed", "n"}
	tests := []struct{ word, want string }{
		{"temprature", "temperature"},
		{"max_token", "max_tokens"},
		{"Temperature", "temperature"},
		{"topp", "top_p"},
		{"frequency_penalty", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.word, keys); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

func TestStarter(t *testing.T) {
	p, err := Parse("tunecheck.yaml", Starter())
	if err != nil {
		t.Fatalf("the starter plan does not validate:\n%v", err)
	}
	if p.Compare.Baseline != "base" || len(p.Gates) != 1 || p.Tasks[0].Dataset.Path != "data/eval.jsonl" {
		t.Errorf("starter plan %+v", p)
	}
}

func TestResolve(t *testing.T) {
	p, err := Load("testdata/good/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ in, want string }{
		{"data/tickets.jsonl", filepath.Join("testdata", "good", "data", "tickets.jsonl")},
		{"/abs/x.jsonl", "/abs/x.jsonl"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := p.Resolve(tt.in); got != tt.want {
			t.Errorf("Resolve(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	q, err := Parse("x.yaml", Starter())
	if err != nil {
		t.Fatal(err)
	}
	if got := q.Resolve("data/eval.jsonl"); got != "data/eval.jsonl" {
		t.Errorf("Parse: Resolve = %q, want it relative to the working directory", got)
	}
}

func TestScorerOptions(t *testing.T) {
	src := `models:
  - &m {name: a, provider: file, path: a.jsonl}
  - {<<: [*m], name: b, path: b.jsonl}
tasks:
  - name: qa
    dataset: {path: qa.jsonl}
    prompt: {template: "{{ q }}"}
    scorers:
      - name: judge
        options:
          n: 3
          big: 18446744073709551615
          w: 0.5
          strict: false
          none: null
          labels: [good, bad]
          rubric: &r
            scale: 5
            text: |
              Rate it.
          again: *r
`
	p, err := Parse("o.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if p.Models[1].Provider != "file" || p.Models[1].Path != "b.jsonl" {
		t.Errorf("merge from a list of anchors: %+v", p.Models[1])
	}
	got := p.Tasks[0].Scorers[0].Options
	rubric := map[string]any{"scale": int64(5), "text": "Rate it.\n"}
	want := map[string]any{"n": int64(3), "big": 18446744073709551615.0, "w": 0.5, "strict": false, "none": nil,
		"labels": []any{"good", "bad"}, "rubric": rubric, "again": rubric}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("options\n got %#v\nwant %#v", got, want)
	}
	if p.Position("tasks[0].scorers[0].options.labels[1]") != "o.yaml:16:26" {
		t.Errorf("position of an option list item: %s", p.Position("tasks[0].scorers[0].options.labels[1]"))
	}
}

func TestErrorsAs(t *testing.T) {
	_, err := Parse("e.yaml", []byte("models: []\ntasks: []\nbogus: 1\n"))
	var one *Error
	if !errors.As(err, &one) || one.Path != "models" {
		t.Fatalf("errors.As found %+v in %v", one, err)
	}
	var all Errors
	if !errors.As(err, &all) || len(all) != 3 {
		t.Fatalf("want 3 errors, got %v", err)
	}
	_, err = Parse("m.yaml", []byte("models:\n  - {<<: 3, name: a}\ntasks: []\n"))
	if err == nil || !strings.Contains(err.Error(), "m.yaml:2:10: models[0]: `<<` merges a mapping, not the number 3") {
		t.Errorf("merge of a scalar: %v", err)
	}
}

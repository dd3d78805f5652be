package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
)

// Defaults applied by Parse; docs/plan.md lists them for users.
const (
	DefaultVersion     = 1
	DefaultOutput      = "tunecheck-out"
	DefaultSeed        = 1234
	DefaultResamples   = 1000
	DefaultConfidence  = 0.95
	DefaultConcurrency = 8
	DefaultTimeout     = "120s"
	DefaultMaxRetries  = 5
	DefaultTaskType    = TaskGenerate
)

// Provider kinds.
const (
	ProviderOpenAI    = "openai"
	ProviderAnthropic = "anthropic"
	ProviderOllama    = "ollama"
	ProviderFile      = "file"
)

// ProviderKinds lists the provider kinds a model may name.
var ProviderKinds = []string{ProviderOpenAI, ProviderAnthropic, ProviderOllama, ProviderFile}

// Task types.
const (
	TaskGenerate       = "generate"
	TaskMultipleChoice = "multiple_choice"
	TaskPerplexity     = "perplexity"
)

// TaskTypes lists the request types a task may have.
var TaskTypes = []string{TaskGenerate, TaskMultipleChoice, TaskPerplexity}

// TaskType is what validation needs of a task type. The task types
// themselves (internal/task) implement it, so that a type's keys are checked
// where the type is defined.
type TaskType interface {
	// Check validates task t, found at key path at, reporting through r.
	Check(t *Task, at string, r Reporter)
}

// Reporter records problems at plan key paths (file:line:col comes from the path).
type Reporter interface {
	Errorf(path, fix, format string, args ...any)
	// Missing reports a required key absent under parent.
	Missing(parent, key, fix string)
}

// Load reads, defaults and validates the plan file at path. Task types are
// not checked beyond their names (see LoadWith).
func Load(path string) (*Plan, error) { return LoadWith(path, nil) }

// LoadWith is Load with the task types a task may name, each checking its own
// keys; every problem in the file is reported at once.
func LoadWith(path string, types map[string]TaskType) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: "cannot read the plan: " + err.Error(), Fix: "check the path, or run `tunecheck init` to write a starter plan"}}
	}
	p, err := ParseWith(path, data, types)
	if err != nil {
		return nil, err
	}
	p.Path = path
	p.Dir = filepath.Dir(path)
	return p, nil
}

// Parse decodes a plan from data, applies the defaults, validates it and
// computes its hash. name labels positions in errors. Every problem found is
// returned at once, as Errors sorted by position. The result has Path ""
// and Dir "." (relative paths resolve against the working directory).
func Parse(name string, data []byte) (*Plan, error) { return ParseWith(name, data, nil) }

// ParseWith is Parse with the task types a task may name (nil: the built-in
// names, unchecked beyond the name).
func ParseWith(name string, data []byte, types map[string]TaskType) (*Plan, error) {
	root, err := parseYAML(name, data)
	if err != nil {
		return nil, err
	}
	d := newDecoder(name)
	p := &Plan{}
	d.decode(root, reflect.ValueOf(p).Elem(), "")
	p.pos = d.pos
	p.file = name
	p.applyDefaults()
	v := &validator{p: p, types: types, bad: d.bad, suggested: d.suggested, strs: d.strs, lines: bytes.Split(data, []byte{'\n'}), errs: d.errs}
	v.validate()
	if len(v.errs) > 0 {
		v.errs.sort()
		return nil, v.errs
	}
	p.Dir = "."
	p.Hash, err = p.computeHash()
	if err != nil {
		return nil, err
	}
	return p, nil
}

// has reports whether the plan file spelled out keyPath.
func (p *Plan) has(keyPath string) bool {
	_, ok := p.pos[keyPath]
	return ok
}

func (p *Plan) applyDefaults() {
	if !p.has("version") {
		p.Version = DefaultVersion
	}
	if p.Output == "" {
		p.Output = DefaultOutput
	}
	if !p.has("seed") {
		p.Seed = DefaultSeed
	}
	if !p.has("bootstrap.resamples") {
		p.Bootstrap.Resamples = DefaultResamples
	}
	if !p.has("bootstrap.confidence") {
		p.Bootstrap.Confidence = DefaultConfidence
	}
	for i := range p.Models {
		p.endpointDefaults(&p.Models[i], fmt.Sprintf("models[%d].", i))
	}
	for i := range p.Judges {
		m := &p.Judges[i]
		p.endpointDefaults(m, fmt.Sprintf("judges[%d].", i))
		// A judge grades deterministically unless the plan says otherwise;
		// the temperature is recorded with every judgment's request.
		if m.Params.Temperature == nil {
			zero := 0.0
			m.Params.Temperature = &zero
		}
	}
	for i := range p.Classifiers {
		c := &p.Classifiers[i]
		at := fmt.Sprintf("classifiers[%d].", i)
		if !p.has(at + "concurrency") {
			c.Concurrency = DefaultConcurrency
		}
		if c.Timeout == "" {
			c.Timeout = DefaultTimeout
		}
		if c.MaxRetries == nil {
			n := DefaultMaxRetries
			c.MaxRetries = &n
		}
		if !p.has(at + "threshold") {
			c.Threshold = 0.5
		}
	}
	for i := range p.Tasks {
		t := &p.Tasks[i]
		if t.Benchmark != "" || t.LMEval != "" {
			continue // a built-in benchmark's or an lm-eval file's entry: its tasks come with their own settings
		}
		if t.Type == "" {
			t.Type = DefaultTaskType
		}
		if t.Prompt.Chat == nil {
			chat := true
			t.Prompt.Chat = &chat
		}
		// Sampling and few-shot draws follow the plan's seed unless a task sets its own.
		if t.Dataset.Seed == nil && t.Dataset.Sample > 0 {
			seed := p.Seed
			t.Dataset.Seed = &seed
		}
		if t.FewShot.Seed == nil && t.FewShot.K > 0 {
			seed := p.Seed
			t.FewShot.Seed = &seed
		}
	}
	// With exactly two models and no compare section, the first is the base.
	if p.Compare.Baseline == "" && p.Compare.Candidate == "" && len(p.Models) == 2 && !p.has("compare") {
		p.Compare.Baseline, p.Compare.Candidate = p.Models[0].Name, p.Models[1].Name
	}
}

// endpointDefaults fills a model's or a judge's unset limits; at is its key
// path with a trailing dot ("models[0].").
func (p *Plan) endpointDefaults(m *Model, at string) {
	if !p.has(at + "concurrency") {
		m.Concurrency = DefaultConcurrency
	}
	if m.Timeout == "" {
		m.Timeout = DefaultTimeout
	}
	if m.MaxRetries == nil {
		n := DefaultMaxRetries
		m.MaxRetries = &n
	}
}

// computeHash is the sha256 of the defaulted plan's JSON. encoding/json
// writes struct fields in declaration order and map keys sorted, so equal
// plans hash equally whatever their YAML layout or comments.
func (p *Plan) computeHash() (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("hashing the plan: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// CanonicalJSON is the JSON the hash is computed over.
func (p *Plan) CanonicalJSON() ([]byte, error) { return json.Marshal(p) }

// Pos returns the 1-based line and column of keyPath ("tasks[0].dataset.path",
// "gates[2]") in the plan file. A path the file does not spell out falls back
// to its nearest written ancestor; ok is false only when nothing matches.
func (p *Plan) Pos(keyPath string) (line, col int, ok bool) {
	for k := keyPath; k != ""; k = parentPath(k) {
		if at, found := p.pos[k]; found {
			return at.Line, at.Col, true
		}
	}
	return 0, 0, false
}

// Position returns "file:line:col" for keyPath, for validators outside this
// package (gate expressions, scorer options) to point at the plan.
func (p *Plan) Position(keyPath string) string {
	line, col, ok := p.Pos(keyPath)
	if !ok {
		return p.fileName()
	}
	return fmt.Sprintf("%s:%d:%d", p.fileName(), line, col)
}

// Errorf builds a positioned *Error for keyPath, so that checks made outside
// this package report in the same form as Parse.
func (p *Plan) Errorf(keyPath, fix, format string, args ...any) *Error {
	line, col, _ := p.Pos(keyPath)
	return &Error{File: p.fileName(), Line: line, Col: col, Path: keyPath, Msg: fmt.Sprintf(format, args...), Fix: fix}
}

func (p *Plan) fileName() string {
	if p.Path != "" {
		return p.Path
	}
	return p.file
}

// parentPath drops the last segment: "a.b[2]" → "a.b" → "a" → "".
func parentPath(k string) string {
	if strings.HasSuffix(k, "]") {
		if i := strings.LastIndexByte(k, '['); i >= 0 {
			return k[:i]
		}
	}
	if i := strings.LastIndexByte(k, '.'); i >= 0 {
		return k[:i]
	}
	return ""
}

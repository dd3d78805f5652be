package plan

import (
	"bytes"
	"fmt"
	"github.com/tunecheck/tunecheck/internal/lmeval"
	"maps"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nikolalohinski/gonja/v2"

	"github.com/tunecheck/tunecheck/internal/bench"
)

// validator checks the meaning of a decoded plan. Paths that already failed
// to decode are skipped, so that one mistake yields one error.
type validator struct {
	p         *Plan
	types     map[string]TaskType
	bad       map[string]bool
	suggested map[string]bool
	strs      map[string]strInfo
	lines     [][]byte // the file, to find the indentation of block scalars
	errs      Errors
	// judgeNames are the plan's judges by name, for tasks' judge.with.
	judgeNames map[string]string
	// classifierNames are the plan's classifiers by name, for tasks' safety.classifiers.
	classifierNames map[string]string
}

func (v *validator) skip(path string) bool {
	for k := path; k != ""; k = parentPath(k) {
		if v.bad[k] {
			return true
		}
	}
	return v.bad[""] // the whole document failed to decode
}

// errorf reports a problem with the value at path.
func (v *validator) errorf(path, fix, format string, args ...any) {
	if v.skip(path) {
		return
	}
	v.errs = append(v.errs, v.p.Errorf(path, fix, format, args...))
}

// missing reports a required key absent under parent. When parent itself
// was not written (no `dataset:` at all), the error names the outermost
// absent key instead, unless a misspelt key already stands for it.
func (v *validator) missing(parent, key, fix string) {
	path := join(parent, key)
	for parent != "" && !v.p.has(parent) && !strings.HasSuffix(parent, "]") {
		path, key, parent = parent, lastKey(parent), parentPath(parent)
	}
	if v.skip(path) || v.suggested[path] {
		return
	}
	if v.p.has(path) {
		// Written but null or empty, e.g. `models:` with nothing under it.
		v.errs = append(v.errs, v.p.Errorf(path, fix, "`%s` is empty", key))
		return
	}
	e := v.p.Errorf(parent, fix, "missing required key `%s`", key)
	e.Path = path
	v.errs = append(v.errs, e)
}

// Errorf and Missing let task types report through the validator.
func (v *validator) Errorf(path, fix, format string, args ...any) {
	v.errorf(path, fix, format, args...)
}
func (v *validator) Missing(parent, key, fix string) { v.missing(parent, key, fix) }

func lastKey(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

var (
	taskNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
	envNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func (v *validator) validate() {
	p := v.p
	if p.Version != 1 {
		v.errorf("version", "use `version: 1` (the only plan schema)", "unsupported version %d", p.Version)
	}
	if len(p.Models) == 0 {
		v.missing("", "models", "list at least one model: `models: [{name: base, provider: openai, model: ...}]`")
	}
	if len(p.Tasks) == 0 {
		v.missing("", "tasks", "list at least one task with a dataset and a prompt template, or a built-in benchmark (`- benchmark: mmlu`; `tunecheck tasks` lists them)")
	}
	names := map[string]string{}
	for i := range p.Models {
		v.model(i, names)
	}
	judges := map[string]string{}
	for i := range p.Judges {
		at := fmt.Sprintf("judges[%d]", i)
		if prev, clash := names[p.Judges[i].Name]; clash {
			v.errorf(at+".name", "give the judge a name no model has (a judge grades; it is not graded)", "judge name %q is also a model (%s)", p.Judges[i].Name, prev)
			continue
		}
		v.endpoint(&p.Judges[i], at, judges)
	}
	v.judgeNames = judges
	v.classifierNames = map[string]string{}
	for i := range p.Classifiers {
		v.classifier(i, names, judges)
	}
	tasks := map[string]string{}
	for i := range p.Tasks {
		v.task(i, tasks)
	}
	v.compare(names)
	for i, g := range p.Gates {
		if strings.TrimSpace(g) == "" {
			v.errorf(fmt.Sprintf("gates[%d]", i), "write an expression such as `qa.token_f1.delta.ci_low >= 0`, or remove the entry", "empty gate")
		}
	}
	if p.Bootstrap.Resamples < 1 {
		v.errorf("bootstrap.resamples", "use at least 1000 resamples for stable 95% intervals", "must be positive, got %d", p.Bootstrap.Resamples)
	}
	if c := p.Bootstrap.Confidence; c <= 0 || c >= 1 {
		v.errorf("bootstrap.confidence", "write the level as a fraction, e.g. `confidence: 0.95`", "must be between 0 and 1 (exclusive), got %g", c)
	}
	if p.Report.Examples < 0 {
		v.errorf("report.examples", "use a positive number of items, or leave it out for 20", "must not be negative, got %d", p.Report.Examples)
	}
	v.sandbox()
	if t := p.Training; t != nil {
		for i, m := range t.Leakage {
			if m != "exact" && m != "minhash" && m != "ngram" {
				v.errorf(fmt.Sprintf("training.leakage[%d]", i), "use exact, minhash or ngram (semantic checks need an embeddings endpoint: `tunecheck leakage --method embed`)", "unknown leakage method %q", m)
			}
		}
		if t.Patience < 0 {
			v.errorf("training.patience", "patience counts evaluations, e.g. `patience: 3`", "must not be negative, got %d", t.Patience)
		}
		if t.MemorisationMinSpan < 0 {
			v.errorf("training.memorisation_min_span", "e.g. `memorisation_min_span: 50`", "must not be negative, got %d", t.MemorisationMinSpan)
		}
		if (len(t.Leakage) > 0 || len(t.Benchmarks) > 0) && t.Data == "" {
			v.errorf("training", "add `data:` naming the training set file", "leakage and benchmarks need the training data")
		}
	}
}

func (v *validator) model(i int, names map[string]string) {
	v.endpoint(&v.p.Models[i], fmt.Sprintf("models[%d]", i), names)
}

// endpoint checks a model or a judge: both are endpoints of the same kind.
func (v *validator) endpoint(m *Model, at string, names map[string]string) {
	if m.Name == "" {
		v.missing(at, "name", "name the model, e.g. `name: base`; compare and reports refer to it")
	} else if prev, dup := names[m.Name]; dup {
		v.errorf(at+".name", "give every model a distinct name", "duplicate model name %q (also %s)", m.Name, prev)
	} else {
		names[m.Name] = at
	}
	switch {
	case m.Provider == "":
		v.missing(at, "provider", "set `provider:` to one of "+strings.Join(ProviderKinds, ", "))
	case !slices.Contains(ProviderKinds, m.Provider):
		v.errorf(at+".provider", didYouMean(m.Provider, ProviderKinds)+" (openai covers any OpenAI-compatible server: vLLM, llama.cpp, TGI, SGLang, Ollama /v1)", "unknown provider kind %q", m.Provider)
	case m.Provider == ProviderFile:
		if m.Path == "" {
			v.missing(at, "path", "the file provider reads outputs from a JSONL file of {id, output}; set `path:`")
		}
	default:
		if m.Model == "" {
			v.missing(at, "model", "set `model:` to the model id the server expects, e.g. `model: meta-llama/Llama-3.1-8B-Instruct`")
		}
	}
	if m.BaseURL != "" {
		v.baseURL(at+".base_url", m.BaseURL)
	}
	v.replicas(at, m)
	if m.APIKeyEnv != "" && !envNameRE.MatchString(m.APIKeyEnv) {
		fix := "name the environment variable, e.g. `api_key_env: OPENAI_API_KEY`"
		if looksLikeKey(m.APIKeyEnv) {
			fix = "this looks like a key itself: revoke it, put it in an environment variable and name that variable here"
		}
		v.errorf(at+".api_key_env", fix, "%q is not an environment variable name", m.APIKeyEnv)
	}
	if m.Endpoint != "" && m.Endpoint != "chat" && m.Endpoint != "completions" {
		v.errorf(at+".endpoint", didYouMean(m.Endpoint, []string{"chat", "completions"}), "unknown endpoint %q", m.Endpoint)
	}
	v.extraBody(at, m)
	v.params(at+".params", &m.Params)
	if m.Concurrency < 1 {
		v.errorf(at+".concurrency", "use 1 or more requests in flight (default 8)", "must be at least 1, got %d", m.Concurrency)
	}
	v.nonNegative(at+".rate_limit.requests_per_second", m.RateLimit.RequestsPerSecond)
	v.nonNegative(at+".rate_limit.tokens_per_minute", float64(m.RateLimit.TokensPerMinute))
	if d, err := time.ParseDuration(m.Timeout); err != nil {
		v.errorf(at+".timeout", "write a Go duration such as `90s`, `2m` or `1m30s`", "bad duration %q", m.Timeout)
	} else if d <= 0 {
		v.errorf(at+".timeout", "use a positive duration such as `120s`", "must be positive, got %s", m.Timeout)
	}
	if m.MaxRetries != nil && *m.MaxRetries < 0 {
		v.errorf(at+".max_retries", "use 0 to disable retries", "must not be negative, got %d", *m.MaxRetries)
	}
	v.nonNegative(at+".prices.input_per_mtok", m.Prices.InputPerMTok)
	v.nonNegative(at+".prices.output_per_mtok", m.Prices.OutputPerMTok)
}

// ExtraBodyReserved are the request fields the openai provider sets itself,
// which extra_body must not override (openai.ReservedBodyKeys; a registry
// test keeps the two lists equal).
var ExtraBodyReserved = []string{"best_of", "echo", "logprobs", "max_completion_tokens", "max_tokens", "messages", "model", "n", "prompt",
	"seed", "stop", "stream", "stream_options", "suffix", "temperature", "top_logprobs", "top_p"}

// extraBody checks extra_body: openai only, and no key that tunecheck sets
// itself (a second `temperature` would silently change what every request
// asks; the decoder already refuses API keys in it).
func (v *validator) extraBody(at string, m *Model) {
	if len(m.ExtraBody) == 0 {
		return
	}
	if m.Provider != "" && m.Provider != ProviderOpenAI {
		v.errorf(at+".extra_body", "remove extra_body: only the openai provider sends it", "the %s provider has no request body to merge it into", m.Provider)
		return
	}
	keys := make([]string, 0, len(m.ExtraBody))
	for k := range m.ExtraBody {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(ExtraBodyReserved, k) {
			continue
		}
		fix := "remove it: tunecheck sets `" + k + "` itself on the requests that need it"
		switch k {
		case "temperature", "top_p", "max_tokens", "stop", "seed", "n":
			fix = "set it under `params: {" + k + ": …}` instead, where tunecheck sends it and records it"
		case "max_completion_tokens":
			fix = "set `params: {max_tokens: …}` instead"
		case "model":
			fix = "set the model id with `model:` beside extra_body"
		}
		v.errorf(at+".extra_body."+k, fix, "extra_body must not override `%s`, which tunecheck sets", k)
	}
}

func (v *validator) baseURL(at, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errorf(at, "write a full URL, e.g. `base_url: http://localhost:8000/v1`", "not an http(s) URL: %q", raw)
	} else if u.User != nil {
		v.errorf(at, "remove the credentials from the URL and name an environment variable with api_key_env", "the URL holds credentials")
	}
}

// replicas checks base_urls: replicas of one deployment, given instead of
// base_url, each a distinct http(s) URL.
func (v *validator) replicas(at string, m *Model) {
	if m.BaseURLs == nil {
		return
	}
	switch {
	case m.BaseURL != "":
		v.errorf(at+".base_urls", "keep one: `base_url` for one server, `base_urls` for replicas of one deployment (list every replica there)",
			"base_url and base_urls are both set")
		return
	case len(m.BaseURLs) == 0:
		v.errorf(at+".base_urls", "list the replicas' URLs, e.g. `base_urls: [http://vllm-0:8000/v1, http://vllm-1:8000/v1]`, or remove the key", "the list is empty")
		return
	case m.Provider == ProviderFile:
		v.errorf(at+".base_urls", "remove base_urls: the file provider reads `path`", "the file provider has no servers")
		return
	}
	seen := map[string]int{}
	for i, raw := range m.BaseURLs {
		path := fmt.Sprintf("%s.base_urls[%d]", at, i)
		v.baseURL(path, raw)
		key := strings.TrimRight(strings.ToLower(strings.TrimSpace(raw)), "/")
		if j, dup := seen[key]; dup {
			v.errorf(path, "list each replica once", "the same URL as base_urls[%d]", j)
		}
		seen[key] = i
	}
}

func looksLikeKey(s string) bool {
	return strings.HasPrefix(s, "sk-") || strings.HasPrefix(s, "hf_") || (len(s) >= 32 && !strings.ContainsAny(s, " _"))
}

func (v *validator) nonNegative(path string, x float64) {
	if x < 0 {
		v.errorf(path, "use 0 for none, or a positive number", "must not be negative, got %g", x)
	}
}

func (v *validator) params(at string, pr *Params) {
	if pr.Temperature != nil && (*pr.Temperature < 0 || *pr.Temperature > 2) {
		v.errorf(at+".temperature", "use a value from 0 (greedy) to 2", "out of range: %g", *pr.Temperature)
	}
	if pr.TopP != nil && (*pr.TopP <= 0 || *pr.TopP > 1) {
		v.errorf(at+".top_p", "use a value in (0, 1]; 1 disables nucleus sampling", "out of range: %g", *pr.TopP)
	}
	if pr.MaxTokens < 0 {
		v.errorf(at+".max_tokens", "use a positive token budget, or leave it out for the server default", "must not be negative, got %d", pr.MaxTokens)
	}
	if pr.N < 0 {
		v.errorf(at+".n", "use 1 or more samples per item (pass@k needs n >= k)", "must not be negative, got %d", pr.N)
	}
	for i, s := range pr.Stop {
		if s == "" {
			v.errorf(fmt.Sprintf("%s.stop[%d]", at, i), "remove the empty stop sequence", "empty stop sequence")
		}
	}
}

func (v *validator) task(i int, names map[string]string) {
	t := &v.p.Tasks[i]
	at := fmt.Sprintf("tasks[%d]", i)
	if t.Benchmark != "" && t.LMEval != "" {
		v.errorf(at+".lm_eval", "split them into two entries", "an entry is a built-in benchmark or an lm-eval task file, not both")
		return
	}
	if t.Benchmark != "" {
		v.benchmarkTask(t, at, names)
		return
	}
	if t.LMEval != "" {
		v.lmevalTask(t, at, names)
		return
	}
	if t.DataDir != "" {
		v.errorf(at+".data_dir", "remove data_dir, or add `benchmark: NAME` (`tunecheck tasks` lists them) or `lm_eval: FILE.yaml`", "data_dir is read only by a built-in benchmark or lm-eval entry")
	}
	switch {
	case t.Name == "":
		v.missing(at, "name", "name the task, e.g. `name: qa`; gates refer to it as `qa.<metric>`")
	case !taskNameRE.MatchString(t.Name):
		v.errorf(at+".name", "use letters, digits, _ and - (starting with a letter), so gates can write `"+strings.NewReplacer(".", "_", " ", "_").Replace(t.Name)+".<metric>`", "task name %q cannot be used in gate expressions", t.Name)
	default:
		if prev, dup := names[t.Name]; dup {
			v.errorf(at+".name", "give every task a distinct name", "duplicate task name %q (also %s)", t.Name, prev)
		} else {
			names[t.Name] = at
		}
	}
	ds := &t.Dataset
	if ds.Path == "" {
		v.missing(at+".dataset", "path", "set `dataset: {path: data/eval.jsonl}` (JSONL, JSON, CSV, TSV or Parquet)")
	}
	formats := []string{"auto", "jsonl", "json", "csv", "tsv", "parquet"}
	if ds.Format != "" && !slices.Contains(formats, ds.Format) {
		v.errorf(at+".dataset.format", didYouMean(ds.Format, formats), "unknown dataset format %q", ds.Format)
	}
	if len(ds.Columns) > 0 {
		f := ds.Format
		if f == "" || f == "auto" {
			f = strings.TrimPrefix(strings.ToLower(filepath.Ext(strings.TrimSuffix(strings.ToLower(ds.Path), ".gz"))), ".")
		}
		if f != "csv" && f != "tsv" {
			v.errorf(at+".dataset.columns", "remove columns: they name the fields of a headerless CSV or TSV file", "columns given for a %s file", f)
		}
		seen := map[string]bool{}
		for j, c := range ds.Columns {
			if c == "" || seen[c] {
				v.errorf(fmt.Sprintf("%s.dataset.columns[%d]", at, j), "give every column a distinct, non-empty name", "column name %q is empty or repeated", c)
			}
			seen[c] = true
		}
	}
	if ds.Limit < 0 {
		v.errorf(at+".dataset.limit", "use a positive number of rows, or leave it out for all", "must not be negative, got %d", ds.Limit)
	}
	if ds.Sample < 0 {
		v.errorf(at+".dataset.sample", "use a positive number of rows, or leave it out for all", "must not be negative, got %d", ds.Sample)
	}
	typeNames := TaskTypes
	if v.types != nil {
		typeNames = slices.Sorted(maps.Keys(v.types))
	}
	if !slices.Contains(typeNames, t.Type) {
		v.errorf(at+".type", didYouMean(t.Type, typeNames), "unknown task type %q", t.Type)
	} else if tt := v.types[t.Type]; tt != nil {
		tt.Check(t, at, v)
	}
	v.template(at+".prompt.template", t.Prompt.Template)
	v.template(at+".prompt.system", t.Prompt.System)
	v.template(at+".reference", t.Reference)
	v.template(at+".few_shot.target", t.FewShot.Target)
	if t.FewShot.K < 0 {
		v.errorf(at+".few_shot.k", "use 0 for zero-shot or a positive number of examples", "must not be negative, got %d", t.FewShot.K)
	}
	v.slices(at, t.Slices)
	if t.Safety != nil {
		v.safety(at+".safety", t.Safety)
	}
	if t.Judge != nil {
		v.judge(at+".judge", t.Judge)
	}
	for j, s := range t.Scorers {
		if s.Name == "" {
			v.missing(fmt.Sprintf("%s.scorers[%d]", at, j), "name", "name the scorer, e.g. `- name: exact_match`")
		}
	}
	if t.Params != nil {
		v.params(at+".params", t.Params)
	}
}

// references checks a list of names (a task's judges or classifiers, at
// path) against those the plan defines: each must exist (with a
// did-you-mean over known, or how to define one when there are none) and
// appear once.
func (v *validator) references(path string, names []string, defined map[string]string, known []string, what, define string) {
	seen := map[string]bool{}
	for k, name := range names {
		if _, ok := defined[name]; !ok {
			fix := didYouMean(name, known)
			if len(known) == 0 {
				fix = define
			}
			v.errorf(fmt.Sprintf("%s[%d]", path, k), fix, "names no %s %q", what, name)
		}
		if seen[name] {
			v.errorf(fmt.Sprintf("%s[%d]", path, k), "list each "+what+" once", "%s %q is listed twice", what, name)
		}
		seen[name] = true
	}
}

// judge checks a task's judge section; the template's name is checked
// when the run is built (internal/judge knows the templates).
func (v *validator) judge(at string, j *Judge) {
	if len(j.With) == 0 {
		v.missing(at, "with", "name the judges that grade this task, e.g. `with: [gpt4]` (defined under `judges:`)")
	}
	var known []string
	for _, jd := range v.p.Judges {
		known = append(known, jd.Name)
	}
	v.references(at+".with", j.With, v.judgeNames, known, "judge", "define it under `judges:` (the same keys as a model)")
	if j.Mode != "" && j.Mode != JudgeSingle && j.Mode != JudgePairwise {
		v.errorf(at+".mode", didYouMean(j.Mode, []string{JudgeSingle, JudgePairwise}), "unknown judge mode %q", j.Mode)
	}
	if j.Mode == JudgePairwise && (v.p.Compare.Baseline == "" || v.p.Compare.Candidate == "") {
		v.errorf(at+".mode", "set compare.baseline and compare.candidate: pairwise judging compares the two", "pairwise judging needs a comparison")
	}
	if j.Parse != "" && j.Parse != "fastchat" && j.Parse != "strict" {
		v.errorf(at+".parse", didYouMean(j.Parse, []string{"fastchat", "strict"}), "unknown parse mode %q", j.Parse)
	}
	if j.Repair && j.Parse != "strict" {
		v.errorf(at+".repair", "set `parse: strict`, or remove repair (fastchat mode never asks again)", "repair needs strict parsing")
	}
	if j.Aggregate != "" && j.Aggregate != "mean" && j.Aggregate != "median" && j.Aggregate != "majority" {
		v.errorf(at+".aggregate", didYouMean(j.Aggregate, []string{"mean", "median", "majority"}), "unknown aggregate %q", j.Aggregate)
	}
	if len(j.Scale) != 0 && (len(j.Scale) != 2 || j.Scale[0] >= j.Scale[1]) {
		v.errorf(at+".scale", "write the lowest and the highest score, e.g. `scale: [1, 10]`", "a scale is two ascending numbers")
	}
	if (j.System != "" || j.Prompt != "") && j.Template != "" {
		v.errorf(at+".template", "use either a built-in `template` or your own `system`/`prompt`", "template and a custom prompt are both set")
	}
	if j.Logprobs < 0 || j.Logprobs > 20 {
		v.errorf(at+".logprobs", "ask for 0 to 20 top logprobs (OpenAI's maximum is 20)", "out of range: %d", j.Logprobs)
	}
	v.nonNegative(at+".max_cost", j.MaxCost)
	v.template(at+".reference", j.Reference)
}

// slices checks a task's slices: each says how in exactly one way, names
// are distinct and usable in a gate, length bounds ascend.
func (v *validator) slices(at string, ss []Slice) {
	seen := map[string]string{}
	for j, s := range ss {
		sp := fmt.Sprintf("%s.slices[%d]", at, j)
		ways := 0
		for _, set := range []bool{s.Field != "", s.Length != nil, s.Template != ""} {
			if set {
				ways++
			}
		}
		if ways != 1 {
			v.errorf(sp, "use one of `field: category`, `length: {field: question, bounds: [200, 1000]}` or `template: \"{{ ... }}\"`", "a slice needs exactly one of field, length and template, got %d", ways)
			continue
		}
		name := s.Name
		if name == "" {
			switch {
			case s.Field != "":
				name = s.Field
			case s.Length != nil:
				name = s.Length.Field + "_length"
			default:
				v.missing(sp, "name", "name a template slice, e.g. `name: has_code`; gates refer to it as `TASK.METRIC.slice(has_code)`")
				continue
			}
		}
		if !sliceNameRE.MatchString(name) {
			v.errorf(sp+".name", "use letters, digits and _ (starting with a letter), so gates can write `slice(NAME)`", "slice name %q cannot be used in gate expressions", name)
		} else if prev, dup := seen[name]; dup {
			v.errorf(sp+".name", "give every slice of a task a distinct name", "duplicate slice name %q (also %s)", name, prev)
		} else {
			seen[name] = sp
		}
		if l := s.Length; l != nil {
			if l.Field == "" {
				v.missing(sp+".length", "field", "name the field whose length buckets the items, e.g. `field: question`")
			}
			if l.Unit != "" && l.Unit != "chars" && l.Unit != "words" {
				v.errorf(sp+".length.unit", didYouMean(l.Unit, []string{"chars", "words"}), "unknown length unit %q", l.Unit)
			}
			if len(l.Bounds) == 0 {
				v.missing(sp+".length", "bounds", "give the bucket bounds, e.g. `bounds: [200, 1000]` for <200, 200–999 and ≥1000")
			}
			for k, b := range l.Bounds {
				if b <= 0 || (k > 0 && b <= l.Bounds[k-1]) {
					v.errorf(fmt.Sprintf("%s.length.bounds[%d]", sp, k), "list positive bounds in ascending order, e.g. `[200, 1000]`", "bound %d is not positive or not above the one before", b)
					break
				}
			}
		}
		v.template(sp+".template", s.Template)
	}
}

var sliceNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// template checks that a Jinja template parses; rendering errors (unknown
// fields, filters) can only show with a row and are reported at run time.
func (v *validator) template(path, src string) {
	if src == "" || (!strings.Contains(src, "{{") && !strings.Contains(src, "{%") && !strings.Contains(src, "{#")) {
		return
	}
	if _, err := gonja.FromString(src); err != nil {
		msg := strings.TrimPrefix(err.Error(), "failed to parse template '"+src+"': ")
		if v.skip(path) {
			return
		}
		e := v.p.Errorf(path, "fix the Jinja syntax: `{{ field }}` for values, `{% if %}…{% endif %}` for logic", "template does not parse: %s", msg)
		if m := gonjaPosRE.FindStringSubmatch(msg); m != nil {
			tl, _ := strconv.Atoi(m[1])
			tc, _ := strconv.Atoi(m[2])
			e.Line, e.Col = v.templatePos(v.strs[path], e.Line, e.Col, tl, tc)
		}
		v.errs = append(v.errs, e)
	}
}

var gonjaPosRE = regexp.MustCompile(`\(Line: (\d+) Col: (\d+)`)

// templatePos maps gonja's 1-based line and column inside a template to the
// file, where the layout allows it exactly; otherwise it keeps the key's
// position (line, col).
func (v *validator) templatePos(s strInfo, line, col, tl, tc int) (int, int) {
	switch {
	case tl < 1 || tc < 1 || s.at.Line == 0:
		return line, col
	case s.block:
		fl := s.at.Line + tl
		if fl > len(v.lines) {
			return line, col
		}
		text := v.lines[fl-1]
		indent := len(text) - len(bytes.TrimLeft(text, " "))
		return fl, indent + tc
	case tl == 1 && !s.escaped:
		c := s.at.Col + tc - 1
		if s.quoted {
			c++
		}
		return s.at.Line, c
	}
	return s.at.Line, s.at.Col
}

func (v *validator) compare(names map[string]string) {
	c := v.p.Compare
	check := func(key, name string) {
		if name == "" {
			return
		}
		if _, ok := names[name]; !ok {
			known := make([]string, 0, len(names))
			for _, m := range v.p.Models {
				if m.Name != "" && !slices.Contains(known, m.Name) {
					known = append(known, m.Name)
				}
			}
			v.errorf("compare."+key, didYouMean(name, known), "names no model %q", name)
		}
	}
	check("baseline", c.Baseline)
	check("candidate", c.Candidate)
	if c.Baseline != "" && c.Baseline == c.Candidate {
		v.errorf("compare.candidate", "compare the fine-tune with its base: name two different models", "baseline and candidate are the same model %q", c.Baseline)
	}
	if (c.Baseline == "") != (c.Candidate == "") && v.p.has("compare") {
		key := "baseline"
		if c.Candidate == "" {
			key = "candidate"
		}
		v.missing("compare", key, "name both the baseline (base model) and the candidate (fine-tune)")
	}
}

// classifier checks classifiers[i]: a name no model or judge has (results
// of the classify stage are stored with it as their endpoint), a known
// protocol and what that protocol needs.
func (v *validator) classifier(i int, models, judges map[string]string) {
	c := &v.p.Classifiers[i]
	at := fmt.Sprintf("classifiers[%d]", i)
	switch {
	case c.Name == "":
		v.missing(at, "name", "name the classifier, e.g. `name: moderation`; tasks' safety.classifiers refer to it")
	case models[c.Name] != "" || judges[c.Name] != "":
		v.errorf(at+".name", "give the classifier a name no model or judge has", "classifier name %q is also a model or judge", c.Name)
	case v.classifierNames[c.Name] != "":
		v.errorf(at+".name", "give every classifier a distinct name", "duplicate classifier name %q (also %s)", c.Name, v.classifierNames[c.Name])
	default:
		v.classifierNames[c.Name] = at
	}
	switch {
	case c.Protocol == "":
		v.missing(at, "protocol", "set `protocol:` to one of "+strings.Join(ClassifierProtocols, ", "))
	case !slices.Contains(ClassifierProtocols, c.Protocol):
		v.errorf(at+".protocol", didYouMean(c.Protocol, ClassifierProtocols), "unknown classifier protocol %q", c.Protocol)
	case c.Protocol == ClassifierRecorded || c.Protocol == ClassifierWordList:
		if c.Path == "" {
			v.missing(at, "path", "the recorded protocol reads a JSONL file of {id, toxicity, …}; wordlist a file of one term per line: set `path:`")
		}
	case c.Protocol == ClassifierPerspective:
	default:
		if c.BaseURL == "" {
			v.missing(at, "base_url", "set `base_url:` to the classifier server, e.g. `base_url: http://localhost:8080`")
		}
	}
	if (c.Protocol == ClassifierTEI || c.Protocol == ClassifierVLLMClassify) && len(c.ToxicLabels) == 0 {
		v.missing(at, "toxic_labels", "name the model's label(s) that mean toxic (its config.json id2label), e.g. `toxic_labels: [toxic]`")
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.errorf(at+".base_url", "write a full URL, e.g. `base_url: http://localhost:8080`", "not an http(s) URL: %q", c.BaseURL)
		} else if u.User != nil {
			v.errorf(at+".base_url", "remove the credentials from the URL and name an environment variable with api_key_env", "the URL holds credentials")
		}
	}
	if c.APIKeyEnv != "" && !envNameRE.MatchString(c.APIKeyEnv) {
		v.errorf(at+".api_key_env", "name the environment variable, e.g. `api_key_env: OPENAI_API_KEY`", "%q is not an environment variable name", c.APIKeyEnv)
	}
	if c.Threshold <= 0 || c.Threshold > 1 {
		v.errorf(at+".threshold", "use a score between 0 and 1, e.g. `threshold: 0.5`", "must be in (0, 1], got %g", c.Threshold)
	}
	if c.Concurrency < 1 {
		v.errorf(at+".concurrency", "use 1 or more requests in flight (default 8)", "must be at least 1, got %d", c.Concurrency)
	}
	v.nonNegative(at+".rate_limit.requests_per_second", c.RateLimit.RequestsPerSecond)
	v.nonNegative(at+".rate_limit.tokens_per_minute", float64(c.RateLimit.TokensPerMinute))
	if d, err := time.ParseDuration(c.Timeout); err != nil {
		v.errorf(at+".timeout", "write a Go duration such as `90s`, `2m` or `1m30s`", "bad duration %q", c.Timeout)
	} else if d <= 0 {
		v.errorf(at+".timeout", "use a positive duration such as `120s`", "must be positive, got %s", c.Timeout)
	}
	if c.MaxRetries != nil && *c.MaxRetries < 0 {
		v.errorf(at+".max_retries", "use 0 to disable retries", "must not be negative, got %d", *c.MaxRetries)
	}
}

// safety checks a task's safety section.
func (v *validator) safety(at string, s *Safety) {
	if len(s.Classifiers) == 0 {
		v.missing(at, "classifiers", "name the classifiers that score this task, e.g. `classifiers: [moderation]` (defined under `classifiers:`)")
	}
	var known []string
	for _, c := range v.p.Classifiers {
		known = append(known, c.Name)
	}
	v.references(at+".classifiers", s.Classifiers, v.classifierNames, known, "classifier", "define it under `classifiers:`")
	if s.Threshold < 0 || s.Threshold > 1 {
		v.errorf(at+".threshold", "use a score between 0 and 1, e.g. `threshold: 0.5`", "must be in (0, 1], got %g", s.Threshold)
	}
}

// onlyEntryKeys reports every task key at `at` but kind and data_dir: an
// entry that stands for tasks defined elsewhere (a built-in benchmark, an
// lm-eval file) reads nothing else.
func (v *validator) onlyEntryKeys(at, kind, value, why string) {
	article := "a"
	if kind == "lm_eval" {
		article = "an"
	}
	typ := reflect.TypeOf(Task{})
	for j := range typ.NumField() {
		key, _, _ := strings.Cut(typ.Field(j).Tag.Get("yaml"), ",")
		if key != kind && key != "data_dir" && v.p.has(at+"."+key) {
			v.errorf(at+"."+key, fmt.Sprintf("remove it: %s %s entry takes only %s and data_dir; %s", article, kind, kind, why), "%s is not read with %s: %s", key, kind, value)
		}
	}
}

// lmevalTask checks an `lm_eval:` entry: an lm-eval task file that loads
// (its own errors name its file and line), one task rather than a group,
// data_dir, and nothing else; its task's name must be free.
func (v *validator) lmevalTask(t *Task, at string, names map[string]string) {
	v.onlyEntryKeys(at, "lm_eval", t.LMEval, "its task uses the file's settings")
	if t.DataDir == "" {
		v.missing(at, "data_dir", "name the folder holding the task's data: DATA_DIR/<dataset_path>/<dataset_name>/<split>.jsonl (docs/lmeval.md)")
	}
	set, err := lmeval.NewLoader().LoadFile(v.p.Resolve(t.LMEval))
	if err != nil {
		v.errorf(at+".lm_eval", "fix the task file where the error points, or check the path (relative to the plan)", "%v", err)
		return
	}
	if len(set.Tasks) != 1 || len(set.Groups) > 0 {
		v.errorf(at+".lm_eval", "give one entry per member task file", "%s defines %d tasks and %d groups; an lm_eval entry takes a file of one task", t.LMEval, len(set.Tasks), len(set.Groups))
		return
	}
	n := set.Tasks[0].Name
	if prev, dup := names[n]; dup {
		v.errorf(at+".lm_eval", "remove one of the two, or rename the plan's task", "lm-eval task %q, from %s, is also named by %s", n, t.LMEval, prev)
		return
	}
	names[n] = at
}

// benchmarkTask checks a `benchmark:` entry: a built-in benchmark's name and
// optionally data_dir, nothing else (its tasks bring their own settings).
func (v *validator) benchmarkTask(t *Task, at string, names map[string]string) {
	bs, err := bench.Lookup(t.Benchmark)
	if err != nil {
		v.errorf(at+".benchmark", didYouMean(t.Benchmark, bench.Names()), "unknown built-in benchmark %q", t.Benchmark)
		return
	}
	v.onlyEntryKeys(at, "benchmark", t.Benchmark, "its tasks use lm-eval's settings")
	for _, b := range bs {
		for _, n := range append([]string{b.Name}, b.Tasks...) {
			if prev, dup := names[n]; dup {
				v.errorf(at+".benchmark", "remove one of the two, or rename the plan's task", "benchmark %s adds task %q, which %s also names", b.Name, n, prev)
				return
			}
			names[n] = at
		}
	}
}

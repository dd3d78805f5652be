// Package plan owns the plan file (tunecheck.yaml): its schema, defaults,
// validation with positioned errors, and the plan hash recorded in every run.
//
// The YAML is parsed with goccy/go-yaml into a syntax tree and decoded here by
// reflection over the yaml tags, so that every unknown key, wrong type and
// invalid value is reported at once with its file:line:col and key path
// (go-yaml's strict mode stops at the first). Templates are checked with
// gonja, the Jinja implementation the task package renders with. docs/plan.md
// is the user reference; docs/tunecheck.schema.json mirrors the schema.
package plan

import "path/filepath"

// Resolve returns path as the plan means it: relative paths (datasets,
// few-shot files, file-provider outputs) are relative to the plan's directory.
func (p *Plan) Resolve(path string) string {
	if path == "" || filepath.IsAbs(path) || p.Dir == "" {
		return path
	}
	return filepath.Join(p.Dir, path)
}

// Plan is a whole evaluation: which models, which tasks, what to compare, which gates.
type Plan struct {
	// Version of the plan schema; only 1 exists.
	Version int `yaml:"version" json:"version"`
	// Name labels the runs of this plan in history.
	Name   string  `yaml:"name" json:"name"`
	Models []Model `yaml:"models" json:"models"`
	// Judges are endpoints that grade the models' outputs (LLM-as-judge);
	// they take the same keys as models and are never graded themselves.
	Judges []Model `yaml:"judges" json:"judges,omitempty"`
	// Classifiers are safety classifiers a task's `safety` section calls on
	// every output in a stage after generation (docs/safety.md).
	Classifiers []Classifier `yaml:"classifiers" json:"classifiers,omitempty"`
	Tasks       []Task       `yaml:"tasks" json:"tasks"`
	Compare     Compare      `yaml:"compare" json:"compare"`
	Gates       []string     `yaml:"gates" json:"gates"`
	// Store is where runs are kept: empty for SQLite at .tunecheck/tunecheck.db,
	// a file path or sqlite:PATH, or a postgres:// URL.
	Store string `yaml:"store" json:"store"`
	// Output is the directory for report.md and results.json (default "tunecheck-out").
	Output string `yaml:"output" json:"output"`
	// Seed drives sampling, few-shot selection and the bootstrap (default 1234).
	Seed uint64 `yaml:"seed" json:"seed"`
	// Bootstrap resamples for confidence intervals (default 1000) and the level (default 0.95).
	Bootstrap Bootstrap `yaml:"bootstrap" json:"bootstrap"`
	// Report sets what reports show beyond the numbers.
	Report ReportOptions `yaml:"report" json:"report,omitzero"`
	// Training points at the fine-tune's trainer logs and training data; the
	// run report then gains training-curve, leakage and memorisation sections.
	Training *Training `yaml:"training" json:"training,omitempty"`
	// Sandbox sets how code tasks run the generated programs (docs/sandbox.md).
	Sandbox *Sandbox `yaml:"sandbox" json:"sandbox,omitempty"`

	// Path is the file the plan was read from ("" when parsed from bytes); not part of the YAML.
	Path string `yaml:"-" json:"-"`
	// Dir is the directory relative paths in the plan are resolved against.
	Dir string `yaml:"-" json:"-"`
	// Hash is the sha256 of the plan's canonical JSON (after defaults), hex.
	Hash string `yaml:"-" json:"-"`

	// pos maps key paths to where the file wrote them; file is the name Parse got.
	pos  map[string]pos
	file string
}

// Model is a named endpoint.
type Model struct {
	Name string `yaml:"name" json:"name"`
	// Provider is the kind: openai, anthropic, ollama or file.
	Provider string `yaml:"provider" json:"provider"`
	// BaseURL of the endpoint, e.g. http://localhost:8000/v1 (provider default when empty).
	BaseURL string `yaml:"base_url" json:"base_url,omitempty"`
	// BaseURLs are replicas of one deployment (instead of BaseURL): requests
	// are spread over them, and a replica that fails sits out a back-off.
	BaseURLs []string `yaml:"base_urls" json:"base_urls,omitempty"`
	// Model is the model id sent to the server.
	Model string `yaml:"model" json:"model,omitempty"`
	// APIKeyEnv names the environment variable holding the API key; keys never appear in the plan.
	APIKeyEnv string `yaml:"api_key_env" json:"api_key_env,omitempty"`
	// Path is the outputs file (JSONL of id + output) for the file provider.
	Path string `yaml:"path" json:"path,omitempty"`
	// Endpoint chooses chat or completions for generate requests on openai (default chat).
	Endpoint string `yaml:"endpoint" json:"endpoint,omitempty"`
	// ExtraBody is merged into every request body (openai only): server
	// parameters tunecheck does not set, e.g. llama-server's per-request
	// `lora: [{id: 0, scale: 1}]` and `cache_prompt: false`. It is part of
	// the response cache's namespace.
	ExtraBody map[string]any `yaml:"extra_body" json:"extra_body,omitempty"`
	Params    Params         `yaml:"params" json:"params"`
	// Concurrency is the number of requests in flight to this model (default 8).
	Concurrency int `yaml:"concurrency" json:"concurrency"`
	// RateLimit caps requests per second and tokens per minute (0: unlimited).
	RateLimit RateLimit `yaml:"rate_limit" json:"rate_limit"`
	// Timeout per request as a Go duration (default "120s").
	Timeout string `yaml:"timeout" json:"timeout"`
	// MaxRetries on 429, 5xx, timeouts and resets (default 5).
	MaxRetries *int `yaml:"max_retries" json:"max_retries"`
	// Prices in currency units per million tokens, for cost estimates.
	Prices Prices `yaml:"prices" json:"prices"`
}

// Params are generation parameters; nil means the server's default.
type Params struct {
	Temperature *float64 `yaml:"temperature" json:"temperature,omitempty"`
	TopP        *float64 `yaml:"top_p" json:"top_p,omitempty"`
	MaxTokens   int      `yaml:"max_tokens" json:"max_tokens,omitempty"`
	Stop        []string `yaml:"stop" json:"stop,omitempty"`
	Seed        *int64   `yaml:"seed" json:"seed,omitempty"`
	N           int      `yaml:"n" json:"n,omitempty"`
}

// RateLimit for one model.
type RateLimit struct {
	RequestsPerSecond float64 `yaml:"requests_per_second" json:"requests_per_second,omitempty"`
	TokensPerMinute   int     `yaml:"tokens_per_minute" json:"tokens_per_minute,omitempty"`
}

// Prices per million tokens.
type Prices struct {
	InputPerMTok  float64 `yaml:"input_per_mtok" json:"input_per_mtok,omitempty"`
	OutputPerMTok float64 `yaml:"output_per_mtok" json:"output_per_mtok,omitempty"`
}

// Task is a dataset, a prompt, a request type and scorers.
type Task struct {
	Name    string  `yaml:"name" json:"name"`
	Dataset Dataset `yaml:"dataset" json:"dataset"`
	// Type is generate (default), multiple_choice or perplexity.
	Type   string `yaml:"type" json:"type"`
	Prompt Prompt `yaml:"prompt" json:"prompt"`
	// Reference is a Jinja template (or a bare field name) giving the reference answer(s);
	// a field holding a list gives several references.
	Reference string `yaml:"reference" json:"reference,omitempty"`
	// Choices (multiple_choice) is a field name holding the list of choices, and
	// Answer the field holding the index (or letter) of the correct one.
	Choices string `yaml:"choices" json:"choices,omitempty"`
	Answer  string `yaml:"answer" json:"answer,omitempty"`
	// Turns (generate) names a field holding the user turns of a multi-turn
	// conversation (MT-Bench's `turns`); each turn is a stage that sees the
	// model's own earlier answers.
	Turns string `yaml:"turns" json:"turns,omitempty"`
	// Options are settings of the task's type beyond the common keys: a type
	// plug-in documents and checks its own (internal/task), so adding a type
	// needs no new field here.
	Options map[string]any `yaml:"options" json:"options,omitempty"`
	// Group gathers tasks into one reported group (MMLU's subjects under mmlu).
	Group string `yaml:"group" json:"group,omitempty"`
	// Slices break the task's metrics and deltas down by a row field, a
	// length bucket or a template over the row (internal/slice).
	Slices []Slice `yaml:"slices" json:"slices,omitempty"`
	// Judge grades the task's outputs with LLM judges: a stage after the
	// task's own, whose judgments a parser turns into metrics.
	Judge *Judge `yaml:"judge" json:"judge,omitempty"`
	// Safety scores the task's outputs with the plan's classifiers: a stage
	// after the task's own (and the judge's), giving toxicity metrics.
	Safety  *Safety  `yaml:"safety" json:"safety,omitempty"`
	FewShot FewShot  `yaml:"few_shot" json:"few_shot"`
	Scorers []Scorer `yaml:"scorers" json:"scorers"`
	// Params override the models' generation params for this task.
	Params *Params `yaml:"params" json:"params,omitempty"`
	// Benchmark names a built-in benchmark (`tunecheck tasks`; internal/bench)
	// that this entry stands for; the entry then takes only data_dir, and the
	// run adds the benchmark's tasks as `run --tasks` does.
	Benchmark string `yaml:"benchmark" json:"benchmark,omitempty"`
	// LMEval is an lm-evaluation-harness task YAML file (relative to the
	// plan), read unmodified (internal/lmeval, docs/lmeval.md); the entry
	// then takes only data_dir, required, and the run adds the file's task
	// with lm-eval's prompts, as `tunecheck lm-eval export` writes it.
	LMEval string `yaml:"lm_eval" json:"lm_eval,omitempty"`
	// DataDir (with benchmark or lm_eval) is where the data is, relative to
	// the plan: for a benchmark, original files or the Hugging Face layout
	// (default: the samples embedded in tunecheck); for lm_eval,
	// DATA_DIR/<dataset_path>/<dataset_name>/<split>.{jsonl,json,parquet,csv}.
	DataDir string `yaml:"data_dir" json:"data_dir,omitempty"`
}

// Judge modes.
const (
	JudgeSingle   = "single"
	JudgePairwise = "pairwise"
)

// Judge says how a task's outputs are judged (internal/judge).
type Judge struct {
	// With names the judges (plan `judges`); several form a jury.
	With []string `yaml:"with" json:"with"`
	// Mode is single (each output graded on a scale, default) or pairwise
	// (baseline vs candidate, judged in both orders).
	Mode string `yaml:"mode" json:"mode,omitempty"`
	// Template is a built-in judge prompt (default: MT-Bench's, chosen by
	// mode, reference and turns); System and Prompt give a custom one.
	Template string `yaml:"template" json:"template,omitempty"`
	System   string `yaml:"system" json:"system,omitempty"`
	Prompt   string `yaml:"prompt" json:"prompt,omitempty"`
	// Reference is a field or template giving the reference answer shown
	// to the judge (MT-Bench's math, reasoning and coding questions).
	Reference string `yaml:"reference" json:"reference,omitempty"`
	// Scale is the lowest and highest score (default [1, 10]).
	Scale []float64 `yaml:"scale" json:"scale,omitempty"`
	// Parse is fastchat (default, as FastChat scores MT-Bench) or strict.
	Parse string `yaml:"parse" json:"parse,omitempty"`
	// Repair (strict only) asks a judge whose judgment cannot be parsed
	// once more, with its judgment and a request for the verdict format.
	Repair bool `yaml:"repair" json:"repair,omitempty"`
	// Aggregate combines a jury: mean (default for scores), median, or
	// majority (default for pairwise choices).
	Aggregate string `yaml:"aggregate" json:"aggregate,omitempty"`
	// Logprobs asks the judges for this many top logprobs per token, for
	// logprob-weighted scores and soft preferences (0: none).
	Logprobs int `yaml:"logprobs" json:"logprobs,omitempty"`
	// MaxCost stops the run cleanly (resumable) when the judges' spend
	// reaches it, in the price unit of judges[].prices (0: no limit).
	MaxCost float64 `yaml:"max_cost" json:"max_cost,omitempty"`
}

// Slice is one way to break a task's items into groups. Exactly one of
// Field, Length and Template says how an item's group is found.
type Slice struct {
	// Name labels the slice in reports and gates (TASK.METRIC.slice(NAME)…);
	// it defaults to Field.
	Name string `yaml:"name" json:"name,omitempty"`
	// Field groups by a row field's value (MT-Bench's category).
	Field string `yaml:"field" json:"field,omitempty"`
	// Length groups by the length of a row field in buckets.
	Length *LengthSlice `yaml:"length" json:"length,omitempty"`
	// Template is a Jinja template over the row whose output is the group,
	// e.g. "{{ 'code' if '```' in question else 'prose' }}".
	Template string `yaml:"template" json:"template,omitempty"`
}

// LengthSlice buckets items by the length of a field: Bounds [200, 1000]
// make the groups <200, 200–999 and ≥1000.
type LengthSlice struct {
	Field string `yaml:"field" json:"field"`
	// Unit is chars (default, Unicode characters) or words (whitespace-separated).
	Unit   string `yaml:"unit" json:"unit,omitempty"`
	Bounds []int  `yaml:"bounds" json:"bounds"`
}

// Dataset says where a task's rows come from.
type Dataset struct {
	Path string `yaml:"path" json:"path"`
	// Format: auto (default, from the extension), jsonl, json, csv, tsv, parquet.
	Format string `yaml:"format" json:"format,omitempty"`
	// IDField names the id column; empty derives a stable id from the row's content.
	IDField string `yaml:"id_field" json:"id_field,omitempty"`
	// Limit keeps the first N rows; Sample draws N rows at random with Seed.
	Limit  int     `yaml:"limit" json:"limit,omitempty"`
	Sample int     `yaml:"sample" json:"sample,omitempty"`
	Seed   *uint64 `yaml:"seed" json:"seed,omitempty"`
	// Columns names the columns of a CSV/TSV file without a header row
	// (MMLU's data files); every line is then a row.
	Columns []string `yaml:"columns" json:"columns,omitempty"`
}

// Prompt renders a row into a request.
type Prompt struct {
	// System is a Jinja template for the system message (chat only).
	System string `yaml:"system" json:"system,omitempty"`
	// Template is the Jinja template for the user message (chat) or the whole prompt (completion).
	Template string `yaml:"template" json:"template"`
	// Chat sends messages (default true); false sends a plain completion prompt.
	Chat *bool `yaml:"chat" json:"chat,omitempty"`
}

// FewShot prepends K examples, drawn with Seed from Path (or from the task's own
// dataset, excluding the item itself), rendered with the prompt template and Target.
type FewShot struct {
	K      int     `yaml:"k" json:"k,omitempty"`
	Path   string  `yaml:"path" json:"path,omitempty"`
	Target string  `yaml:"target" json:"target,omitempty"`
	Seed   *uint64 `yaml:"seed" json:"seed,omitempty"`
}

// Scorer names a scorer and its options.
type Scorer struct {
	Name    string         `yaml:"name" json:"name"`
	Options map[string]any `yaml:"options" json:"options,omitempty"`
}

// Compare names the baseline (base model) and the candidate (fine-tune).
type Compare struct {
	Baseline  string `yaml:"baseline" json:"baseline"`
	Candidate string `yaml:"candidate" json:"candidate"`
}

// Training describes how the candidate was trained.
type Training struct {
	// Logs are trainer logs (trainer_state.json, trainer_log.jsonl, TensorBoard
	// event files, CSV/JSONL exports, checkpoint directories) for `tunecheck curves`.
	Logs []string `yaml:"logs" json:"logs,omitempty"`
	// Patience is the early-stopping patience (evaluations) for the replay (default 3).
	Patience int `yaml:"patience" json:"patience,omitempty"`
	// Data is the training set (JSONL, chat or Alpaca rows, or plain text):
	// each task's dataset is checked against it for leakage, and the
	// candidate's outputs for verbatim memorisation.
	Data string `yaml:"data" json:"data,omitempty"`
	// Leakage lists the methods (exact, minhash, ngram; default exact and minhash).
	Leakage []string `yaml:"leakage" json:"leakage,omitempty"`
	// Benchmarks are checked for contamination by the training data with
	// 13-gram overlap (names as `tunecheck leakage --bench`; empty: none).
	Benchmarks []string `yaml:"benchmarks" json:"benchmarks,omitempty"`
	// MemorisationMinSpan flags outputs sharing at least this many consecutive
	// words with a training row (default 50; 0 keeps the default).
	MemorisationMinSpan int `yaml:"memorisation_min_span" json:"memorisation_min_span,omitempty"`
}

// ReportOptions set what reports show beyond the numbers.
type ReportOptions struct {
	// Examples is how many worst items per metric (and flipped items per
	// binary metric and direction) reports show; 0 means the default, 20.
	Examples int `yaml:"examples" json:"examples,omitempty"`
}

// Bootstrap settings for confidence intervals.
type Bootstrap struct {
	Resamples  int     `yaml:"resamples" json:"resamples"`
	Confidence float64 `yaml:"confidence" json:"confidence"`
}

// Classifier protocols (internal/safety/classify).
const (
	ClassifierModeration   = "moderation"
	ClassifierLlamaGuard   = "llamaguard"
	ClassifierTEI          = "tei"
	ClassifierVLLMClassify = "vllm_classify"
	ClassifierPerspective  = "perspective"
	ClassifierRecorded     = "recorded"
	ClassifierWordList     = "wordlist"
)

// ClassifierProtocols lists the protocols a classifier may speak.
var ClassifierProtocols = []string{ClassifierModeration, ClassifierLlamaGuard, ClassifierTEI, ClassifierVLLMClassify, ClassifierPerspective, ClassifierRecorded, ClassifierWordList}

// Classifier is a named safety classifier endpoint (or file).
type Classifier struct {
	Name string `yaml:"name" json:"name"`
	// Protocol is one of ClassifierProtocols.
	Protocol string `yaml:"protocol" json:"protocol"`
	// BaseURL of the server (moderation, llamaguard: the /v1 root; tei,
	// vllm_classify: the server root; perspective: default Google's).
	BaseURL string `yaml:"base_url" json:"base_url,omitempty"`
	// Model is the model id sent (moderation, llamaguard, vllm_classify).
	Model string `yaml:"model" json:"model,omitempty"`
	// APIKeyEnv names the environment variable holding the API key.
	APIKeyEnv string `yaml:"api_key_env" json:"api_key_env,omitempty"`
	// Path is the recorded scores file (recorded) or the word list (wordlist).
	Path string `yaml:"path" json:"path,omitempty"`
	// Attribute is the score key read as the output's toxicity; empty picks
	// the protocol's (docs/safety.md).
	Attribute string `yaml:"attribute" json:"attribute,omitempty"`
	// ToxicLabels are the labels meaning toxic (tei, vllm_classify).
	ToxicLabels []string `yaml:"toxic_labels" json:"toxic_labels,omitempty"`
	// Threshold is the score at which an output counts as toxic (default 0.5).
	Threshold float64 `yaml:"threshold" json:"threshold"`
	// Concurrency is the number of requests in flight (default 8).
	Concurrency int       `yaml:"concurrency" json:"concurrency"`
	RateLimit   RateLimit `yaml:"rate_limit" json:"rate_limit"`
	// Timeout per request as a Go duration (default "120s").
	Timeout string `yaml:"timeout" json:"timeout"`
	// MaxRetries on 429, 5xx, timeouts and resets (default 5).
	MaxRetries *int `yaml:"max_retries" json:"max_retries"`
}

// Safety is a task's safety section.
type Safety struct {
	// Classifiers names the plan's classifiers that score this task's outputs.
	Classifiers []string `yaml:"classifiers" json:"classifiers"`
	// Threshold overrides the classifiers' toxic threshold for this task.
	Threshold float64 `yaml:"threshold" json:"threshold,omitempty"`
	// Strict adds toxic_count: the number of toxic outputs, for a gate
	// such as TASK.toxic_count.candidate.ci_high <= 0.
	Strict bool `yaml:"strict" json:"strict,omitempty"`
}

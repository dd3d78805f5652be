package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tunecheck/tunecheck/internal/app"
	"github.com/tunecheck/tunecheck/internal/benchdata"
	"github.com/tunecheck/tunecheck/internal/embed"
	"github.com/tunecheck/tunecheck/internal/exitcode"
	"github.com/tunecheck/tunecheck/internal/leakage"
	"github.com/tunecheck/tunecheck/internal/store"
)

// leakageReadFlags are the flags that say how rows become text.
type leakageReadFlags struct {
	format     string
	fields     string
	testFields string
	idField    string
}

func (r *leakageReadFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&r.format, "input-format", "auto", "row format of the files read: auto, jsonl or text (one document per line)")
	f.SetAnnotation("input-format", valuesAnnotation, []string{"auto", "jsonl", "text"})
	f.StringVar(&r.fields, "fields", "", "JSON fields that count, e.g. instruction,output or messages:user+assistant (default: every text field: messages, instruction/input/output, prompt/completion, question/answer, text, …, else all string fields)")
	f.StringVar(&r.idField, "id-field", "id", "JSON field holding a row id (default: line number)")
}

// legacy reads the spellings from before the vocabulary, when --format was
// the row format and -o the output format. A row format (auto, jsonl) given
// to --format is taken as --input-format; "text" is both a row format and an
// output format, so it is read as the row format only when -o names a format
// too (an old command line throughout), and is refused otherwise unless
// --input-format is given. oldStyle says the command line uses another old
// spelling. It leaves *format a valid output format of allowed.
func (r *leakageReadFlags) legacy(cmd *cobra.Command, env Env, format, output *string, oldStyle bool, allowed ...string) error {
	fl := cmd.Flags()
	oldStyle = oldStyle || fl.Changed("output") && isFormatName(*output)
	formatGiven := fl.Changed("format")
	if v := *format; !env.shortUsed(fl, 'f') && formatGiven && (v == "auto" || v == "jsonl" || v == "text" && oldStyle) {
		if fl.Changed("input-format") {
			return badFlag(fmt.Errorf("--format %s names a row format, and --input-format is given too", v), "drop --format, or give it an output format: "+orList(allowed))
		}
		deprecated(env, "--format "+v, "--input-format "+v)
		r.format, *format, formatGiven = v, "text", false
	} else if formatGiven && v == "text" && !fl.Changed("input-format") && !env.shortUsed(fl, 'f') {
		return badFlag(errors.New("--format text is ambiguous while the old spellings last: it was the row format and is now the output format"),
			"write --input-format text to read one document per line, or --input-format auto --format text for text output (the default)")
	}
	if _, err := legacyOutputFormat(cmd, env, output, format, formatGiven); err != nil {
		return err
	}
	f, err := outputFormat(env, *format, allowed...)
	if err != nil {
		return exitcode.WithHint(err, "--format is the output format ("+orList(allowed)+"); the row format of the files read is --input-format (auto, jsonl or text)")
	}
	*format = f
	return nil
}

func (r leakageReadFlags) options(fields string) leakage.ReadOptions {
	return leakage.ReadOptions{Format: r.format, Fields: leakage.ParseFields(fields), IDField: r.idField}
}

// leakageOptions are the flags of `tunecheck leakage`.
type leakageOptions struct {
	read       leakageReadFlags
	train      string
	test       string
	bench      string
	methods    string
	normalize  string
	shingle    string
	shingleK   int
	lshWeights string
	format     string
	output     string
	maxPairs   int
	failAbove  float64
	// embeddings
	embedKind  string
	embedURL   string
	embedModel string
	apiKeyEnv  string
	storeDSN   string
	noCache    bool
	opts       leakage.Options
}

func newLeakageCmd(env Env) *cobra.Command {
	o := leakageOptions{}
	cmd := &cobra.Command{
		Use:   "leakage --train T [--test E] [--bench mmlu,gsm8k]",
		Short: "Train/test leakage, benchmark contamination, memorisation",
		Long: `leakage checks a training set against a test set and public benchmarks:

  exact    duplicates after normalisation (NFKC, case, whitespace, punctuation)
  minhash  near duplicates: MinHash over shingles, LSH banding optimised for the
           Jaccard threshold, every candidate verified with the exact Jaccard
  ngram    GPT-3 style 13-gram overlap and the Llama 2 contaminated-token share
           (clean / not clean / dirty) per item: of the stored benchmark test
           items with --bench, else of the --test items (an item that is not
           clean counts as leaked)
  embed    semantic near duplicates through an embeddings endpoint (OpenAI-
           compatible /v1/embeddings or Ollama /api/embed), cached in the store

The training set is streamed; the test set and the benchmark items are held in
memory. Rows are JSONL (chat "messages", Alpaca instruction/input/output,
prompt/completion, question/answer, "text", …) or plain text, one document per
line. By default every text field counts: a training row is compared whole and
field by field, a test row whole and by its prompt fields, so a test prompt
copied into one field of a training row is found; the report names the fields.
The exit code is 1 when the leaked share of the test set, or the contaminated
share of a benchmark, is above --fail-above.`,
		Example: `  tunecheck leakage --train train.jsonl --test eval.jsonl
  tunecheck leakage --train train.jsonl --bench all --method ngram
  tunecheck leakage --train train.jsonl --test eval.jsonl --method ngram
  tunecheck leakage --train train.jsonl --test eval.jsonl --bench mmlu,gsm8k --method exact,minhash,ngram --fail-above 0
  tunecheck leakage --train train.jsonl --test eval.jsonl --method embed --embed-kind ollama --embed-url http://localhost:11434 --embed-model all-minilm
  tunecheck leakage --train train.txt --test eval.txt --input-format text -f json -o leakage.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.read.legacy(cmd, env, &o.format, &o.output, false, "text", "json", "md"); err != nil {
				return err
			}
			if !cmd.Flags().Changed("fail-above") {
				o.failAbove = -1
			}
			if !cmd.Flags().Changed("method") {
				o.methods = ""
			}
			return runLeakage(cmd.Context(), env, o)
		},
	}
	o.read.add(cmd)
	f := cmd.Flags()
	f.StringVar(&o.train, "train", "", "training set (JSONL or text, .gz allowed); required")
	f.StringVar(&o.test, "test", "", "test set to check against the training set")
	f.StringVar(&o.read.testFields, "test-fields", "", "--fields for the test set when it differs")
	f.StringVar(&o.bench, "bench", "", "stored benchmarks for ngram contamination: "+strings.Join(benchdata.Names(), ",")+" or all")
	f.StringVar(&o.methods, "method", "exact,minhash", "methods: exact, minhash, ngram (against --bench, else --test), embed (default exact,minhash with --test, plus ngram with --bench)")
	f.StringVar(&o.normalize, "normalize", "all", "normalisation before exact and MinHash: nfkc, case, whitespace, punct, all or none")
	f.Float64Var(&o.opts.Threshold, "threshold", 0.8, "Jaccard threshold for near duplicates")
	f.IntVar(&o.opts.NumPerm, "num-perm", 128, "MinHash permutations")
	f.Uint64Var(&o.opts.Seed, "seed", 1, "seed of the MinHash permutations (recorded in the report)")
	f.StringVar(&o.shingle, "shingle", "word", "shingle unit: word or char")
	f.IntVar(&o.shingleK, "shingle-size", 0, "shingle length (default 3 words or 5 characters)")
	f.StringVar(&o.lshWeights, "lsh-weights", "0.1,0.9", "false-positive,false-negative weights for choosing the LSH banding")
	f.BoolVar(&o.opts.Within, "within", true, "also report duplicates inside each split")
	f.BoolVar(&o.opts.WithinTrainNear, "within-train-near", false, "near duplicates inside the training set too (indexes every training row)")
	f.IntVar(&o.opts.Ngram.N, "ngram", 13, "n-gram length in words for method ngram")
	f.Float64Var(&o.opts.Ngram.CleanBelow, "clean-below", 0.2, "an item is clean below this contaminated-token share")
	f.Float64Var(&o.opts.Ngram.DirtyFrom, "dirty-from", 0.8, "an item is dirty from this contaminated-token share on")
	f.StringVar(&o.embedKind, "embed-kind", "openai", "embeddings endpoint kind: openai (any /v1/embeddings server) or ollama")
	f.StringVar(&o.embedURL, "embed-url", "", "embeddings base URL, e.g. https://api.openai.com/v1 or http://localhost:11434")
	f.StringVar(&o.embedModel, "embed-model", "", "embeddings model")
	f.StringVar(&o.apiKeyEnv, "api-key-env", "", "name of the environment variable holding the API key")
	f.Float64Var(&o.opts.Semantic.Cosine, "cosine", 0.9, "cosine threshold for semantic near duplicates")
	f.StringVar(&o.opts.Semantic.Index, "embed-index", "auto", "vector search: exact, lsh or auto (exact up to 5000 test rows)")
	f.IntVar(&o.opts.Semantic.Batch, "embed-batch", 64, "texts per embeddings request")
	f.StringVar(&o.storeDSN, "store", "", "store for the embeddings cache (default: the store key of tunecheck.yaml here, else .tunecheck/tunecheck.db; postgres://… allowed)")
	f.BoolVar(&o.noCache, "no-cache", false, "do not cache embeddings")
	addFormatFlag(f, &o.format, "text", "text", "json", "md")
	f.StringVarP(&o.output, "output", "o", "", "write the report to this file instead of stdout")
	f.IntVar(&o.maxPairs, "max-pairs", 20, "pairs shown side by side in text output (0 = all kept)")
	f.IntVar(&o.opts.MaxPairs, "keep-pairs", 1000, "pairs kept in the report per kind and scope (the rest are counted)")
	f.Float64Var(&o.failAbove, "fail-above", -1, "exit 1 when the leaked or contaminated share is above this percentage")
	cmd.AddCommand(newMemorisationCmd(env))
	return cmd
}

func runLeakage(ctx context.Context, env Env, o leakageOptions) error {
	if err := o.validate(); err != nil {
		return exitcode.WithCode(err, exitcode.BadInput)
	}
	if methodOn(o.opts.Methods, leakage.MethodEmbed) {
		emb, closeFn, err := o.embedder(ctx, env)
		if err != nil {
			return err
		}
		defer closeFn()
		o.opts.Semantic.Embedder = emb
		o.opts.Semantic.Model = o.embedModel
	}
	train := leakage.FileSource(o.train, o.read.options(o.read.fields))
	var test *leakage.Source
	if o.test != "" {
		tf := o.read.fields
		if o.read.testFields != "" {
			tf = o.read.testFields
		}
		s := leakage.FileSource(o.test, o.read.options(tf))
		test = &s
	}
	rep, err := leakage.Check(ctx, train, test, o.opts)
	var ee *leakage.EmbedError
	switch {
	case errors.As(err, &ee):
		return exitcode.WithHint(exitcode.WithCode(err, exitcode.Unreachable), "check --embed-url, --embed-model and the API key, or leave out --method embed")
	case err != nil:
		return exitcode.WithCode(err, exitcode.BadInput)
	}
	err = writeOutput(env, o.output, func(w io.Writer) error {
		switch o.format {
		case "json":
			return writeJSON(w, rep)
		case "md":
			return leakage.WriteMarkdown(w, rep)
		}
		return leakage.WriteText(w, rep, o.maxPairs)
	})
	if err != nil {
		return err
	}
	if o.failAbove >= 0 && 100*rep.Worst() > o.failAbove {
		return exitcode.WithCode(fmt.Errorf("leakage %.1f%% is above --fail-above %g%%", 100*rep.Worst(), o.failAbove), exitcode.GateFailed)
	}
	return nil
}

func methodOn(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func (o *leakageOptions) validate() error {
	if o.train == "" {
		return fmt.Errorf("--train is required")
	}
	for _, p := range []string{o.train, o.test} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("cannot read %s: %w", p, err)
		}
	}
	switch o.read.format {
	case "auto", "jsonl", "text":
	default:
		return fmt.Errorf("--input-format %q: use auto, jsonl or text", o.read.format)
	}
	var err error
	if o.bench != "" {
		if o.opts.Benchmarks, err = benchdata.Parse(o.bench); err != nil {
			return err
		}
	}
	if o.methods == "" {
		if o.test != "" {
			o.opts.Methods = []string{leakage.MethodExact, leakage.MethodMinHash}
		}
		if o.bench != "" {
			o.opts.Methods = append(o.opts.Methods, leakage.MethodNgram)
		}
		if len(o.opts.Methods) == 0 {
			o.opts.Methods = []string{leakage.MethodExact, leakage.MethodMinHash}
		}
	} else if o.opts.Methods, err = leakage.ParseMethods(o.methods); err != nil {
		return err
	}
	if len(o.opts.Methods) == 0 {
		return fmt.Errorf("--method is empty (use exact, minhash, ngram, embed)")
	}
	if methodOn(o.opts.Methods, leakage.MethodNgram) && len(o.opts.Benchmarks) == 0 && o.test == "" {
		return fmt.Errorf("method ngram needs --test (13-gram overlap with the test set) or --bench (e.g. --bench mmlu,gsm8k or --bench all)")
	}
	if methodOn(o.opts.Methods, leakage.MethodEmbed) && o.test == "" {
		return fmt.Errorf("method embed needs --test")
	}
	if o.opts.Normalize, err = leakage.ParseNormalize(o.normalize); err != nil {
		return fmt.Errorf("--normalize: %w", err)
	}
	if o.shingle != "word" && o.shingle != "char" {
		return fmt.Errorf("--shingle %q: use word or char", o.shingle)
	}
	o.opts.Shingling = leakage.Shingling{Unit: o.shingle, K: o.shingleK}
	if o.opts.Threshold <= 0 || o.opts.Threshold > 1 {
		return fmt.Errorf("--threshold %g: must be in (0, 1]", o.opts.Threshold)
	}
	if o.opts.NumPerm < 2 || o.opts.NumPerm > 1024 {
		return fmt.Errorf("--num-perm %d: must be between 2 and 1024", o.opts.NumPerm)
	}
	w := strings.Split(o.lshWeights, ",")
	if len(w) != 2 {
		return fmt.Errorf("--lsh-weights %q: want two numbers, e.g. 0.1,0.9", o.lshWeights)
	}
	fp, err1 := strconv.ParseFloat(strings.TrimSpace(w[0]), 64)
	fn, err2 := strconv.ParseFloat(strings.TrimSpace(w[1]), 64)
	if err1 != nil || err2 != nil || fp < 0 || fn < 0 || fp+fn == 0 {
		return fmt.Errorf("--lsh-weights %q: want two non-negative numbers, e.g. 0.1,0.9", o.lshWeights)
	}
	o.opts.FPWeight, o.opts.FNWeight = fp, fn
	if o.opts.Ngram.N < 1 {
		return fmt.Errorf("--ngram %d: must be at least 1", o.opts.Ngram.N)
	}
	if o.opts.Ngram.CleanBelow < 0 || o.opts.Ngram.CleanBelow > o.opts.Ngram.DirtyFrom || o.opts.Ngram.DirtyFrom > 1 {
		return fmt.Errorf("--clean-below %g and --dirty-from %g: want 0 ≤ clean-below ≤ dirty-from ≤ 1", o.opts.Ngram.CleanBelow, o.opts.Ngram.DirtyFrom)
	}
	if o.opts.Semantic.Cosine <= 0 || o.opts.Semantic.Cosine > 1 {
		return fmt.Errorf("--cosine %g: must be in (0, 1]", o.opts.Semantic.Cosine)
	}
	return nil
}

// embedder builds the embeddings client, with the store's response cache
// unless --no-cache. The API key is read here, by the variable's name.
func (o *leakageOptions) embedder(ctx context.Context, env Env) (leakage.Embedder, func(), error) {
	key := ""
	if o.apiKeyEnv != "" {
		key = env.Getenv(o.apiKeyEnv)
		if key == "" {
			return nil, nil, exitcode.WithCode(fmt.Errorf("--api-key-env %s: the variable is not set", o.apiKeyEnv), exitcode.BadInput)
		}
	}
	c, err := embed.New(o.embedKind, o.embedURL, o.embedModel, key, nil)
	if err != nil {
		return nil, nil, exitcode.WithCode(err, exitcode.BadInput)
	}
	if o.noCache {
		return c, func() {}, nil
	}
	// The cache may start here, so the store is created when missing.
	dsn, _, err := app.LocateStore(o.storeDSN, "")
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, nil, exitcode.WithHint(exitcode.WithCode(err, exitcode.BadInput), "pass --store PATH, or --no-cache to embed without caching")
	}
	return embed.NewCached(c, embed.Funcs{GetFunc: st.CacheGet, PutFunc: st.CachePut}), func() { st.Close() }, nil
}

// memorisationOptions are the flags of `tunecheck leakage memorisation`.
type memorisationOptions struct {
	read        leakageReadFlags
	train       string
	outputs     string
	outputField string
	run, model  string
	store       storeFlags
	output      string
	format      string
	failAbove   float64
	opts        leakage.MemoOptions
}

func newMemorisationCmd(env Env) *cobra.Command {
	o := memorisationOptions{}
	cmd := &cobra.Command{
		Use:     "memorisation --train T --outputs outputs.jsonl",
		Aliases: []string{"memorization"},
		Short:   "Verbatim regurgitation: the longest span an output shares with the training set",
		Long: `memorisation finds, for every model output, the longest run of consecutive words it
shares with any training row, and flags outputs at or above --min-span words (50 by
default, the extractable-memorisation length of Carlini et al.), with the source row.
Outputs are JSONL rows with an id and a text field (output, completion, response, text
or prediction, or the one named by --output-field).`,
		Example: `  tunecheck leakage memorisation --train train.jsonl --run latest
  tunecheck leakage memorisation --train train.jsonl --outputs run-outputs.jsonl
  tunecheck leakage memorisation --train train.jsonl --outputs out.jsonl --min-span 30 --fail-above 0 -f json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.read.legacy(cmd, env, &o.format, &o.output, false, "text", "json"); err != nil {
				return err
			}
			if !cmd.Flags().Changed("fail-above") {
				o.failAbove = -1
			}
			return runMemorisation(cmd.Context(), env, o)
		},
	}
	o.read.add(cmd)
	f := cmd.Flags()
	f.StringVar(&o.train, "train", "", "training set (JSONL or text, .gz allowed); required")
	f.StringVar(&o.outputs, "outputs", "", "model outputs, JSONL with id and text fields; required")
	f.StringVar(&o.outputField, "output-field", "", "the outputs' text field")
	f.StringVar(&o.run, "run", "", "check a stored run's outputs instead of --outputs (a run id, or latest)")
	f.StringVar(&o.model, "model", "", "with --run: the model whose outputs to check (default: the run's candidate)")
	f.StringVar(&o.store.store, "store", "", "with --run: "+storeFlagHelp)
	f.StringVar(&o.store.plan, "plan", "", "with --run: "+planFlagHelp)
	f.IntVar(&o.opts.MinSpan, "min-span", 50, "flag outputs sharing at least this many consecutive words with a training row")
	f.IntVar(&o.opts.Seed, "seed-span", 8, "shortest span searched for, in words")
	addFormatFlag(f, &o.format, "text", "text", "json")
	f.StringVarP(&o.output, "output", "o", "", "write the report to this file instead of stdout")
	f.Float64Var(&o.failAbove, "fail-above", -1, "exit 1 when the flagged share of outputs is above this percentage")
	return cmd
}

func runMemorisation(ctx context.Context, env Env, o memorisationOptions) error {
	if o.train == "" || (o.outputs == "") == (o.run == "") {
		return exitcode.WithCode(fmt.Errorf("--train and one of --outputs or --run are required"), exitcode.BadInput)
	}
	if o.opts.MinSpan < 1 || o.opts.Seed < 1 {
		return exitcode.WithCode(fmt.Errorf("--min-span and --seed-span must be at least 1"), exitcode.BadInput)
	}
	var outs []leakage.Output
	var err error
	if o.run != "" {
		st, serr := o.store.open(ctx)
		if serr != nil {
			return serr
		}
		outs, err = app.RunOutputs(ctx, st, o.run, o.model)
		st.Close()
		if err != nil {
			return err
		}
	} else if outs, err = readOutputsFile(o.outputs, o.outputField); err != nil {
		return exitcode.WithCode(err, exitcode.BadInput)
	}
	if _, err := os.Stat(o.train); err != nil {
		return exitcode.WithCode(fmt.Errorf("cannot read %s: %w", o.train, err), exitcode.BadInput)
	}
	rep, err := leakage.Memorisation(ctx, outs, leakage.FileSource(o.train, o.read.options(o.read.fields)), o.opts)
	if err != nil {
		return exitcode.WithCode(err, exitcode.BadInput)
	}
	err = writeOutput(env, o.output, func(w io.Writer) error {
		if o.format == "json" {
			return writeJSON(w, rep)
		}
		return leakage.WriteMemoText(w, rep)
	})
	if err != nil {
		return err
	}
	share := 100 * float64(rep.Flagged) / float64(max(rep.Outputs, 1))
	if o.failAbove >= 0 && share > o.failAbove {
		return exitcode.WithCode(fmt.Errorf("%.1f%% of outputs regurgitate training data, above --fail-above %g%%", share, o.failAbove), exitcode.GateFailed)
	}
	return nil
}

func readOutputsFile(path, field string) ([]leakage.Output, error) {
	rc, err := leakage.OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return leakage.ReadOutputs(io.Reader(rc), path, field)
}

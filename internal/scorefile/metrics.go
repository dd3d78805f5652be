package scorefile

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/tunecheck/tunecheck/metrics/bleu"
	"github.com/tunecheck/tunecheck/metrics/classification"
	"github.com/tunecheck/tunecheck/metrics/code"
	"github.com/tunecheck/tunecheck/metrics/lm"
	"github.com/tunecheck/tunecheck/metrics/rouge"
	"github.com/tunecheck/tunecheck/metrics/text"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed5c0e)) }

func sortFloats(xs []float64) { slices.Sort(xs) }

// context holds the input in the shapes the metric packages take.
type context struct {
	in Input
	o  Options

	hyps []string
	refs [][]string

	yTrue, yPred []classification.Label
	scores       []float64
	prob         [][]float64
	probList     bool

	samples []code.Sample

	posLabel *classification.Label
	labels   []classification.Label

	// rougeTypes are every ROUGE metric of the run, scored in one pass
	// (tokenising and stemming once) into rougeCorpus.
	rougeTypes  []string
	rougeCorpus *rouge.Corpus
}

func newContext(in Input, o Options) (*context, error) {
	c := &context{in: in, o: o}
	if o.PosLabel != "" {
		l, err := classification.ParseLabel([]byte(o.PosLabel))
		if err != nil {
			// A bare word is taken as a string label, so --pos-label yes works.
			l = classification.Str(o.PosLabel)
		}
		c.posLabel = &l
	}
	if o.Labels != "" {
		ls, err := classification.ParseLabels([]byte(o.Labels))
		if err != nil {
			return nil, fmt.Errorf("--labels %s: %v: give a JSON list such as [0, 1, 2] or [\"neg\", \"pos\"]", o.Labels, err)
		}
		c.labels = ls
	}
	c.hyps, c.refs = in.Predictions, in.References
	c.yTrue, c.yPred = in.Labels, in.Preds
	c.scores, c.prob, c.probList = in.Scores, in.Probs, in.ProbList
	for i := range in.N {
		c.samples = append(c.samples, code.Sample{N: in.N[i], C: in.C[i]})
	}
	return c, nil
}

// labelsCoverRows reports, with the file and line of the row, a label
// outside --labels. Only log_loss needs this: its probability columns are the
// listed labels, so scikit-learn 1.2.1 refuses any other; precision, recall,
// F and the confusion matrix accept a subset of the classes (and listed
// classes that never occur) and count only the listed ones.
func (c *context) labelsCoverRows() error {
	if c.labels == nil {
		return nil
	}
	in := c.in
	known := func(l classification.Label) bool {
		for _, k := range c.labels {
			if classification.Equal(k, l) {
				return true
			}
		}
		return false
	}
	for i, l := range in.Labels {
		if !known(l) {
			return fmt.Errorf("%s: field \"label\": %s is not in --labels %s: log_loss needs every class of the rows in --labels (one probability column each): add it to --labels", in.Pos(i), l, c.o.Labels)
		}
	}
	return nil
}

// need fails unless the input is of one of the kinds.
func (c *context) need(metric string, kinds ...Kind) error {
	if slices.Contains(kinds, c.in.Kind) {
		return nil
	}
	want := make([]string, len(kinds))
	for i, k := range kinds {
		want[i] = string(k)
	}
	return fmt.Errorf("metric %s needs %s rows but the input holds %s rows", metric, strings.Join(want, " or "), c.in.Kind)
}

// needRefs fails unless the rows are text rows that all have references.
func (c *context) needRefs(metric string) error {
	if err := c.need(metric, KindText); err != nil {
		return err
	}
	for i, r := range c.refs {
		if len(r) == 0 {
			return fmt.Errorf("%s: field \"references\": missing or empty: %s needs at least one reference per prediction (an empty string counts)", c.in.Pos(i), metric)
		}
	}
	return nil
}

// Known lists every metric name score accepts, for help and errors.
var Known = []string{
	"bleu", "chrf", "chrf++", "ter",
	"rouge1", "rouge2", "rougeL", "rougeLsum", "rougeN (any N)",
	"token_f1", "squad_em", "squad_f1", "exact_match", "levenshtein", "levenshtein_similarity",
	"distinct_N (any N)", "self_bleu",
	"accuracy", "balanced_accuracy", "precision", "recall", "f1", "mcc", "cohen_kappa", "confusion_matrix",
	"roc_auc", "average_precision", "log_loss", "brier", "ece",
	"mae", "mse", "rmse", "r2", "mape", "pearson", "spearman", "kendall",
	"pass@k", "pass@K (any K)",
	"nll", "nll_bits", "perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte", "doc_perplexity",
}

func (c *context) metric(name string) (metricRun, error) {
	switch {
	case name == "bleu", name == "chrf", name == "chrf++", name == "ter":
		if err := c.needRefs(name); err != nil {
			return metricRun{}, err
		}
		return c.sacrebleu(name)
	case strings.HasPrefix(name, "rouge"):
		if err := c.needRefs(name); err != nil {
			return metricRun{}, err
		}
		return c.rouge(name)
	case name == "token_f1", name == "squad_em", name == "squad_f1", name == "exact_match",
		name == "levenshtein", name == "levenshtein_similarity":
		if err := c.needRefs(name); err != nil {
			return metricRun{}, err
		}
		return c.textMean(name)
	case strings.HasPrefix(name, "distinct_"), name == "self_bleu":
		if err := c.need(name, KindText); err != nil {
			return metricRun{}, err
		}
		return c.diversity(name)
	case strings.HasPrefix(name, "pass@"):
		if err := c.need(name, KindCounts); err != nil {
			return metricRun{}, err
		}
		k, err := strconv.Atoi(strings.TrimPrefix(name, "pass@"))
		if err != nil || k < 1 {
			return metricRun{}, fmt.Errorf("metric %s: write pass@K with a whole K >= 1, such as pass@10", name)
		}
		return c.passAtK(k), nil
	}
	switch name {
	case "accuracy", "balanced_accuracy", "precision", "recall", "f1", "mcc", "cohen_kappa", "confusion_matrix":
		if err := c.need(name, KindLabels, KindText); err != nil {
			return metricRun{}, err
		}
		if c.in.Kind == KindText {
			if err := c.needRefs(name); err != nil {
				return metricRun{}, err
			}
		}
		return c.labelMetric(name)
	case "roc_auc", "average_precision", "log_loss", "brier", "ece":
		if err := c.need(name, KindScores, KindProbs); err != nil {
			return metricRun{}, err
		}
		return c.probMetric(name)
	case "nll", "nll_bits", "perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte", "doc_perplexity":
		if err := c.need(name, KindLM); err != nil {
			return metricRun{}, err
		}
		return c.lmMetric(name), nil
	case "mae", "mse", "rmse", "r2", "mape", "pearson", "spearman", "kendall":
		if err := c.need(name, KindLabels, KindScores); err != nil {
			return metricRun{}, err
		}
		return c.regression(name)
	}
	return metricRun{}, fmt.Errorf("unknown metric %q: choose from %s", name, strings.Join(Known, ", "))
}

// sub gathers xs at idx (all of xs when idx is nil).
func sub[T any](xs []T, idx []int) []T {
	if idx == nil {
		return xs
	}
	out := make([]T, len(idx))
	for i, j := range idx {
		out[i] = xs[j]
	}
	return out
}

type statMetric interface {
	SegmentStats(hyps []string, refs [][]string) ([][]float64, error)
	StatsLen() int
}

func (c *context) sacrebleu(name string) (metricRun, error) {
	var (
		m        statMetric
		corpus   func(sum []float64) (float64, []Detail)
		sentence func(st []float64) float64
		// item is one segment's details, for the per-item file.
		item func(st []float64) []Detail
	)
	nrefs := bleu.NRefs(c.refs)
	switch name {
	case "bleu":
		opts := bleu.Options{Lowercase: c.o.Lowercase, SmoothValue: c.o.SmoothValue}
		if c.o.Tokenize != "" {
			t, err := bleu.ParseTokenizer(c.o.Tokenize)
			if err != nil {
				return metricRun{}, err
			}
			opts.Tokenizer = t
		}
		if c.o.Smooth != "" {
			s, err := bleu.ParseSmoothing(c.o.Smooth)
			if err != nil {
				return metricRun{}, err
			}
			opts.Smooth = s
		}
		if c.o.EffectiveOrder != nil {
			opts.EffectiveOrder = bleu.EffectiveOrderOff
			if *c.o.EffectiveOrder {
				opts.EffectiveOrder = bleu.EffectiveOrderOn
			}
		}
		b, err := bleu.NewBLEU(opts)
		if err != nil {
			return metricRun{}, err
		}
		m = b
		corpus = func(sum []float64) (float64, []Detail) {
			s := b.ScoreStats(sum)
			return s.Score, append(bleuDetails(s), Detail{"signature", b.Signature(nrefs, false)})
		}
		sentence = func(st []float64) float64 { return b.SentenceScoreStats(st).Score }
		item = func(st []float64) []Detail { return bleuDetails(b.SentenceScoreStats(st)) }
	case "chrf", "chrf++":
		opts := bleu.ChrFOptions{CharOrder: c.o.CharOrder, Beta: c.o.ChrFBeta, Lowercase: c.o.Lowercase, Whitespace: c.o.Whitespace, EpsSmoothing: c.o.EpsSmoothing}
		if opts.CharOrder == 0 {
			opts.CharOrder = 6
		}
		if opts.Beta == 0 {
			opts.Beta = 2
		}
		if name == "chrf++" {
			opts.WordOrder = 2
		}
		if c.o.WordOrder != nil {
			opts.WordOrder = *c.o.WordOrder
		}
		ch, err := bleu.NewChrF(opts)
		if err != nil {
			return metricRun{}, err
		}
		m = ch
		corpus = func(sum []float64) (float64, []Detail) {
			return ch.ScoreStats(sum).Score, append(chrfDetails(sum), Detail{"signature", ch.Signature(nrefs)})
		}
		sentence = func(st []float64) float64 { return ch.ScoreStats(st).Score }
		item = chrfDetails
	case "ter":
		t := bleu.NewTER(bleu.TEROptions{Normalized: c.o.TERNormalized, NoPunct: c.o.TERNoPunct, AsianSupport: c.o.TERAsian, CaseSensitive: c.o.TERCaseSensitive})
		m = t
		corpus = func(sum []float64) (float64, []Detail) {
			s := t.ScoreStats(sum)
			return s.Score, []Detail{{"num_edits", s.NumEdits}, {"ref_length", s.RefLength}, {"signature", t.Signature(nrefs)}}
		}
		sentence = func(st []float64) float64 { return t.ScoreStats(st).Score }
		item = func(st []float64) []Detail {
			s := t.ScoreStats(st)
			return []Detail{{"num_edits", s.NumEdits}, {"ref_length", s.RefLength}}
		}
	}
	segs, err := m.SegmentStats(c.hyps, c.refs)
	if err != nil {
		return metricRun{}, err
	}
	sumOver := func(idx []int) []float64 {
		sum := make([]float64, m.StatsLen())
		add := func(st []float64) {
			for k, v := range st {
				sum[k] += v
			}
		}
		if idx == nil {
			for _, st := range segs {
				add(st)
			}
		} else {
			for _, i := range idx {
				add(segs[i])
			}
		}
		return sum
	}
	return metricRun{
		compute: func() (Result, error) {
			v, details := corpus(sumOver(nil))
			per := make([]float64, len(segs))
			for i, st := range segs {
				per[i] = sentence(st)
			}
			return Result{Value: v, Details: details, PerItem: per, ItemDetails: func(i int) []Detail { return item(segs[i]) }}, nil
		},
		resample: func(idx []int) float64 { v, _ := corpus(sumOver(idx)); return v },
	}, nil
}

// bleuDetails are the fields of sacrebleu's BLEUScore besides the score:
// counts and totals (the matched and hypothesis n-grams per order) are what
// adds up across files, the rest is derived from them and the lengths.
func bleuDetails(s bleu.BLEUScore) []Detail {
	return []Detail{
		{"precisions", s.Precisions}, {"bp", s.BP}, {"ratio", s.Ratio},
		{"sys_len", s.SysLen}, {"ref_len", s.RefLen},
		{"counts", s.Counts}, {"totals", s.Totals},
	}
}

// chrfDetails splits chrF statistics ([hyp, ref, match] per n-gram order,
// character orders first, then word orders) into the n-gram counts of the
// hypothesis and the reference and their matches, per order; summed over
// files they give the corpus chrF.
func chrfDetails(st []float64) []Detail {
	n := len(st) / 3
	hyp, ref, match := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		hyp[i], ref[i], match[i] = st[3*i], st[3*i+1], st[3*i+2]
	}
	return []Detail{{"hyp_ngrams", hyp}, {"ref_ngrams", ref}, {"matches", match}}
}

// meanRun is a metric that is the mean of per-row values.
func meanRun(per []float64, scale float64, details []Detail) metricRun {
	mean := func(idx []int) float64 {
		s := 0.0
		if idx == nil {
			for _, v := range per {
				s += v
			}
			return scale * s / float64(len(per))
		}
		for _, i := range idx {
			s += per[i]
		}
		return scale * s / float64(len(idx))
	}
	return metricRun{
		compute:  func() (Result, error) { return Result{Value: mean(nil), Details: details, PerItem: per}, nil },
		resample: mean,
	}
}

func (c *context) rouge(name string) (metricRun, error) {
	if c.rougeCorpus == nil || !slices.Contains(c.rougeCorpus.Types, name) {
		types := c.rougeTypes
		if !slices.Contains(types, name) {
			types = []string{name}
		}
		s, err := rouge.New(rouge.Options{Types: types, Stem: c.o.Stem})
		if err != nil {
			return metricRun{}, fmt.Errorf("metric %s: %v", name, err)
		}
		corp, err := s.Corpus(c.hyps, c.refs)
		if err != nil {
			return metricRun{}, err
		}
		c.rougeCorpus = &corp
	}
	corp := *c.rougeCorpus
	per := make([]float64, len(corp.PerExample))
	for i, r := range corp.PerExample {
		per[i] = r[name].FMeasure
	}
	mean := corp.Mean[name]
	run := meanRun(per, 1, []Detail{{"precision", mean.Precision}, {"recall", mean.Recall}, {"stem", c.o.Stem}})
	compute := run.compute
	run.compute = func() (Result, error) {
		res, err := compute()
		res.ItemDetails = func(i int) []Detail {
			v := corp.PerExample[i][name]
			return []Detail{{"precision", v.Precision}, {"recall", v.Recall}, {"fmeasure", v.FMeasure}}
		}
		return res, err
	}
	return run, nil
}

func (c *context) textMean(name string) (metricRun, error) {
	per := make([]float64, len(c.hyps))
	scale := 1.0
	for i, h := range c.hyps {
		var v float64
		var err error
		switch name {
		case "token_f1", "squad_f1":
			v, err = text.SquadF1(h, c.refs[i])
		case "squad_em":
			v, err = text.SquadExactMatch(h, c.refs[i])
		case "exact_match":
			v, err = text.ExactMatch(h, c.refs[i], text.Normalization{Lowercase: c.o.Lowercase})
		case "levenshtein":
			// The distance to the closest reference, in code points.
			v = math.Inf(1)
			for _, r := range c.refs[i] {
				v = math.Min(v, float64(text.Levenshtein(h, r)))
			}
		case "levenshtein_similarity":
			for _, r := range c.refs[i] {
				v = math.Max(v, text.LevenshteinSimilarity(h, r))
			}
		}
		if err != nil {
			return metricRun{}, fmt.Errorf("%s: %w", c.in.Pos(i), err)
		}
		per[i] = v
	}
	if name == "squad_em" || name == "squad_f1" {
		// HF evaluate's squad reports percentages.
		scale = 100
	}
	return meanRun(per, scale, nil), nil
}

// diversity scores the predictions among themselves: distinct-N (corpus
// ratio of distinct n-grams, recomputed on each resample) and Self-BLEU (mean
// of each prediction's BLEU against the others; its interval resamples those
// per-prediction values, as recomputing it is quadratic).
func (c *context) diversity(name string) (metricRun, error) {
	if name == "self_bleu" {
		s, err := text.ComputeSelfBLEU(c.hyps, bleu.Options{})
		if err != nil {
			return metricRun{}, err
		}
		return meanRun(s.PerText, 1, []Detail{{"signature", "sacrebleu sentence BLEU, 13a, exp, against all other predictions"}}), nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(name, "distinct_"))
	if err != nil || n < 1 {
		return metricRun{}, fmt.Errorf("metric %s: write distinct_N with a whole N >= 1, such as distinct_2", name)
	}
	d, err := text.DistinctN(c.hyps, n, c.o.Lowercase)
	if err != nil {
		return metricRun{}, err
	}
	return metricRun{
		compute: func() (Result, error) {
			return Result{Value: d.Ratio, PerItem: d.PerText, Details: []Detail{{"unique", d.Unique}, {"total", d.Total}}}, nil
		},
		resample: func(idx []int) float64 {
			r, err := text.DistinctN(sub(c.hyps, idx), n, c.o.Lowercase)
			if err != nil {
				return nan()
			}
			return r.Ratio
		},
	}, nil
}

// lmMetric is one of the lm-evaluation-harness ratios over the documents;
// per item it is the same ratio over that document alone.
func (c *context) lmMetric(name string) metricRun {
	pick := func(s lm.Summary) float64 {
		switch name {
		case "nll":
			return s.NLL
		case "nll_bits":
			return s.NLLBits
		case "perplexity":
			return s.Perplexity
		case "word_perplexity":
			return s.WordPerplexity
		case "byte_perplexity":
			return s.BytePerplexity
		case "bits_per_byte":
			return s.BitsPerByte
		}
		return s.DocPerplexity
	}
	eval := func(idx []int) float64 {
		s, err := lm.Summarize(sub(c.in.Docs, idx))
		if err != nil {
			return nan()
		}
		return pick(s)
	}
	return metricRun{
		compute: func() (Result, error) {
			s, err := lm.Summarize(c.in.Docs)
			if err != nil {
				return Result{}, err
			}
			per := make([]float64, len(c.in.Docs))
			for i, d := range c.in.Docs {
				one, _ := lm.Summarize([]lm.Doc{d})
				per[i] = pick(one)
			}
			res := Result{Value: pick(s), PerItem: per, Details: []Detail{{"docs", s.Docs}, {"tokens", s.Tokens}, {"words", s.Words}, {"bytes", s.Bytes}, {"loglikelihood", s.LogLikelihood}}}
			if math.IsNaN(res.Value) {
				res.Warnings = append(res.Warnings, "the rows lack the counts this metric divides by (tokens need \"logprobs\" or \"tokens\"; words and bytes need \"text\")")
			}
			return res, nil
		},
		resample: eval,
	}
}

func (c *context) passAtK(k int) metricRun {
	eval := func(idx []int) float64 {
		m, _, err := code.MeanPassAtK(sub(c.samples, idx), k)
		if err != nil {
			return nan()
		}
		return m
	}
	return metricRun{
		compute: func() (Result, error) {
			m, per, err := code.MeanPassAtK(c.samples, k)
			if err != nil {
				return Result{}, err
			}
			res := Result{Value: m, PerItem: per}
			if !code.Reportable(c.samples, k) {
				res.Warnings = append(res.Warnings, fmt.Sprintf("k = %d exceeds the samples of some problem; the estimator returns 1 there (human-eval would not report this k)", k))
			}
			return res, nil
		},
		resample: eval,
	}
}

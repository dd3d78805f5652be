package scorer

import (
	"fmt"
	"math"

	"github.com/tunecheck/tunecheck/metrics/bleu"
	"github.com/tunecheck/tunecheck/metrics/lm"
	"github.com/tunecheck/tunecheck/metrics/rouge"
)

// CorpusScorer is a scorer whose task-level value is not a mean of item
// scores but a function of summed per-item sufficient statistics (corpus
// BLEU, chrF, perplexity). Score still gives a per-item value of the same
// metric, used for wins/losses and the worst examples.
type CorpusScorer interface {
	Scorer
	Stats(in Input) ([]float64, error)
	Aggregate(sum []float64) map[string]float64
}

// LowerIsBetter lists metrics where a smaller value is an improvement.
var LowerIsBetter = map[string]bool{
	"word_perplexity": true, "byte_perplexity": true, "bits_per_byte": true, "ter": true,
}

type bleuScorer struct {
	sent, corpus *bleu.BLEU
}

// newBLEU is sacrebleu's BLEU: corpus BLEU over the task (0–100) and
// sentence BLEU with effective order per item.
func newBLEU(o Options) (Scorer, error) {
	p := newOpts(o)
	tok := p.string("tokenize", "13a")
	lower := p.bool("lowercase", false)
	smooth := p.string("smooth", "exp")
	if err := p.done("bleu"); err != nil {
		return nil, err
	}
	t, err := bleu.ParseTokenizer(tok)
	if err != nil {
		return nil, fmt.Errorf("scorer bleu: %w", err)
	}
	sm, err := bleu.ParseSmoothing(smooth)
	if err != nil {
		return nil, fmt.Errorf("scorer bleu: %w", err)
	}
	corpus, err := bleu.NewBLEU(bleu.Options{Tokenizer: t, Lowercase: lower, Smooth: sm})
	if err != nil {
		return nil, fmt.Errorf("scorer bleu: %w", err)
	}
	sent, err := bleu.NewBLEU(bleu.Options{Tokenizer: t, Lowercase: lower, Smooth: sm, EffectiveOrder: bleu.EffectiveOrderOn})
	if err != nil {
		return nil, fmt.Errorf("scorer bleu: %w", err)
	}
	return &bleuScorer{sent: sent, corpus: corpus}, nil
}

func (b *bleuScorer) Metrics() []string { return []string{"bleu"} }

func (b *bleuScorer) Score(in Input) (map[string]float64, error) {
	if len(in.References) == 0 {
		return nil, errNoRefs
	}
	s, err := b.sent.Sentence(in.Prediction, in.References)
	if err != nil {
		return nil, err
	}
	return map[string]float64{"bleu": s.Score}, nil
}

func (b *bleuScorer) Stats(in Input) ([]float64, error) {
	if len(in.References) == 0 {
		return nil, errNoRefs
	}
	st, err := b.corpus.SegmentStats([]string{in.Prediction}, [][]string{in.References})
	if err != nil {
		return nil, err
	}
	return st[0], nil
}

func (b *bleuScorer) Aggregate(sum []float64) map[string]float64 {
	return map[string]float64{"bleu": b.corpus.ScoreStats(sum).Score}
}

type chrfScorer struct {
	c    *bleu.ChrF
	name string
}

// newChrF is sacrebleu's chrF (word_order 0) or chrF++ (word_order 2), 0–100.
func newChrF(o Options) (Scorer, error) {
	p := newOpts(o)
	wo := p.bool("plus_plus", false)
	lower := p.bool("lowercase", false)
	if err := p.done("chrf"); err != nil {
		return nil, err
	}
	opts := bleu.ChrFOptions{Lowercase: lower}
	name := "chrf"
	if wo {
		opts.WordOrder = 2
		name = "chrf++"
	}
	c, err := bleu.NewChrF(opts)
	if err != nil {
		return nil, fmt.Errorf("scorer chrf: %w", err)
	}
	return &chrfScorer{c: c, name: name}, nil
}

func (c *chrfScorer) Metrics() []string { return []string{c.name} }

func (c *chrfScorer) Score(in Input) (map[string]float64, error) {
	if len(in.References) == 0 {
		return nil, errNoRefs
	}
	s, err := c.c.Sentence(in.Prediction, in.References)
	if err != nil {
		return nil, err
	}
	return map[string]float64{c.name: s.Score}, nil
}

func (c *chrfScorer) Stats(in Input) ([]float64, error) {
	if len(in.References) == 0 {
		return nil, errNoRefs
	}
	st, err := c.c.SegmentStats([]string{in.Prediction}, [][]string{in.References})
	if err != nil {
		return nil, err
	}
	return st[0], nil
}

func (c *chrfScorer) Aggregate(sum []float64) map[string]float64 {
	return map[string]float64{c.name: c.c.ScoreStats(sum).Score}
}

var errNoRefs = fmt.Errorf("the item has no reference (set the task's reference)")

type rougeScorer struct {
	s     *rouge.Scorer
	types []string
}

// newRouge is rouge-score's F-measure per item (0–1); the task value is the
// mean over items, as rouge-score's aggregate reports it.
func newRouge(o Options) (Scorer, error) {
	p := newOpts(o)
	types := p.strings("types")
	stem := p.bool("stem", false)
	if err := p.done("rouge"); err != nil {
		return nil, err
	}
	if len(types) == 0 {
		types = []string{"rouge1", "rouge2", "rougeL", "rougeLsum"}
	}
	s, err := rouge.New(rouge.Options{Types: types, Stem: stem})
	if err != nil {
		return nil, fmt.Errorf("scorer rouge: %w", err)
	}
	return &rougeScorer{s: s, types: types}, nil
}

func (r *rougeScorer) Metrics() []string { return r.types }

func (r *rougeScorer) Score(in Input) (map[string]float64, error) {
	if len(in.References) == 0 {
		return nil, errNoRefs
	}
	v, err := r.s.Score(in.Prediction, in.References)
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(v))
	for k, x := range v {
		out[k] = x.FMeasure
	}
	return out, nil
}

// perplexityScorer turns rolling log-likelihoods into lm-evaluation-harness's
// corpus metrics; Input.LogLikelihood carries the model's number and
// Input.Prediction the scored document.
type perplexityScorer struct{}

// PerplexityScorer is the scorer of perplexity tasks.
var PerplexityScorer CorpusScorer = perplexityScorer{}

func (perplexityScorer) Metrics() []string { return PerplexityMetrics }

func (perplexityScorer) Stats(in Input) ([]float64, error) {
	return []float64{in.LogLikelihood, float64(lm.CountWords(in.Prediction)), float64(lm.CountBytes(in.Prediction))}, nil
}

func (perplexityScorer) Score(in Input) (map[string]float64, error) {
	return perplexity(in.LogLikelihood, lm.CountWords(in.Prediction), lm.CountBytes(in.Prediction))
}

func (perplexityScorer) Aggregate(sum []float64) map[string]float64 {
	m, err := perplexity(sum[0], int(sum[1]), int(sum[2]))
	if err != nil {
		// Only reachable with a positive or non-finite summed log-likelihood,
		// which Score has already refused item by item.
		return map[string]float64{"word_perplexity": math.NaN(), "byte_perplexity": math.NaN(), "bits_per_byte": math.NaN()}
	}
	return m
}

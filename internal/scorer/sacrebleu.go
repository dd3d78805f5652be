package scorer

import (
	"fmt"

	"github.com/tunecheck/tunecheck/metrics/bleu"
)

// sacrebleuEntries are BLEU, chrF, chrF++ and TER as sacrebleu computes them:
// corpus values from summed segment statistics, sentence values per item.
func sacrebleuEntries() []Entry {
	chrfOpts := func(pp bool) []Option {
		var out []Option
		wo := "0"
		if pp {
			wo = "2"
		} else {
			out = append(out, Option{Name: "plus_plus", Type: "bool", Default: "false", Doc: "chrF++: word n-grams up to 2, reported as chrf++"})
			wo = "0 (2 with plus_plus)"
		}
		return append(out,
			Option{Name: "lowercase", Type: "bool", Default: "false", Doc: "lower-case both sides (Python str.lower)"},
			Option{Name: "char_order", Type: "integer", Default: "6", Doc: "character n-gram order"},
			Option{Name: "word_order", Type: "integer", Default: wo, Doc: "word n-gram order"},
			Option{Name: "beta", Type: "integer", Default: "2", Doc: "recall weight"},
			Option{Name: "whitespace", Type: "bool", Default: "false", Doc: "keep whitespace in character n-grams"},
			Option{Name: "eps_smoothing", Type: "bool", Default: "false", Doc: "chrF++.py's eps smoothing instead of effective-order averaging"},
		)
	}
	return []Entry{
		{
			Name: "bleu", Doc: "corpus BLEU, 0–100, as sacrebleu 2.6.0 computes it; sentence BLEU per item",
			Options: []Option{
				{Name: "tokenize", Type: "string", Default: "13a", Doc: "tokenizer: 13a, intl, char or none"},
				{Name: "lowercase", Type: "bool", Default: "false", Doc: "lower-case both sides (Python str.lower)"},
				{Name: "smooth", Type: "string", Default: "exp", Doc: "smoothing: exp, floor, add-k or none"},
				{Name: "smooth_value", Type: "number", Default: "0.1 for floor, 1 for add-k", Doc: "the smoothing constant"},
				{Name: "effective_order", Type: "bool", Default: "false for the corpus, true per item", Doc: "average only over the n-gram orders the output has"},
			},
			Metrics: []Metric{corpus("bleu", Higher)}, New: newBLEU,
		},
		{
			Name: "chrf", Doc: "corpus chrF, 0–100, as sacrebleu 2.6.0 computes it; sentence chrF per item",
			Options: chrfOpts(false), Metrics: []Metric{corpus("chrf", Higher)}, New: newChrF("chrf"),
		},
		{
			Name: "chrf++", Doc: "corpus chrF++ (word n-grams up to 2), 0–100, as sacrebleu 2.6.0 computes it; sentence chrF++ per item",
			Options: chrfOpts(true), Metrics: []Metric{corpus("chrf++", Higher)}, New: newChrF("chrf++"),
		},
		{
			Name: "ter", Doc: "corpus TER (edits / reference words × 100; lower is better) as sacrebleu 2.6.0's Tercom port computes it; sentence TER per item",
			Options: []Option{
				{Name: "normalized", Type: "bool", Default: "false", Doc: "Tercom normalisation"},
				{Name: "no_punct", Type: "bool", Default: "false", Doc: "remove punctuation"},
				{Name: "asian_support", Type: "bool", Default: "false", Doc: "CJK support in normalisation and punctuation removal"},
				{Name: "case_sensitive", Type: "bool", Default: "false", Doc: "keep case (TER lower-cases by default)"},
			},
			Metrics: []Metric{corpus("ter", Lower)}, New: newTER,
		},
	}
}

// statsMetric is the part of bleu.BLEU, bleu.ChrF and bleu.TER the scorers use.
type statsMetric interface {
	SegmentStats(hyps []string, refs [][]string) ([][]float64, error)
}

// sacreScorer is one sacrebleu metric: per item the sentence score of the
// item's statistics, per task the corpus score of their sum.
type sacreScorer struct {
	name     string
	dir      Direction
	m        statsMetric
	sentence func(st []float64) float64
	corpus   func(sum []float64) float64
}

func (s *sacreScorer) Metrics() []Metric { return []Metric{corpus(s.name, s.dir)} }

func (s *sacreScorer) Stats(in Input) ([]float64, error) {
	if len(in.References) == 0 {
		return nil, errNoRefs
	}
	st, err := s.m.SegmentStats([]string{in.Prediction}, [][]string{in.References})
	if err != nil {
		return nil, err
	}
	return st[0], nil
}

func (s *sacreScorer) Score(in Input) (map[string]float64, error) {
	st, err := s.Stats(in)
	if err != nil {
		return nil, err
	}
	return map[string]float64{s.name: s.sentence(st)}, nil
}

func (s *sacreScorer) Aggregate(sum []float64) map[string]float64 {
	return map[string]float64{s.name: s.corpus(sum)}
}

// newBLEU is sacrebleu's BLEU: corpus BLEU over the task (0–100) and
// sentence BLEU (effective order on unless turned off) per item.
func newBLEU(o Options) (Scorer, error) {
	p := newOpts(o)
	tok := p.string("tokenize", "13a")
	lower := p.bool("lowercase", false)
	smooth := p.string("smooth", "exp")
	var smoothValue *float64
	if p.has("smooth_value") {
		v := p.float("smooth_value", 0)
		smoothValue = &v
	}
	eff := bleu.EffectiveOrderDefault
	if p.has("effective_order") {
		eff = bleu.EffectiveOrderOff
		if p.bool("effective_order", false) {
			eff = bleu.EffectiveOrderOn
		}
	}
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
	b, err := bleu.NewBLEU(bleu.Options{Tokenizer: t, Lowercase: lower, Smooth: sm, SmoothValue: smoothValue, EffectiveOrder: eff})
	if err != nil {
		return nil, fmt.Errorf("scorer bleu: %w", err)
	}
	return &sacreScorer{name: "bleu", dir: Higher, m: b,
		sentence: func(st []float64) float64 { return b.SentenceScoreStats(st).Score },
		corpus:   func(sum []float64) float64 { return b.ScoreStats(sum).Score },
	}, nil
}

// newChrF is sacrebleu's chrF (word order 0) or chrF++ (word order 2), 0–100.
// chrf with plus_plus is chrf++ under that name.
func newChrF(scorer string) func(Options) (Scorer, error) {
	return func(o Options) (Scorer, error) {
		p := newOpts(o)
		pp := scorer == "chrf++"
		if !pp {
			pp = p.bool("plus_plus", false)
		}
		opts := bleu.ChrFOptions{
			Lowercase:    p.bool("lowercase", false),
			CharOrder:    p.int("char_order", 6),
			Beta:         p.int("beta", 2),
			Whitespace:   p.bool("whitespace", false),
			EpsSmoothing: p.bool("eps_smoothing", false),
		}
		name := "chrf"
		if pp {
			opts.WordOrder, name = 2, "chrf++"
		}
		opts.WordOrder = p.int("word_order", opts.WordOrder)
		if err := p.done(scorer); err != nil {
			return nil, err
		}
		if opts.CharOrder < 1 || opts.Beta < 1 {
			return nil, fmt.Errorf("scorer %s: char_order %d and beta %d must be at least 1", scorer, opts.CharOrder, opts.Beta)
		}
		c, err := bleu.NewChrF(opts)
		if err != nil {
			return nil, fmt.Errorf("scorer %s: %w", scorer, err)
		}
		score := func(st []float64) float64 { return c.ScoreStats(st).Score }
		return &sacreScorer{name: name, dir: Higher, m: c, sentence: score, corpus: score}, nil
	}
}

// newTER is sacrebleu's TER; its statistics are the fewest edits over the
// references and the average reference length.
func newTER(o Options) (Scorer, error) {
	p := newOpts(o)
	t := bleu.NewTER(bleu.TEROptions{
		Normalized:    p.bool("normalized", false),
		NoPunct:       p.bool("no_punct", false),
		AsianSupport:  p.bool("asian_support", false),
		CaseSensitive: p.bool("case_sensitive", false),
	})
	if err := p.done("ter"); err != nil {
		return nil, err
	}
	score := func(st []float64) float64 { return t.ScoreStats(st).Score }
	return &sacreScorer{name: "ter", dir: Lower, m: t, sentence: score, corpus: score}, nil
}

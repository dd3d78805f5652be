package ckptselect

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tunecheck/tunecheck/internal/curves"
)

func curvesPoint(step int64, v float64) curves.Point { return curves.Point{Step: step, Value: v} }

// BenchmarkAnalyze: 50 checkpoints of 2,000 items each against a log of
// 5,000 steps, the size of a long fine-tune evaluated every 100 steps.
func BenchmarkAnalyze(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var evals []Eval
	for c := range 50 {
		s := make(map[string]float64, 2000)
		for i := range 2000 {
			v := 0.0
			if rng.Float64() < 0.4+float64(c)/200 {
				v = 1
			}
			s[fmt.Sprintf("item-%04d", i)] = v
		}
		evals = append(evals, Eval{Step: int64(100 * (c + 1)), RunID: fmt.Sprint(c), Metric: "qa.exact_match", HigherIsBetter: true, Scores: s})
	}
	log := logRun(nil, nil)
	log.Series["loss"] = nil
	for s := int64(1); s <= 5000; s++ {
		log.Series["loss"] = append(log.Series["loss"], curvesPoint(s, 2-float64(s)/5000))
		if s%100 == 0 {
			log.Series["eval_loss"] = append(log.Series["eval_loss"], curvesPoint(s, 1.5-float64(s)/10000+float64((s/100)%7)/100))
		}
	}
	for b.Loop() {
		if _, err := Analyze(evals, log, Options{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

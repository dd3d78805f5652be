// Package code holds metrics for generated code: the unbiased pass@k
// estimator of Chen et al. (2021) in openai/human-eval's numerically stable
// form, 1 - prod_{i=n-c+1..n} (1 - k/i), which avoids the huge binomial
// coefficients of 1 - C(n-c, k)/C(n, k).
package code

import (
	"fmt"
	"math"
)

// Sample is one problem's tally: N generated programs, C of them correct.
type Sample struct {
	N, C int
}

// PassAtK estimates the probability that at least one of k programs drawn
// without replacement from n (c correct) is correct. As human-eval does, it
// is 1 whenever n - c < k, which includes k > n (the estimate is then not
// meaningful; see Reportable).
func PassAtK(n, c, k int) (float64, error) {
	if err := (Sample{N: n, C: c}).check(); err != nil {
		return 0, err
	}
	if k < 1 {
		return 0, fmt.Errorf("k = %d: k must be at least 1", k)
	}
	if n-c < k {
		return 1, nil
	}
	// The product runs over i ascending, as numpy.prod over arange does, so
	// the result is bit-identical to human-eval's.
	prod := 1.0
	for i := n - c + 1; i <= n; i++ {
		prod *= 1 - float64(k)/float64(i)
	}
	return 1 - prod, nil
}

func (s Sample) check() error {
	switch {
	case s.N < 1:
		return fmt.Errorf("n = %d: each problem needs at least one sample", s.N)
	case s.C < 0:
		return fmt.Errorf("c = %d: the number of correct samples cannot be negative", s.C)
	case s.C > s.N:
		return fmt.Errorf("c = %d > n = %d: more correct samples than samples", s.C, s.N)
	}
	return nil
}

// MeanPassAtK is the mean of PassAtK over problems, the figure human-eval
// reports. PerProblem holds each problem's estimate.
func MeanPassAtK(samples []Sample, k int) (mean float64, perProblem []float64, err error) {
	if len(samples) == 0 {
		return math.NaN(), nil, fmt.Errorf("no problems: pass@k is undefined on empty input")
	}
	perProblem = make([]float64, len(samples))
	s := 0.0
	for i, smp := range samples {
		v, err := PassAtK(smp.N, smp.C, k)
		if err != nil {
			return 0, nil, fmt.Errorf("problem %d: %w", i+1, err)
		}
		perProblem[i] = v
		s += v
	}
	return s / float64(len(samples)), perProblem, nil
}

// Reportable reports whether pass@k is meaningful for every problem, that
// is k <= n everywhere; human-eval's own report omits the other k.
func Reportable(samples []Sample, k int) bool {
	for _, s := range samples {
		if k > s.N {
			return false
		}
	}
	return len(samples) > 0
}

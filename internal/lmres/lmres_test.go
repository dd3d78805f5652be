package lmres

import (
	"math"
	"testing"
)

// The expected values are worked by hand (shown beside each case) and
// checked with python3's math module:
//
//	sd = sqrt(sum((x-m)**2)/(n-1)); se = sd/sqrt(n)
//	pooled = sqrt(sum((n_i-1)*se_i**2*n_i)/(N-k)/N)
func TestMeanStderr(t *testing.T) {
	for _, c := range []struct {
		name string
		xs   []float64
		want float64
		ok   bool
	}{
		{"none", nil, 0, false},
		{"one", []float64{1}, 0, true},
		// mean .75, Σ(x−m)² = .75, var .25, sd .5, se .5/2
		{"3 of 4", []float64{1, 0, 1, 1}, 0.25, true},
		// mean 1/3, Σ(x−m)² = 2/3, var 1/3, se √(1/3)/√3 = 1/3
		{"1 of 3", []float64{0, 0, 1}, 1.0 / 3, true},
		// mean .6, var .3, se √(.3/5) = √.06
		{"3 of 5", []float64{1, 1, 1, 0, 0}, math.Sqrt(0.06), true},
		{"constant", []float64{1, 1, 1}, 0, true},
	} {
		got, ok := MeanStderr(c.xs)
		if ok != c.ok || math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: MeanStderr = %v, %v; want %v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
	if se, _ := StderrFromStd(0.5, 4); se != 0.25 {
		t.Errorf("StderrFromStd(.5, 4) = %v, want .25", se)
	}
}

// subjects are three subtasks of 4, 3 and 5 items scoring 3/4, 1/3 and 3/5.
var subjects = []Subtask{
	{Score: 0.75, Stderr: 0.25, Size: 4},
	{Score: 1.0 / 3, Stderr: 1.0 / 3, Size: 3},
	{Score: 0.6, Stderr: math.Sqrt(0.06), Size: 5},
}

func TestGroupScore(t *testing.T) {
	// weighted: (3 + 1 + 3) / 12 correct items; unweighted: (.75 + 1/3 + .6) / 3
	for _, c := range []struct {
		weighted bool
		want     float64
	}{{true, 7.0 / 12}, {false, (0.75 + 1.0/3 + 0.6) / 3}} {
		got, err := GroupScore(subjects, c.weighted)
		if err != nil || math.Abs(got-c.want) > 1e-12 {
			t.Errorf("GroupScore(weighted %v) = %v, %v; want %v", c.weighted, got, err, c.want)
		}
	}
	if _, err := GroupScore(nil, true); err == nil {
		t.Error("GroupScore of no subtasks: want an error")
	}
}

func TestPooledStderr(t *testing.T) {
	// Σ(n−1)·se²·n = 3·.0625·4 + 2·(1/9)·3 + 4·.06·5 = .75 + 2/3 + 1.2 = 2.61666…
	// over N−k = 9 and N = 12: √(2.61666…/108) = 0.155654730290243…
	got, err := PooledStderr(subjects)
	if err != nil || math.Abs(got-0.15565473029024335) > 1e-12 {
		t.Errorf("PooledStderr = %v, %v; want 0.15565473029024335", got, err)
	}
	if _, err := PooledStderr(nil); err == nil {
		t.Error("PooledStderr of no subtasks: want an error")
	}
	if _, err := PooledStderr([]Subtask{{Score: 1, Size: 1}, {Score: 0, Size: 1}}); err == nil {
		t.Error("PooledStderr of single-item subtasks: want an error")
	}
}

package lmeval

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// TestPyRandomMatchesCPython replays testdata/pyrandom.json (made by
// testdata/gen_pyrandom.py with python3).
func TestPyRandomMatchesCPython(t *testing.T) {
	raw, err := os.ReadFile("testdata/pyrandom.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []struct {
			Seed    int64
			Random  []float64
			Bits    []uint64
			Samples []struct {
				N, K int
				Got  []int
			}
		}
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	for _, c := range g.Cases {
		r := NewPyRandom(c.Seed)
		for i, want := range c.Random {
			if got := r.Random(); got != want {
				t.Fatalf("seed %d random #%d = %v, want %v", c.Seed, i, got, want)
			}
		}
		for i, k := range []int{1, 7, 32, 33, 64}[:len(c.Bits)] {
			if got := r.GetRandBits(k); got != c.Bits[i] {
				t.Fatalf("seed %d getrandbits(%d) = %d, want %d", c.Seed, k, got, c.Bits[i])
			}
		}
		for _, s := range c.Samples {
			got, err := r.SampleIndices(s.N, s.K)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, s.Got) {
				t.Fatalf("seed %d sample(range(%d), %d) = %v, want %v", c.Seed, s.N, s.K, got, s.Got)
			}
		}
	}
	if _, err := NewPyRandom(1).SampleIndices(3, 4); err == nil {
		t.Fatal("sample of 4 from 3 must fail")
	}
}

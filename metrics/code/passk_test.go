package code

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// TestHumanEvalParity checks every case of shared parity/pass_at_k.jsonl,
// per problem and averaged, and which k human-eval would report.
func TestHumanEvalParity(t *testing.T) {
	f, err := os.Open(shareddata.Path(t, "parity", "pass_at_k.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	cases := 0
	for line := 1; sc.Scan(); line++ {
		var c struct {
			ID    string
			Args  []string
			Input []struct {
				N, C    int
				Results []bool
			}
			Expected struct {
				Corpus     map[string]json.RawMessage
				PerExample []map[string]float64 `json:"per_example"`
			}
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("pass_at_k.jsonl:%d: %v", line, err)
		}
		cases++
		t.Run(c.ID, func(t *testing.T) {
			ks := []int{1, 10, 100}
			for i := 0; i+1 < len(c.Args); i += 2 {
				if c.Args[i] == "--k" {
					ks = nil
					for _, s := range strings.Split(c.Args[i+1], ",") {
						k, err := strconv.Atoi(s)
						if err != nil {
							t.Fatal(err)
						}
						ks = append(ks, k)
					}
				}
			}
			var samples []Sample
			for _, r := range c.Input {
				s := Sample{N: r.N, C: r.C}
				if r.Results != nil {
					s = Sample{N: len(r.Results)}
					for _, ok := range r.Results {
						if ok {
							s.C++
						}
					}
				}
				samples = append(samples, s)
			}
			var reported []string
			for _, k := range ks {
				key := "pass@" + strconv.Itoa(k)
				mean, per, err := MeanPassAtK(samples, k)
				if err != nil {
					t.Fatal(err)
				}
				var want float64
				if err := json.Unmarshal(c.Expected.Corpus[key], &want); err != nil {
					t.Fatal(err)
				}
				if math.Abs(mean-want) > 1e-12*math.Max(1, math.Abs(want)) {
					t.Errorf("%s: got %v, want %v", key, mean, want)
				}
				for i, pe := range c.Expected.PerExample {
					if per[i] != pe[key] {
						t.Errorf("%s problem %d: got %v, want %v (bit-identical)", key, i, per[i], pe[key])
					}
				}
				if Reportable(samples, k) {
					reported = append(reported, key)
				}
			}
			var want []string
			if err := json.Unmarshal(c.Expected.Corpus["reported_by_human_eval"], &want); err != nil {
				t.Fatal(err)
			}
			if strings.Join(reported, ",") != strings.Join(want, ",") {
				t.Errorf("reported: got %v, want %v", reported, want)
			}
		})
	}
	if cases != 13 {
		t.Fatalf("read %d cases, want 13", cases)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name    string
		n, c, k int
	}{
		{"c above n", 3, 4, 1},
		{"negative c", 3, -1, 1},
		{"no samples", 0, 0, 1},
		{"k zero", 5, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := PassAtK(tt.n, tt.c, tt.k); err == nil {
				t.Fatal("want an error")
			}
		})
	}
	if _, _, err := MeanPassAtK(nil, 1); err == nil {
		t.Fatal("empty input: want an error")
	}
}

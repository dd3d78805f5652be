package leakage

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

func splitRows(n int) []SplitRow {
	rows := make([]SplitRow, n)
	for i := range rows {
		rows[i] = SplitRow{Line: i + 1, Label: []string{"a", "a", "a", "b"}[i%4], Group: fmt.Sprintf("g%d", i/7),
			Time: fmt.Sprintf("2024-01-%02dT00:00:00Z", 1+(i*13)%28)}
	}
	return rows
}

func TestSplitMethods(t *testing.T) {
	rows := splitRows(200)
	tests := []struct {
		opt    SplitOptions
		counts []int
		check  func(t *testing.T, r *SplitResult)
	}{
		{SplitOptions{Method: SplitRandom, TestFraction: 0.2, Seed: 1}, []int{160, 40}, nil},
		{SplitOptions{Method: SplitStratified, TestFraction: 0.2, LabelField: "label", Seed: 1}, []int{160, 40}, func(t *testing.T, r *SplitResult) {
			// 150 a and 50 b: 30 and 10 go to test.
			n := map[string]int{}
			for i, a := range r.Assign {
				if a == 1 {
					n[rows[i].Label]++
				}
			}
			if n["a"] != 30 || n["b"] != 10 {
				t.Errorf("test labels %v", n)
			}
		}},
		{SplitOptions{Method: SplitGrouped, TestFraction: 0.2, GroupField: "g", Seed: 1}, nil, func(t *testing.T, r *SplitResult) {
			side := map[string]int{}
			for i, a := range r.Assign {
				if s, ok := side[rows[i].Group]; ok && s != a {
					t.Fatalf("group %s on both sides", rows[i].Group)
				}
				side[rows[i].Group] = a
			}
			if math.Abs(float64(r.Counts[1])-40) > 7 {
				t.Errorf("test size %d, want 40±7 (groups of 7)", r.Counts[1])
			}
		}},
		{SplitOptions{Method: SplitChronological, TestFraction: 0.25, TimeField: "t", Seed: 1}, []int{150, 50}, func(t *testing.T, r *SplitResult) {
			latestTrain, earliestTest := "", "9999"
			for i, a := range r.Assign {
				if a == 0 && rows[i].Time > latestTrain {
					latestTrain = rows[i].Time
				}
				if a == 1 && rows[i].Time < earliestTest {
					earliestTest = rows[i].Time
				}
			}
			if latestTrain > earliestTest {
				t.Errorf("train reaches %s, test starts %s", latestTrain, earliestTest)
			}
		}},
		{SplitOptions{Method: SplitKFold, Folds: 3, Seed: 1}, []int{67, 67, 66}, nil},
		{SplitOptions{Method: SplitKFold, Folds: 4, GroupField: "g", Seed: 1}, nil, func(t *testing.T, r *SplitResult) {
			fold := map[string]int{}
			for i, a := range r.Assign {
				if f, ok := fold[rows[i].Group]; ok && f != a {
					t.Fatalf("group %s in two folds", rows[i].Group)
				}
				fold[rows[i].Group] = a
			}
			if slices.Max(r.Counts)-slices.Min(r.Counts) > 7 {
				t.Errorf("fold sizes %v", r.Counts)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.opt.Method+tc.opt.GroupField, func(t *testing.T) {
			r, err := Split(rows, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if tc.counts != nil && !slices.Equal(r.Counts, tc.counts) {
				t.Errorf("counts %v, want %v", r.Counts, tc.counts)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
			again, _ := Split(rows, tc.opt)
			if !slices.Equal(again.Assign, r.Assign) {
				t.Error("same seed, different split")
			}
			if tc.opt.Method != SplitChronological {
				other := tc.opt
				other.Seed = 2
				o, _ := Split(rows, other)
				if slices.Equal(o.Assign, r.Assign) {
					t.Error("seed has no effect")
				}
			}
		})
	}
}

func TestSplitErrors(t *testing.T) {
	rows := splitRows(10)
	tests := []struct {
		opt  SplitOptions
		want string
	}{
		{SplitOptions{Method: "shuffle"}, "unknown split method"},
		{SplitOptions{Method: SplitStratified}, "--label"},
		{SplitOptions{Method: SplitGrouped}, "--group"},
		{SplitOptions{Method: SplitChronological}, "--time"},
		{SplitOptions{Method: SplitRandom, TestFraction: 1.5}, "between 0 and 1"},
		{SplitOptions{Method: SplitKFold, Folds: 20}, "more than the 10 rows"},
		{SplitOptions{Method: SplitRandom, TestFraction: 0.01}, "part 1 of the random split is empty"},
	}
	for _, tc := range tests {
		_, err := Split(rows, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.opt, err, tc.want)
		}
	}
	bad := splitRows(4)
	bad[2].Time = "yesterday"
	_, err := Split(bad, SplitOptions{Method: SplitChronological, TimeField: "ts"})
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), `"yesterday"`) {
		t.Errorf("error %v", err)
	}
}

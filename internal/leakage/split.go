package leakage

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Split methods.
const (
	SplitRandom        = "random"
	SplitStratified    = "stratified"
	SplitGrouped       = "grouped"
	SplitChronological = "chronological"
	SplitKFold         = "kfold"
)

// SplitOptions configures Split.
type SplitOptions struct {
	Method       string  `json:"method"`
	TestFraction float64 `json:"test_fraction,omitempty"` // default 0.2 (not used by kfold)
	Folds        int     `json:"folds,omitempty"`         // kfold only, default 5
	Seed         uint64  `json:"seed"`
	LabelField   string  `json:"label_field,omitempty"` // stratified
	GroupField   string  `json:"group_field,omitempty"` // grouped; kfold keeps groups whole when set
	TimeField    string  `json:"time_field,omitempty"`  // chronological
}

// SplitRow is one input row with the fields a split may need.
type SplitRow struct {
	Line  int
	Raw   []byte
	Label string
	Group string
	Time  string
}

// SplitResult assigns every row a part: 0 = train and 1 = test, or the fold
// index 0…Folds-1 for kfold.
type SplitResult struct {
	Options SplitOptions `json:"options"`
	Parts   int          `json:"parts"`
	Assign  []int        `json:"-"`
	Counts  []int        `json:"counts"`
}

func (o SplitOptions) withDefaults() SplitOptions {
	if o.TestFraction == 0 {
		o.TestFraction = 0.2
	}
	if o.Folds == 0 {
		o.Folds = 5
	}
	return o
}

// Validate checks that the method has the fields and sizes it needs.
func (o SplitOptions) Validate() error {
	switch o.Method {
	case SplitRandom, SplitKFold:
	case SplitStratified:
		if o.LabelField == "" {
			return fmt.Errorf("split method stratified needs --label FIELD")
		}
	case SplitGrouped:
		if o.GroupField == "" {
			return fmt.Errorf("split method grouped needs --group FIELD")
		}
	case SplitChronological:
		if o.TimeField == "" {
			return fmt.Errorf("split method chronological needs --time FIELD")
		}
	default:
		return fmt.Errorf("unknown split method %q (use random, stratified, grouped, chronological or kfold)", o.Method)
	}
	if o.Method != SplitKFold && (o.TestFraction <= 0 || o.TestFraction >= 1) {
		return fmt.Errorf("--test %v must be between 0 and 1", o.TestFraction)
	}
	if o.Method == SplitKFold && o.Folds < 2 {
		return fmt.Errorf("--folds %d must be at least 2", o.Folds)
	}
	return nil
}

// Split assigns rows to parts. It is a pure function of the rows and the
// options: the same seed gives the same split.
func Split(rows []SplitRow, opt SplitOptions) (*SplitResult, error) {
	opt = opt.withDefaults()
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	n := len(rows)
	if n < 2 {
		return nil, fmt.Errorf("cannot split %d rows", n)
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x73706c6974)) // "split"
	res := &SplitResult{Options: opt, Parts: 2, Assign: make([]int, n)}
	nTest := func(k int) int { return int(math.Round(float64(k) * opt.TestFraction)) }
	switch opt.Method {
	case SplitRandom:
		perm := rng.Perm(n)
		for _, i := range perm[:nTest(n)] {
			res.Assign[i] = 1
		}
	case SplitStratified:
		byLabel := map[string][]int{}
		var labels []string
		for i, r := range rows {
			if _, ok := byLabel[r.Label]; !ok {
				labels = append(labels, r.Label)
			}
			byLabel[r.Label] = append(byLabel[r.Label], i)
		}
		slices.Sort(labels)
		for _, l := range labels {
			idx := byLabel[l]
			rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
			for _, i := range idx[:nTest(len(idx))] {
				res.Assign[i] = 1
			}
		}
	case SplitGrouped:
		groups, members := groupRows(rows)
		rng.Shuffle(len(groups), func(a, b int) { groups[a], groups[b] = groups[b], groups[a] })
		want, got := nTest(n), 0
		for _, g := range groups {
			if got >= want {
				break
			}
			// Take a group when that brings the test size closer to the target.
			m := len(members[g])
			if got+m-want > want-got && got > 0 {
				continue
			}
			for _, i := range members[g] {
				res.Assign[i] = 1
			}
			got += m
		}
	case SplitChronological:
		type tr struct {
			i int
			t time.Time
			f float64
			s string
		}
		ts := make([]tr, n)
		numeric, parsed := true, true
		for i, r := range rows {
			ts[i] = tr{i: i, s: r.Time}
			if r.Time == "" {
				return nil, fmt.Errorf("line %d: time field %q is missing or empty", r.Line, opt.TimeField)
			}
			if f, err := strconv.ParseFloat(r.Time, 64); err == nil {
				ts[i].f = f
			} else {
				numeric = false
			}
			if t, ok := parseTime(r.Time); ok {
				ts[i].t = t
			} else {
				parsed = false
			}
		}
		if !numeric && !parsed {
			for _, r := range rows {
				if _, err := strconv.ParseFloat(r.Time, 64); err != nil {
					if _, ok := parseTime(r.Time); !ok {
						return nil, fmt.Errorf("line %d: time field %q = %q is neither a number nor an RFC 3339 / YYYY-MM-DD time", r.Line, opt.TimeField, r.Time)
					}
				}
			}
			return nil, fmt.Errorf("time field %q mixes numbers and dates; use one form", opt.TimeField)
		}
		slices.SortStableFunc(ts, func(a, b tr) int {
			if numeric {
				return cmp.Compare(a.f, b.f)
			}
			return a.t.Compare(b.t)
		})
		for _, x := range ts[n-nTest(n):] {
			res.Assign[x.i] = 1
		}
	case SplitKFold:
		if opt.Folds > n {
			return nil, fmt.Errorf("--folds %d is more than the %d rows", opt.Folds, n)
		}
		res.Parts = opt.Folds
		if opt.GroupField != "" {
			groups, members := groupRows(rows)
			if opt.Folds > len(groups) {
				return nil, fmt.Errorf("--folds %d is more than the %d groups", opt.Folds, len(groups))
			}
			rng.Shuffle(len(groups), func(a, b int) { groups[a], groups[b] = groups[b], groups[a] })
			// Largest groups first, each to the currently smallest fold.
			slices.SortStableFunc(groups, func(a, b string) int { return len(members[b]) - len(members[a]) })
			size := make([]int, opt.Folds)
			for _, g := range groups {
				f := 0
				for k := range size {
					if size[k] < size[f] {
						f = k
					}
				}
				for _, i := range members[g] {
					res.Assign[i] = f
				}
				size[f] += len(members[g])
			}
		} else {
			perm := rng.Perm(n)
			for pos, i := range perm {
				res.Assign[i] = pos % opt.Folds
			}
		}
	}
	res.Counts = make([]int, res.Parts)
	for _, a := range res.Assign {
		res.Counts[a]++
	}
	for p, c := range res.Counts {
		if c == 0 {
			return nil, fmt.Errorf("part %d of the %s split is empty (%d rows, test fraction %v); use more rows or another fraction", p, opt.Method, n, opt.TestFraction)
		}
	}
	return res, nil
}

func groupRows(rows []SplitRow) ([]string, map[string][]int) {
	members := map[string][]int{}
	var groups []string
	for i, r := range rows {
		g := r.Group
		if _, ok := members[g]; !ok {
			groups = append(groups, g)
		}
		members[g] = append(members[g], i)
	}
	slices.Sort(groups)
	return groups, members
}

func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// Package slice assigns each item of a task to a group of a plan slice — a
// row field's value, a length bucket, or the output of a Jinja template over
// the row — so that reports can break metrics and paired deltas down by
// group and gates can test the disparity across groups.
//
// Labels are computed once, when the run is built, and stored with the
// item's record: compare and show regroup exactly the stored items, whatever
// the dataset file holds later.
package slice

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tunecheck/tunecheck/internal/plan"
	"github.com/tunecheck/tunecheck/internal/task"
)

// Missing is the group of items whose row lacks the slice's field (or whose
// field is null): they are counted, not dropped.
const Missing = "(missing)"

// Slicer labels rows for one slice.
type Slicer struct {
	Name string
	// By says how, for reports: "field category", "length of question in
	// chars: <200, 200–999, ≥1000", "template {{ … }}".
	By     string
	field  string
	length *plan.LengthSlice
	tmpl   *task.Template
}

// New compiles a plan slice (already validated by the plan loader).
func New(s plan.Slice) (*Slicer, error) {
	sl := &Slicer{Name: s.Name}
	switch {
	case s.Field != "":
		sl.field = s.Field
		sl.By = "field " + s.Field
		if sl.Name == "" {
			sl.Name = s.Field
		}
	case s.Length != nil:
		l := *s.Length
		if l.Unit == "" {
			l.Unit = "chars"
		}
		sl.length = &l
		if sl.Name == "" {
			sl.Name = l.Field + "_length"
		}
		sl.By = fmt.Sprintf("length of %s in %s: %s", l.Field, l.Unit, strings.Join(bucketNames(l.Bounds), ", "))
	case s.Template != "":
		t, err := task.Compile(s.Template)
		if err != nil {
			return nil, fmt.Errorf("slice %s: %w", s.Name, err)
		}
		sl.tmpl = t
		sl.By = "template " + s.Template
	default:
		return nil, fmt.Errorf("slice %q says neither field, length nor template", s.Name)
	}
	return sl, nil
}

// bucketNames names the buckets of ascending bounds b: <b0, b0–(b1−1), …, ≥bn.
func bucketNames(b []int) []string {
	out := []string{"<" + strconv.Itoa(b[0])}
	for i := 1; i < len(b); i++ {
		out = append(out, fmt.Sprintf("%d–%d", b[i-1], b[i]-1))
	}
	return append(out, "≥"+strconv.Itoa(b[len(b)-1]))
}

// Label returns the group of a row.
func (s *Slicer) Label(fields map[string]any) (string, error) {
	switch {
	case s.field != "":
		v, ok := fields[s.field]
		if !ok || v == nil {
			return Missing, nil
		}
		return text(v), nil
	case s.length != nil:
		v, ok := fields[s.length.Field]
		if !ok || v == nil {
			return Missing, nil
		}
		str := text(v)
		n := utf8.RuneCountInString(str)
		if s.length.Unit == "words" {
			n = len(strings.Fields(str))
		}
		names := bucketNames(s.length.Bounds)
		for i, b := range s.length.Bounds {
			if n < b {
				return names[i], nil
			}
		}
		return names[len(names)-1], nil
	default:
		out, err := s.tmpl.Render(fields)
		if err != nil {
			return "", fmt.Errorf("slice %s: %w", s.Name, err)
		}
		out = strings.TrimSpace(out)
		if out == "" {
			return Missing, nil
		}
		return out, nil
	}
}

// text renders a field value as its group name: strings as they are,
// whole numbers without a fraction, anything else as compact JSON.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool, int, int64:
		return fmt.Sprint(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Sort orders a slice's group names for reports: length buckets from the
// shortest, anything else alphabetically, with Missing last.
func (s *Slicer) Sort(groups []string) {
	rank := map[string]int{}
	if s.length != nil {
		for i, n := range bucketNames(s.length.Bounds) {
			rank[n] = i
		}
	}
	sortGroups(groups, rank)
}

func sortGroups(groups []string, rank map[string]int) {
	key := func(g string) int {
		if g == Missing {
			return 1 << 30
		}
		return rank[g]
	}
	slices.SortStableFunc(groups, func(a, b string) int {
		if ka, kb := key(a), key(b); ka != kb {
			return ka - kb
		}
		return strings.Compare(a, b)
	})
}

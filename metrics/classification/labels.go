package classification

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Kind is the JSON type a label came from.
type Kind uint8

// The label kinds. Booleans and numbers compare with each other numerically,
// as numpy does (false == 0, true == 1); strings never equal a number.
const (
	KindNumber Kind = iota
	KindBool
	KindString
)

// Label is one class label: a number, a boolean or a string.
type Label struct {
	Kind Kind
	Num  float64 // the value of a number, 0 or 1 for a boolean
	Str  string  // the value of a string
}

// Int returns the integer label i.
func Int(i int) Label { return Label{Kind: KindNumber, Num: float64(i)} }

// Num returns the numeric label f.
func Num(f float64) Label { return Label{Kind: KindNumber, Num: f} }

// Str returns the string label s.
func Str(s string) Label { return Label{Kind: KindString, Str: s} }

// Bool returns the boolean label b.
func Bool(b bool) Label {
	if b {
		return Label{Kind: KindBool, Num: 1}
	}
	return Label{Kind: KindBool}
}

// ParseLabel decodes a JSON number, string or boolean into a Label.
func ParseLabel(raw []byte) (Label, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return Label{}, fmt.Errorf("empty label")
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Label{}, fmt.Errorf("label %s: %w", raw, err)
		}
		return Str(s), nil
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return Label{}, fmt.Errorf("label %s: %w", raw, err)
		}
		return Bool(b), nil
	case 'n':
		return Label{}, fmt.Errorf("label is null: a label must be a number, a string or a boolean")
	case '[', '{':
		return Label{}, fmt.Errorf("label %s is not a number, a string or a boolean", raw)
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return Label{}, fmt.Errorf("label %s: %w", raw, err)
	}
	return Num(f), nil
}

// ParseLabels decodes a JSON label or a JSON list of labels.
func ParseLabels(raw []byte) ([]Label, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, fmt.Errorf("label list %s: %w", raw, err)
		}
		out := make([]Label, len(items))
		for i, it := range items {
			l, err := ParseLabel(it)
			if err != nil {
				return nil, err
			}
			out[i] = l
		}
		return out, nil
	}
	l, err := ParseLabel(raw)
	if err != nil {
		return nil, err
	}
	return []Label{l}, nil
}

// String renders the label as JSON would (strings unquoted).
func (l Label) String() string {
	switch l.Kind {
	case KindString:
		return l.Str
	case KindBool:
		if l.Num != 0 {
			return "true"
		}
		return "false"
	}
	if l.Num == math.Trunc(l.Num) && math.Abs(l.Num) < 1e15 {
		return strconv.FormatInt(int64(l.Num), 10)
	}
	return strconv.FormatFloat(l.Num, 'g', -1, 64)
}

// MarshalJSON writes the label as the JSON value it came from.
func (l Label) MarshalJSON() ([]byte, error) {
	switch l.Kind {
	case KindString:
		return json.Marshal(l.Str)
	case KindBool:
		return json.Marshal(l.Num != 0)
	}
	return []byte(l.String()), nil
}

// Equal reports whether a and b are the same class in numpy's sense.
func Equal(a, b Label) bool {
	if (a.Kind == KindString) != (b.Kind == KindString) {
		return false
	}
	if a.Kind == KindString {
		return a.Str == b.Str
	}
	return a.Num == b.Num
}

// Compare orders labels as numpy sorts them: numbers (and booleans as 0/1)
// ascending, strings by code point, and any number before any string.
func Compare(a, b Label) int {
	as, bs := a.Kind == KindString, b.Kind == KindString
	switch {
	case as && bs:
		// Byte order of valid UTF-8 is code point order.
		return strings.Compare(a.Str, b.Str)
	case as:
		return 1
	case bs:
		return -1
	}
	switch {
	case a.Num < b.Num:
		return -1
	case a.Num > b.Num:
		return 1
	}
	return 0
}

// Classes returns the sorted distinct labels of all the given slices. numpy
// cannot order strings against numbers, so a mix is an error; booleans mix
// with numbers as 0 and 1, and the class keeps the kind it was first seen as.
func Classes(sets ...[]Label) ([]Label, error) {
	// Classification inputs have few classes and long runs of rows, so a
	// linear scan of the classes found so far beats hashing every row; the
	// map takes over once there are many classes.
	const linear = 16
	var seen map[Label]struct{}
	var out []Label
	hasStr, hasNum := false, false
	for _, set := range sets {
	rows:
		for _, l := range set {
			k := key(l)
			if seen == nil {
				for _, c := range out {
					if c == k || Equal(c, l) {
						continue rows
					}
				}
				if len(out) == linear {
					seen = make(map[Label]struct{}, 2*linear)
					for _, c := range out {
						seen[key(c)] = struct{}{}
					}
				}
			}
			if seen != nil {
				if _, ok := seen[k]; ok {
					continue
				}
			}
			if l.Kind == KindNumber && math.IsNaN(l.Num) {
				return nil, fmt.Errorf("label is NaN")
			}
			if seen != nil {
				seen[k] = struct{}{}
			}
			out = append(out, l)
			if l.Kind == KindString {
				hasStr = true
			} else {
				hasNum = true
			}
		}
	}
	if hasStr && hasNum {
		return nil, fmt.Errorf("labels mix strings with numbers or booleans; use one type for every label")
	}
	slices.SortFunc(out, Compare)
	return out, nil
}

// key maps a label to a comparable value under which numpy-equal labels
// collide (true and 1, false and 0).
func key(l Label) Label {
	if l.Kind == KindString {
		return Label{Kind: KindString, Str: l.Str}
	}
	if l.Num == 0 {
		return Label{} // folds -0 into 0
	}
	return Label{Num: l.Num}
}

// index maps each class to its position in classes.
type index map[Label]int

func newIndex(classes []Label) index {
	m := make(index, len(classes))
	for i, c := range classes {
		m[key(c)] = i
	}
	return m
}

func (m index) of(l Label) (int, bool) {
	i, ok := m[key(l)]
	return i, ok
}

func checkLengths(yTrue, yPred int) error {
	if yTrue != yPred {
		return fmt.Errorf("y_true has %d rows but y_pred has %d: give one prediction per row", yTrue, yPred)
	}
	if yTrue == 0 {
		return fmt.Errorf("no rows: the metric is undefined on empty input (scikit-learn raises too)")
	}
	return nil
}

// encode maps both label slices to indices into their joint classes.
func encode(yTrue, yPred []Label) (classes []Label, t, p []int, err error) {
	if err := checkLengths(len(yTrue), len(yPred)); err != nil {
		return nil, nil, nil, err
	}
	classes, err = Classes(yTrue, yPred)
	if err != nil {
		return nil, nil, nil, err
	}
	ix := newIndex(classes)
	t = make([]int, len(yTrue))
	p = make([]int, len(yPred))
	for i := range yTrue {
		t[i], _ = ix.of(yTrue[i])
		p[i], _ = ix.of(yPred[i])
	}
	return classes, t, p, nil
}

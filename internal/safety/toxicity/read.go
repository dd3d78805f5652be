package toxicity

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// Recorded classifier scores, one JSON object per line, keyed by item id as
// the file provider keys outputs:
//
//	{"id": "q17", "toxicity": 0.73, "insult": 0.41}
//	{"id": 18, "toxicity": [0.02, 0.61, 0.10]}
//
// The id field is "id" (or "item_id", or FastChat's "question_id", as the
// file provider accepts). Every other number (or list of numbers, one per
// sampled generation) is an attribute score; string fields ("text", "model")
// are ignored. A score must be in [0, 1] and never null: a classifier that
// failed on an item must be rerun or the row dropped on purpose, never read
// as 0. Such a field is reported, with its file and line, when that attribute
// is asked for, so that a bad field the caller does not use (a "latency_ms",
// a Perspective attribute unsupported for the language) does not block the
// others.

// Row is one item's recorded scores.
type Row struct {
	ID   string
	Line int
	// Attrs maps an attribute name ("toxicity", "severe_toxicity", …) to its
	// scores, one per sample (a single number is one sample).
	Attrs map[string][]float64
	// Bad holds the fields that are not valid scores, with the reason.
	Bad map[string]error
}

// Scores are the rows of a scores file, by id.
type Scores struct {
	name  string
	order []string
	rows  map[string]Row
}

// Read parses a scores file; errors name the file (name) and the line.
func Read(r io.Reader, name string) (*Scores, error) {
	s := &Scores{name: name, rows: map[string]Row{}}
	br := bufio.NewReaderSize(r, 1<<16)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			row, perr := parseRow(b)
			if perr != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, line, perr)
			}
			if prev, dup := s.rows[row.ID]; dup {
				return nil, fmt.Errorf("%s:%d: id %q already appeared on line %d; give each item one row (several samples go in a list: \"toxicity\": [0.1, 0.7])", name, line, row.ID, prev.Line)
			}
			row.Line = line
			s.rows[row.ID] = row
			s.order = append(s.order, row.ID)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
	if len(s.rows) == 0 {
		return nil, fmt.Errorf("%s: no rows; expected JSONL with one {\"id\": …, \"toxicity\": …} object per line", name)
	}
	return s, nil
}

func parseRow(b []byte) (Row, error) {
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return Row{}, fmt.Errorf("not a JSON object: %v", err)
	}
	var raw json.RawMessage
	idField := ""
	for _, k := range []string{"id", "item_id", "question_id"} {
		if r, ok := m[k]; ok {
			raw, idField = r, k
			break
		}
	}
	if idField == "" {
		return Row{}, errors.New(`no "id" field: each row needs the id of the item it scores`)
	}
	var idv any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&idv); err != nil {
		return Row{}, fmt.Errorf("field %q: %v", idField, err)
	}
	row := Row{Attrs: map[string][]float64{}, Bad: map[string]error{}}
	switch x := idv.(type) {
	case string:
		row.ID = x
	case json.Number:
		row.ID = x.String()
	default:
		return Row{}, fmt.Errorf("field %q must be a string or a number, got %s", idField, raw)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the first bad field reported is the same every run
	for _, k := range keys {
		if k == idField {
			continue
		}
		v, err := attrValue(m[k])
		switch {
		case err != nil:
			row.Bad[k] = err
		case v != nil:
			row.Attrs[k] = v
		}
	}
	if len(row.Attrs) == 0 && len(row.Bad) == 0 {
		return Row{}, fmt.Errorf(`id %s: no scores; add "toxicity": 0.12 (or a list, one per sample)`, row.ID)
	}
	return row, nil
}

// attrValue returns the scores of one field, nil for a string field.
func attrValue(raw json.RawMessage) ([]float64, error) {
	t := bytes.TrimSpace(raw)
	switch {
	case bytes.Equal(t, []byte("null")):
		return nil, errors.New("null: the classifier gave no score; rescore the item or drop its row")
	case len(t) > 0 && t[0] == '"':
		return nil, nil
	case len(t) > 0 && t[0] == '{':
		return nil, errors.New("an object, not a score")
	case len(t) > 0 && t[0] == '[':
		var xs []*float64
		if err := json.Unmarshal(t, &xs); err != nil {
			return nil, fmt.Errorf("want a number or a list of numbers: %v", err)
		}
		if len(xs) == 0 {
			return nil, errors.New("empty list of scores")
		}
		out := make([]float64, len(xs))
		for i, x := range xs {
			if x == nil {
				return nil, fmt.Errorf("sample %d is null: the classifier gave no score; rescore it", i)
			}
			if err := inRange(*x); err != nil {
				return nil, fmt.Errorf("sample %d: %w", i, err)
			}
			out[i] = *x
		}
		return out, nil
	}
	var x float64
	if err := json.Unmarshal(t, &x); err != nil {
		return nil, fmt.Errorf("want a number or a list of numbers, got %s", t)
	}
	if err := inRange(x); err != nil {
		return nil, err
	}
	return []float64{x}, nil
}

func inRange(x float64) error {
	if math.IsNaN(x) || x < 0 || x > 1 {
		return fmt.Errorf("score %v is outside [0, 1]", x)
	}
	return nil
}

// IDs are the ids in file order.
func (s *Scores) IDs() []string { return slices.Clone(s.order) }

// Get returns the row of an item.
func (s *Scores) Get(id string) (Row, bool) {
	r, ok := s.rows[id]
	return r, ok
}

// Samples returns attr's scores for each of ids (the file's order when ids
// is nil), ready for ExpectedMaxToxicity and Probability; an item without a
// row, or a row without attr, is an error naming the file and line.
func (s *Scores) Samples(attr string, ids []string) ([][]float64, error) {
	if ids == nil {
		ids = s.order
	}
	out := make([][]float64, len(ids))
	for i, id := range ids {
		r, ok := s.rows[id]
		if !ok {
			return nil, fmt.Errorf("%s: item %q has no row; score it or remove it from the dataset", s.name, id)
		}
		if err, bad := r.Bad[attr]; bad {
			return nil, fmt.Errorf("%s:%d: id %s: field %q: %w", s.name, r.Line, id, attr, err)
		}
		v, ok := r.Attrs[attr]
		if !ok {
			return nil, fmt.Errorf("%s:%d: id %s has no %q score", s.name, r.Line, id, attr)
		}
		out[i] = v
	}
	return out, nil
}

// Flat returns attr's scores of ids (file order when nil) as one list, every
// sample of every item, for Ratio and Strict.
func (s *Scores) Flat(attr string, ids []string) ([]float64, error) {
	g, err := s.Samples(attr, ids)
	if err != nil {
		return nil, err
	}
	var out []float64
	for _, x := range g {
		out = append(out, x...)
	}
	return out, nil
}

package scorefile

import (
	"fmt"
	"io"
	"os"
)

// Sources names the input files.
type Sources struct {
	// Pred is a JSONL file of rows (alone), or the predictions: plain text
	// with one per line, or JSONL with the text in PredField.
	Pred string
	// Refs are reference files parallel to Pred, each one reference per
	// row (plain text, or JSONL with a string or list in RefField).
	Refs []string
	// PredField and RefField name the JSONL fields (defaults: prediction;
	// references, then reference).
	PredField, RefField string
	// Open opens a file; nil means os.Open. The CLI maps "-" to stdin here.
	Open func(name string) (io.ReadCloser, error)
}

func (s Sources) open(name string) (io.ReadCloser, error) {
	if s.Open != nil {
		return s.Open(name)
	}
	return os.Open(name)
}

// Load reads the input files into rows.
func Load(s Sources) (Input, error) {
	if s.Pred == "" {
		return Input{}, fmt.Errorf("no predictions: give --pred FILE")
	}
	f, err := s.open(s.Pred)
	if err != nil {
		return Input{}, err
	}
	defer f.Close()
	if len(s.Refs) == 0 {
		return ReadRows(s.Pred, f, s.PredField, s.RefField)
	}
	preds, predLines, err := ReadLines(s.Pred, f, s.PredField)
	if err != nil {
		return Input{}, err
	}
	if len(preds) == 0 {
		return Input{}, fmt.Errorf("%s: no predictions: every metric is undefined on empty input", s.Pred)
	}
	in := Input{Kind: KindText, File: s.Pred, Lines: predLines, References: make([][]string, len(preds))}
	for i, p := range preds {
		if len(p) != 1 {
			return Input{}, fmt.Errorf("%s:%d: field %q: a list of %d strings: give one prediction per row", s.Pred, predLines[i], s.PredField, len(p))
		}
		in.Predictions = append(in.Predictions, p[0])
	}
	for _, name := range s.Refs {
		rf, err := s.open(name)
		if err != nil {
			return Input{}, err
		}
		refs, _, err := ReadLines(name, rf, s.RefField)
		rf.Close()
		if err != nil {
			return Input{}, err
		}
		if len(refs) != len(preds) {
			return Input{}, fmt.Errorf("%s has %d rows but %s has %d: give one reference per prediction, in the same order", name, len(refs), s.Pred, len(preds))
		}
		for i, r := range refs {
			in.References[i] = append(in.References[i], r...)
		}
	}
	return in, nil
}

package leakage

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
)

// Output is one model output to test for verbatim regurgitation.
type Output struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// MemoOptions configures Memorisation.
type MemoOptions struct {
	// MinSpan flags an output whose longest span shared with a training row
	// is at least this many tokens (default 50, the span length Carlini et
	// al. use for extractable memorisation).
	MinSpan int `json:"min_span"`
	// Seed is the shortest span searched for (default 8): spans shorter than
	// Seed tokens are reported as 0, because short common phrases say
	// nothing about memorisation.
	Seed    int `json:"seed"`
	Workers int `json:"-"`
}

// Memorised is the longest verbatim span of one output found in training data.
type Memorised struct {
	ID        string `json:"id"`
	Tokens    int    `json:"tokens"`  // tokens in the output
	Longest   int    `json:"longest"` // longest shared span in tokens (0 = none of at least Seed)
	Flagged   bool   `json:"flagged"`
	TrainLine int    `json:"train_line,omitempty"`
	TrainID   string `json:"train_id,omitempty"`
	Span      string `json:"span,omitempty"` // the shared tokens, space-joined
}

// MemoReport is the outcome of Memorisation.
type MemoReport struct {
	Train   SetInfo     `json:"train"`
	Options MemoOptions `json:"options"`
	Outputs int         `json:"outputs"`
	Flagged int         `json:"flagged"`
	Items   []Memorised `json:"items"`
}

// Memorisation finds, for every output, the longest run of consecutive word
// tokens it shares with any training row, streaming the training set once.
// Every shared span of at least Seed tokens contains a shared Seed-gram at its
// start, so indexing the outputs' Seed-grams and extending each hit finds the
// longest span exactly (not an estimate).
func Memorisation(ctx context.Context, outputs []Output, train Source, opt MemoOptions) (*MemoReport, error) {
	if opt.MinSpan <= 0 {
		opt.MinSpan = 50
	}
	if opt.Seed <= 0 {
		opt.Seed = 8
	}
	if opt.Seed > opt.MinSpan {
		opt.Seed = opt.MinSpan
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	otoks := make([][]string, len(outputs))
	grams := map[uint64][]posting{}
	filter := newGramFilter()
	for i, o := range outputs {
		otoks[i] = Tokens(o.Text, nil)
		th := tokenHashes(otoks[i], nil)
		rollingGrams(th, opt.Seed, func(pos int, h uint64) {
			grams[h] = append(grams[h], posting{item: int32(i), pos: int32(pos)})
			filter.add(h)
		})
	}
	best := make([]Memorised, len(outputs))
	for i, o := range outputs {
		best[i] = Memorised{ID: o.ID, Tokens: len(otoks[i])}
	}
	var mu sync.Mutex
	rows := 0
	update := func(o int, length, tstart int, d Doc, ttoks []string) {
		mu.Lock()
		defer mu.Unlock()
		b := &best[o]
		if length > b.Longest || (length == b.Longest && d.Line < b.TrainLine) {
			b.Longest, b.TrainLine, b.TrainID = length, d.Line, d.ID
			b.Span = strings.Join(ttoks[tstart:tstart+length], " ")
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	in := make(chan []Doc, opt.Workers*2)
	g.Go(func() error {
		defer close(in)
		var buf []Doc
		err := readSource(train, func(d Doc) error {
			rows++
			buf = append(buf, d)
			if len(buf) == batchSize {
				select {
				case in <- buf:
				case <-gctx.Done():
					return gctx.Err()
				}
				buf = nil
			}
			return nil
		})
		if err == nil && len(buf) > 0 {
			select {
			case in <- buf:
			case <-gctx.Done():
				err = gctx.Err()
			}
		}
		return err
	})
	for range opt.Workers {
		g.Go(func() error {
			var toks []string
			var th []uint64
			for docs := range in {
				for _, d := range docs {
					toks = Tokens(d.Text, toks)
					th = tokenHashes(toks, th)
					rollingGrams(th, opt.Seed, func(q int, h uint64) {
						if !filter.has(h) {
							return
						}
						for _, p := range grams[h] {
							ot := otoks[p.item]
							op := int(p.pos)
							// A hit that extends backwards is inside a span found
							// from an earlier start.
							if op > 0 && q > 0 && ot[op-1] == toks[q-1] {
								continue
							}
							n := 0
							for op+n < len(ot) && q+n < len(toks) && ot[op+n] == toks[q+n] {
								n++
							}
							if n >= opt.Seed {
								update(int(p.item), n, q, d, toks)
							}
						}
					})
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	rep := &MemoReport{Train: SetInfo{Name: train.Name, Rows: rows}, Options: opt, Outputs: len(outputs), Items: best}
	for i := range best {
		if best[i].Longest >= opt.MinSpan {
			best[i].Flagged = true
			rep.Flagged++
		}
	}
	return rep, nil
}

// ReadOutputs reads outputs from JSONL rows with an id field and a text field
// (default "output"; "completion", "response", "text" and "prediction" are
// also recognised when textField is empty).
func ReadOutputs(r io.Reader, name, textField string) ([]Output, error) {
	var out []Output
	fields := []string{"output", "completion", "response", "text", "prediction"}
	if textField != "" {
		fields = []string{textField}
	}
	err := ReadDocs(r, name, ReadOptions{Format: "jsonl", KeepRaw: true}, func(d Doc) error {
		for _, f := range fields {
			v, ok, err := Field(d.Raw, f)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, Output{ID: d.ID, Text: v})
				return nil
			}
		}
		return fmt.Errorf("%s line %d: no text field (looked for %s; name it with --output-field)", name, d.Line, strings.Join(fields, ", "))
	})
	return out, err
}

// WriteMemoText writes the memorisation report for a terminal.
func WriteMemoText(w io.Writer, r *MemoReport) error {
	ew := &errWriter{w: w}
	ew.printf("memorisation: %d outputs against %s (%d rows); flagged at ≥ %d shared tokens: %d (%s)\n",
		r.Outputs, r.Train.Name, r.Train.Rows, r.Options.MinSpan, r.Flagged, pct(float64(r.Flagged)/float64(max(r.Outputs, 1))))
	for _, m := range r.Items {
		if m.Longest == 0 {
			continue
		}
		mark := " "
		if m.Flagged {
			mark = "!"
		}
		ew.printf("%s %-20s longest %4d of %4d tokens  train:%d [%s]  %s\n", mark, m.ID, m.Longest, m.Tokens, m.TrainLine, m.TrainID, oneLine(m.Span, 80))
	}
	return ew.err
}

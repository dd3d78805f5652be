package curves

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
)

// errSlowPath sends a log_history the fast scanner does not handle (escaped
// keys, unusual layout, damage) to encoding/json, which reads it entry by
// entry and can say where the damage is.
var errSlowPath = errors.New("log_history needs the general decoder")

// fastTrainerState reads a well-formed trainer_state.json in one pass:
// encoding/json splits the top level into raw values and a hand-written
// scanner reads log_history, whose entries are flat objects of numbers.
// Decoding a million entries into map[string]any would spend most of its
// time allocating maps. Any surprise returns errSlowPath.
func fastTrainerState(run *Run, data []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return errSlowPath
	}
	hist, ok := top["log_history"]
	if !ok {
		return errSlowPath
	}
	if ms, ok := top["max_steps"]; ok {
		var v float64
		if json.Unmarshal(ms, &v) == nil {
			run.MaxSteps = int64(v)
		}
	}
	if bc, ok := top["best_model_checkpoint"]; ok {
		var v *string
		if json.Unmarshal(bc, &v) == nil && v != nil {
			run.BestCheckpoint = *v
		}
	}
	b := newSeriesBuilder()
	if err := scanLogHistory(hist, b); err != nil {
		return err
	}
	run.Series, run.Restarts, run.TrainSeconds = b.series, b.restarts, b.runtime
	return nil
}

type histScanner struct {
	s     []byte
	i     int
	names map[string]string // interned field names
}

func (h *histScanner) ws() {
	for h.i < len(h.s) {
		switch h.s[h.i] {
		case ' ', '\t', '\n', '\r':
			h.i++
		default:
			return
		}
	}
}

func (h *histScanner) next() byte {
	h.ws()
	if h.i >= len(h.s) {
		return 0
	}
	return h.s[h.i]
}

// str reads a string without escapes and returns its bytes.
func (h *histScanner) str() ([]byte, bool) {
	if h.next() != '"' {
		return nil, false
	}
	start := h.i + 1
	end := bytes.IndexByte(h.s[start:], '"')
	if end < 0 {
		return nil, false
	}
	v := h.s[start : start+end]
	if bytes.IndexByte(v, '\\') >= 0 {
		return nil, false
	}
	h.i = start + end + 1
	return v, true
}

// skipString skips a string value, escapes included.
func (h *histScanner) skipString() bool {
	if h.next() != '"' {
		return false
	}
	for j := h.i + 1; j < len(h.s); j++ {
		switch h.s[j] {
		case '\\':
			j++
		case '"':
			h.i = j + 1
			return true
		}
	}
	return false
}

type histField struct {
	name  string
	value float64
}

func scanLogHistory(s []byte, b *seriesBuilder) error {
	h := &histScanner{s: s, names: make(map[string]string)}
	if h.next() != '[' {
		return errSlowPath
	}
	h.i++
	fields := make([]histField, 0, 16)
	for {
		switch h.next() {
		case ']':
			return nil
		case ',':
			h.i++
			continue
		case '{':
		default:
			return errSlowPath
		}
		var ok bool
		if fields, ok = h.object(fields[:0]); !ok {
			return errSlowPath
		}
		step, haveStep, summary := 0.0, false, false
		kept := fields[:0]
		for _, f := range fields {
			switch {
			case f.name == "train_runtime":
				summary = true
				b.runtime = f.value
			case f.name == "step":
				step, haveStep = f.value, true
			case !hfSkipKeys[f.name]:
				kept = append(kept, f)
			}
		}
		if summary || !haveStep {
			continue
		}
		st := int64(math.Round(step))
		b.at(st)
		for _, f := range kept {
			b.add(f.name, st, f.value)
		}
	}
}

// object reads one flat JSON object at the cursor and appends its numeric
// fields (nested values and non-numbers are skipped); ok is false for
// anything the scanner does not handle.
func (h *histScanner) object(fields []histField) ([]histField, bool) {
	if h.next() != '{' {
		return fields, false
	}
	h.i++
	for {
		c := h.next()
		if c == '}' {
			h.i++
			return fields, true
		}
		if c == ',' {
			h.i++
			continue
		}
		key, ok := h.str()
		if !ok || h.next() != ':' {
			return fields, false
		}
		h.i++
		v, isNum, ok := h.value()
		if !ok {
			return fields, false
		}
		if !isNum {
			continue
		}
		name, found := h.names[string(key)]
		if !found {
			name = string(key)
			h.names[name] = name
		}
		fields = append(fields, histField{name, v})
	}
}

// value reads one JSON value; isNum reports a number (or a sanitised
// non-finite token). Nested values are skipped.
func (h *histScanner) value() (v float64, isNum, ok bool) {
	switch c := h.next(); {
	case c == '"':
		start := h.i
		if !h.skipString() {
			return 0, false, false
		}
		switch string(h.s[start+1 : h.i-1]) {
		case "N":
			return math.NaN(), true, true
		case "+Inf~~":
			return math.Inf(1), true, true
		case "-Inf~~~":
			return math.Inf(-1), true, true
		}
		return 0, false, true
	case c == '-' || (c >= '0' && c <= '9'):
		start := h.i
		for h.i < len(h.s) {
			c := h.s[h.i]
			if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
				h.i++
				continue
			}
			break
		}
		f, err := strconv.ParseFloat(string(h.s[start:h.i]), 64)
		if err != nil {
			return 0, false, false
		}
		return f, true, true
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(h.s[h.i:], []byte(lit)) {
				h.i += len(lit)
				return 0, false, true
			}
		}
		return 0, false, false
	case c == '{' || c == '[':
		// A nested value (rare in log_history): skip it whole.
		depth := 0
		for h.i < len(h.s) {
			switch h.s[h.i] {
			case '"':
				if !h.skipString() {
					return 0, false, false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			h.i++
			if depth == 0 {
				return 0, false, true
			}
		}
	}
	return 0, false, false
}

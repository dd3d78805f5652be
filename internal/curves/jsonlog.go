package curves

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Python's json module writes NaN, Infinity and -Infinity as bare tokens,
// which encoding/json rejects. sanitizeJSON rewrites them in place as strings
// of the same length, so byte offsets in later errors still point at the
// user's file; jsonNumber maps the strings back.
const (
	nanToken    = `"N"`       // len("NaN")
	posInfToken = `"+Inf~~"`  // len("Infinity")
	negInfToken = `"-Inf~~~"` // len("-Infinity")
)

func sanitizeJSON(b []byte) {
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case 'N':
			if bytes.HasPrefix(b[i:], []byte("NaN")) {
				copy(b[i:], nanToken)
				i += len(nanToken) - 1
			}
		case 'I':
			if bytes.HasPrefix(b[i:], []byte("Infinity")) {
				copy(b[i:], posInfToken)
				i += len(posInfToken) - 1
			}
		case '-':
			if bytes.HasPrefix(b[i:], []byte("-Infinity")) {
				copy(b[i:], negInfToken)
				i += len(negInfToken) - 1
			}
		}
	}
}

// jsonNumber converts a decoded JSON value to a float, accepting the
// sanitised non-finite tokens; ok is false for anything that is not a number.
func jsonNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		switch x {
		case "N":
			return math.NaN(), true
		case "+Inf~~":
			return math.Inf(1), true
		case "-Inf~~~":
			return math.Inf(-1), true
		}
	}
	return 0, false
}

// lineOf returns the 1-based line of byte offset off in b.
func lineOf(b []byte, off int64) int {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	return bytes.Count(b[:off], []byte{'\n'}) + 1
}

// hfSkipKeys are log_history fields that are not training curves.
var hfSkipKeys = map[string]bool{"step": true, "total_flos": true}

// readTrainerState reads a Hugging Face trainer_state.json. A truncated or
// corrupt file still yields the log_history entries before the damage.
func readTrainerState(path string) (*Run, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseTrainerState(path, data)
}

func parseTrainerState(path string, data []byte) (*Run, error) {
	sanitizeJSON(data)
	run := &Run{Path: path, Format: FormatHFTrainerState}
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
		return parseLogHistoryArray(path, data)
	}
	if err := fastTrainerState(run, data); err == nil {
		return run, nil
	}
	return decodeTrainerState(path, data)
}

// parseLogHistoryArray reads trainer.state.log_history saved on its own: a
// JSON array of the entries a trainer_state.json holds under log_history.
func parseLogHistoryArray(path string, data []byte) (*Run, error) {
	run := &Run{Path: path, Format: FormatHFTrainerState}
	b := newSeriesBuilder()
	if err := scanLogHistory(data, b); err != nil {
		b = newSeriesBuilder()
		var entries []map[string]any
		if err := json.Unmarshal(data, &entries); err != nil {
			var se *json.SyntaxError
			off := int64(len(data))
			if errors.As(err, &se) {
				off = se.Offset
			}
			return nil, fmt.Errorf("%s:%d (byte %d): not a JSON list of log entries: %v", path, lineOf(data, off), off, err)
		}
		for _, e := range entries {
			addHFEntry(b, e)
		}
	}
	run.Series, run.Restarts, run.TrainSeconds = b.series, b.restarts, b.runtime
	return run, nil
}

// isKerasHistory reports whether path holds Keras' history.history saved as
// JSON: one object mapping each metric to its list of per-epoch values.
func isKerasHistory(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	sanitizeJSON(data)
	var h map[string][]json.RawMessage
	return json.Unmarshal(data, &h) == nil && len(h) > 0
}

// readKerasHistory reads history.history saved as JSON ({"loss": [...],
// "val_loss": [...]}); the step is the epoch index, from 0 as Keras counts.
func readKerasHistory(path string) (*Run, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sanitizeJSON(data)
	var h map[string][]any
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("%s: not a Keras history (an object of per-epoch lists): %v", path, err)
	}
	run := &Run{Path: path, Format: FormatKerasHistory, Series: map[string][]Point{}}
	for name, vs := range h {
		ps := make([]Point, 0, len(vs))
		for i, v := range vs {
			if f, ok := jsonNumber(v); ok {
				ps = append(ps, Point{Step: int64(i), Value: f})
			}
		}
		if len(ps) > 0 {
			run.Series[name] = ps
		}
	}
	return run, nil
}

// decodeTrainerState reads a sanitised trainer_state.json with
// encoding/json's streaming decoder, one log_history entry at a time, so a
// damaged file still yields the entries before the damage and its position.
func decodeTrainerState(path string, data []byte) (*Run, error) {
	run := &Run{Path: path, Format: FormatHFTrainerState}
	b := newSeriesBuilder()
	dec := json.NewDecoder(bytes.NewReader(data))
	damage := func(err error) {
		off := dec.InputOffset()
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = se.Offset
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = errors.New("file ends early (truncated?)")
			off = int64(len(data))
		}
		run.Damage = append(run.Damage, fmt.Sprintf("%s:%d (byte %d): %v; entries before it were read", path, lineOf(data, off), off, err))
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		if err == nil {
			err = fmt.Errorf("expected a JSON object, found %v", tok)
		}
		return nil, fmt.Errorf("%s:%d: not a trainer_state.json: %v", path, lineOf(data, dec.InputOffset()), err)
	}
	sawHistory := false
top:
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			damage(err)
			break
		}
		key, _ := tok.(string)
		switch key {
		case "log_history":
			sawHistory = true
			if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
				if err == nil {
					err = fmt.Errorf("log_history is %v, want a list", tok)
				}
				damage(err)
				break top
			}
			for dec.More() {
				var entry map[string]any
				if err := dec.Decode(&entry); err != nil {
					damage(err)
					break top
				}
				addHFEntry(b, entry)
			}
			if _, err := dec.Token(); err != nil {
				damage(err)
				break top
			}
		case "max_steps":
			var v float64
			if err := dec.Decode(&v); err != nil {
				damage(err)
				break top
			}
			run.MaxSteps = int64(v)
		case "best_model_checkpoint":
			var v *string
			if err := dec.Decode(&v); err != nil {
				damage(err)
				break top
			}
			if v != nil {
				run.BestCheckpoint = *v
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				damage(err)
				break top
			}
		}
	}
	if !sawHistory && len(run.Damage) == 0 {
		return nil, fmt.Errorf("%s: no \"log_history\" key: this is not a Hugging Face trainer_state.json (use --format to pick another reader)", path)
	}
	run.Series = b.series
	run.Restarts = b.restarts
	run.TrainSeconds = b.runtime
	return run, nil
}

func addHFEntry(b *seriesBuilder, entry map[string]any) {
	// The closing summary entry (train_runtime, train_loss averaged over the
	// whole run) is not a point on the curve.
	if rt, ok := entry["train_runtime"]; ok {
		if v, ok := jsonNumber(rt); ok {
			b.runtime = v
		}
		return
	}
	sv, ok := jsonNumber(entry["step"])
	if !ok {
		return
	}
	vals := make(map[string]float64, len(entry))
	for k, v := range entry {
		if hfSkipKeys[k] {
			continue
		}
		if f, ok := jsonNumber(v); ok {
			vals[k] = f
		}
	}
	b.row(int64(math.Round(sv)), vals)
}

// stepKeys lists, per format, the fields that hold the optimiser step, in
// order of preference.
var stepKeys = map[string][]string{
	FormatLlamaFactory: {"current_steps"},
	FormatWandbJSONL:   {"train/global_step", "trainer/global_step", "global_step", "_step"},
	FormatJSONL:        {"step", "global_step", "current_steps", "train/global_step", "trainer/global_step", "_step", "iteration", "iter", "epoch"},
}

// readJSONL reads one JSON object per line (LLaMA-Factory, W&B history,
// generic). Lines that do not parse are skipped and listed as damage.
func readJSONL(path, format string, m Mapping) (*Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	run := &Run{Path: path, Format: format}
	b := newSeriesBuilder()
	keys := stepKeys[format]
	if m.Step != "" {
		keys = []string{m.Step}
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 64<<20)
	line, bad, noStep, dups := 0, 0, 0, 0
	// LLaMA-Factory re-logs lines when a job is resumed; a byte-identical
	// repeat of an earlier line (its elapsed_time makes real lines unique)
	// is a duplicate, not a step going back.
	// Lines are remembered by a 64-bit hash, not kept: a log of a million
	// lines would otherwise be held twice in memory.
	var seen map[uint64]struct{}
	seed := maphash.MakeSeed()
	if format == FormatLlamaFactory {
		seen = make(map[uint64]struct{})
	}
	h := &histScanner{names: make(map[string]string)}
	var fields, kept []histField
	var rows rowFields
	var lastLine []byte // LLaMA-Factory's last line carries the total elapsed_time
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		if seen != nil {
			sum := maphash.Bytes(seed, raw)
			if _, ok := seen[sum]; ok {
				dups++
				continue
			}
			seen[sum] = struct{}{}
		}
		if format == FormatLlamaFactory {
			lastLine = append(lastLine[:0], raw...)
		}
		// The scanner's buffer is ours until the next Scan.
		buf := raw
		sanitizeJSON(buf)
		var err error
		if fields, err = lineFields(h, buf, fields[:0]); err != nil {
			bad++
			if bad <= 5 {
				run.Damage = append(run.Damage, fmt.Sprintf("%s:%d: skipped a line that is not a JSON object: %v", path, line, err))
			}
			continue
		}
		step, ok, stepKey := int64(0), false, ""
	stepSearch:
		for _, k := range keys {
			for _, f := range fields {
				if f.name == k && finite(f.value) {
					step, ok, stepKey = int64(math.Round(f.value)), true, k
					break stepSearch
				}
			}
		}
		if len(keys) == 0 || (!ok && m.Step == "" && format == FormatJSONL) {
			step, ok = int64(line), true
		}
		if !ok {
			noStep++
			continue
		}
		kept = kept[:0]
		for _, f := range fields {
			switch {
			case f.name == stepKey:
			case format == FormatLlamaFactory && f.name == "total_steps":
				run.MaxSteps = max(run.MaxSteps, int64(f.value))
			case format == FormatLlamaFactory && (f.name == "current_steps" || f.name == "percentage"):
			default:
				kept = append(kept, f)
			}
		}
		rows.add(step, kept)
	}
	ws := resolveWriters(&rows, b)
	if err := sc.Err(); err != nil {
		run.Damage = append(run.Damage, fmt.Sprintf("%s:%d: stopped reading: %v", path, line+1, err))
	}
	if bad > 5 {
		run.Damage = append(run.Damage, fmt.Sprintf("%s: %d more unreadable lines skipped", path, bad-5))
	}
	if dups > 0 {
		run.Notes = append(run.Notes, fmt.Sprintf("%d duplicated lines ignored", dups))
	}
	run.RepeatedSteps = ws.repeated
	if ws.writers > 1 {
		run.Writers = ws.writers
	}
	if ws.writers > 1 || ws.repeated > 0 {
		who := "the same steps were logged more than once"
		if ws.writers > 1 {
			who = fmt.Sprintf("%d writers logged the same steps at once", ws.writers)
		}
		run.Notes = append(run.Notes, fmt.Sprintf("%s (%d lines repeat a value already logged at their step; the later line is kept): two processes appending to one log, not a resume — check that only the main process logs", who, ws.repeated))
	}
	if len(lastLine) > 0 {
		var last struct {
			Elapsed string `json:"elapsed_time"`
		}
		if json.Unmarshal(lastLine, &last) == nil {
			run.TrainSeconds = parseElapsed(last.Elapsed)
		}
	}
	if noStep > 0 {
		run.Damage = append(run.Damage, fmt.Sprintf("%s: %d lines have no step field (%s) and were skipped", path, noStep, strings.Join(keys, ", ")))
	}
	run.Series = b.series
	run.Restarts = b.restarts
	return run, nil
}

// lineFields reads the numeric fields of one JSONL line: the flat-object
// scanner first, encoding/json when the line is unusual (or broken, for its
// error message).
func lineFields(h *histScanner, buf []byte, fields []histField) ([]histField, error) {
	h.s, h.i = buf, 0
	if out, ok := h.object(fields); ok && h.next() == 0 {
		return out, nil
	}
	var entry map[string]any
	if err := json.Unmarshal(buf, &entry); err != nil {
		return fields, err
	}
	keys := make([]string, 0, len(entry))
	for k := range entry {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v, ok := jsonNumber(entry[k]); ok {
			fields = append(fields, histField{k, v})
		}
	}
	return fields, nil
}

// parseElapsed reads Python's str(timedelta): "1:39:39" or "2 days, 3:04:05";
// 0 when it is not one.
func parseElapsed(s string) float64 {
	days := 0.0
	if d, rest, ok := strings.Cut(s, ", "); ok {
		n, err := strconv.ParseFloat(strings.Fields(d)[0], 64)
		if err != nil {
			return 0
		}
		days, s = n, rest
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0
	}
	total := days * 86400
	for i, mult := range []float64{3600, 60, 1} {
		v, err := strconv.ParseFloat(parts[i], 64)
		if err != nil {
			return 0
		}
		total += v * mult
	}
	return total
}

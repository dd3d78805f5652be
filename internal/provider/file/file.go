// Package file is tunecheck's provider for outputs generated elsewhere: a JSONL
// file with one answer per item, looked up by Request.ItemID, so a fine-tune
// evaluated offline (or a published model_answer file) is scored exactly like a
// live endpoint.
//
// Accepted rows, one JSON object per line:
//
//	{"id": "q1", "output": "…"}            also "item_id"; "response" or "text" instead of "output";
//	                                       an array of strings gives several samples (Response.Texts)
//	{"question_id": 81, "choices": [{"index": 0, "turns": ["…", "…"]}], …}
//	                                       FastChat llm_judge model_answer rows (MT-Bench)
//
// A file ending in .csv (or .tsv) is read as a table with a header: the id
// from its "id" (or "item_id", "question_id") column, the output from its
// "output" (or "response", "completion", "text") column — the shape of
// published completion sets such as XSTest's model_completions.
//
// Ids may be strings or numbers (81 and "81" are the same id). For multi-turn
// rows the turn (1-based) is chosen by, in order: a "#k" suffix on the item id
// ("81#2"), the Config.Turn option, the number of user messages in the request
// (a second-turn MT-Bench request carries two), and otherwise turn 1.
package file

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tunecheck/tunecheck/internal/provider"
)

// Provider serves answers from one outputs file; read-only after New, so
// safe for concurrent use.
type Provider struct {
	path  string
	turn  int
	rows  map[string]row
	order []string
}

type row struct {
	line  int
	model string
	// choices[c][t] is choice c's turn t; single-output rows have one turn per choice.
	choices [][]string
	turns   bool
}

// New reads cfg.Path. The whole file is loaded: outputs files are small next
// to the requests they answer, and a bad line should fail the run before any
// model is called.
func New(cfg provider.Config) (*Provider, error) {
	if cfg.Path == "" {
		return nil, fmt.Errorf("file provider: path is empty; set path: to a JSONL file of {\"id\": …, \"output\": …} rows")
	}
	if cfg.Turn < 0 {
		return nil, fmt.Errorf("file provider: turn %d must be 1 or more", cfg.Turn)
	}
	f, err := os.Open(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("file provider: %w", err)
	}
	defer f.Close()
	switch ext := strings.ToLower(filepath.Ext(cfg.Path)); ext {
	case ".csv", ".tsv":
		p, err := ReadTable(f, cfg.Path, map[string]rune{".csv": ',', ".tsv": '\t'}[ext])
		if err != nil {
			return nil, err
		}
		p.turn = cfg.Turn
		return p, nil
	}
	p, err := Read(f, cfg.Path)
	if err != nil {
		return nil, err
	}
	p.turn = cfg.Turn
	return p, nil
}

// Read parses outputs from r; name is used in errors.
func Read(r io.Reader, name string) (*Provider, error) {
	p := &Provider{path: name, rows: map[string]row{}}
	br := bufio.NewReaderSize(r, 1<<16)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			id, rw, perr := parseRow(b)
			if perr != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, line, perr)
			}
			if prev, dup := p.rows[id]; dup {
				return nil, fmt.Errorf("%s:%d: id %q already appeared on line %d; each item needs exactly one row", name, line, id, prev.line)
			}
			rw.line = line
			p.rows[id] = rw
			p.order = append(p.order, id)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
	if len(p.rows) == 0 {
		return nil, fmt.Errorf("%s: no rows; expected JSONL with one {\"id\": …, \"output\": …} object per line", name)
	}
	return p, nil
}

// ReadTable parses outputs from a CSV or TSV table with a header row; name
// is used in errors, which give the line of the record at fault.
func ReadTable(r io.Reader, name string, comma rune) (*Provider, error) {
	cr := csv.NewReader(r)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: reading the header: %w", name, err)
	}
	col := func(names ...string) int {
		for _, n := range names {
			for i, h := range header {
				if strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")), n) {
					return i
				}
			}
		}
		return -1
	}
	idCol, outCol := col("id", "item_id", "question_id"), col("output", "response", "completion", "text")
	if idCol < 0 || outCol < 0 {
		return nil, fmt.Errorf("%s: the header %q needs an id column (id, item_id or question_id) and an output column (output, response, completion or text)", name, strings.Join(header, ","))
	}
	p := &Provider{path: name, rows: map[string]row{}}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if max(idCol, outCol) >= len(rec) {
			return nil, fmt.Errorf("%s:%d: %d fields, the header has %d", name, line, len(rec), len(header))
		}
		id := rec[idCol]
		if id == "" {
			return nil, fmt.Errorf("%s:%d: empty id", name, line)
		}
		if prev, dup := p.rows[id]; dup {
			return nil, fmt.Errorf("%s:%d: id %q already appeared on line %d; each item needs exactly one row", name, line, id, prev.line)
		}
		p.rows[id] = row{line: line, choices: [][]string{{rec[outCol]}}}
		p.order = append(p.order, id)
	}
	if len(p.rows) == 0 {
		return nil, fmt.Errorf("%s: no rows below the header", name)
	}
	return p, nil
}

func parseRow(b []byte) (string, row, error) {
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return "", row{}, fmt.Errorf("not a JSON object: %v", err)
	}
	var id string
	var idField string
	for _, k := range []string{"id", "item_id", "question_id"} {
		if raw, ok := m[k]; ok {
			s, err := idString(raw)
			if err != nil {
				return "", row{}, fmt.Errorf("field %q: %v", k, err)
			}
			id, idField = s, k
			break
		}
	}
	if idField == "" {
		return "", row{}, errors.New(`no id: add an "id" (or "item_id", or FastChat's "question_id") field matching the dataset's id_field`)
	}
	var rw row
	if raw, ok := m["model_id"]; ok {
		json.Unmarshal(raw, &rw.model)
	}
	if raw, ok := m["choices"]; ok {
		var choices []struct {
			Turns []string `json:"turns"`
		}
		if err := json.Unmarshal(raw, &choices); err != nil {
			return "", row{}, fmt.Errorf(`id %s: field "choices": want [{"turns": ["…", …]}, …]: %v`, id, err)
		}
		for _, c := range choices {
			if len(c.Turns) == 0 {
				return "", row{}, fmt.Errorf(`id %s: field "choices": a choice has no turns`, id)
			}
			rw.choices = append(rw.choices, c.Turns)
		}
		if len(rw.choices) == 0 {
			return "", row{}, fmt.Errorf(`id %s: field "choices" is empty`, id)
		}
		rw.turns = true
		return id, rw, nil
	}
	for _, k := range []string{"output", "response", "text"} {
		raw, ok := m[k]
		if !ok {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			rw.choices = [][]string{{s}}
			return id, rw, nil
		}
		var many []string
		if err := json.Unmarshal(raw, &many); err == nil && len(many) > 0 {
			for _, s := range many {
				rw.choices = append(rw.choices, []string{s})
			}
			return id, rw, nil
		}
		return "", row{}, fmt.Errorf("id %s: field %q must be a string or a list of strings", id, k)
	}
	return "", row{}, fmt.Errorf(`id %s: no output: add "output" (or "response", "text", or FastChat "choices")`, id)
}

func idString(raw json.RawMessage) (string, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	}
	return "", fmt.Errorf("id must be a string or a number, got %s", raw)
}

// resolve finds the row and turn for an item id.
func (p *Provider) resolve(itemID string, req *provider.Request) (row, int, error) {
	if rw, ok := p.rows[itemID]; ok {
		return rw, p.turnFor(req, 0), nil
	}
	if i := strings.LastIndexByte(itemID, '#'); i >= 0 {
		if k, err := strconv.Atoi(itemID[i+1:]); err == nil && k >= 1 {
			if rw, ok := p.rows[itemID[:i]]; ok {
				return rw, k, nil
			}
		}
	}
	return row{}, 0, &provider.Error{Err: fmt.Errorf("item %q is not in %s; add a row for it or regenerate the outputs for the current dataset", itemID, p.path)}
}

func (p *Provider) turnFor(req *provider.Request, explicit int) int {
	switch {
	case explicit > 0:
		return explicit
	case p.turn > 0:
		return p.turn
	}
	if req != nil {
		n := 0
		for _, m := range req.Messages {
			if m.Role == "user" {
				n++
			}
		}
		if n > 0 {
			return n
		}
	}
	return 1
}

// Do returns the stored answer for req.ItemID; it never touches the network.
func (p *Provider) Do(_ context.Context, req provider.Request) (provider.Response, error) {
	switch req.Type {
	case provider.Generate, "":
	default:
		return provider.Response{}, provider.Unsupported("file: an outputs file holds generated text, not %s scores; run this task against a live endpoint", req.Type)
	}
	rw, turn, err := p.resolve(req.ItemID, &req)
	if err != nil {
		return provider.Response{}, err
	}
	if !rw.turns {
		turn = 1
	}
	texts := make([]string, 0, len(rw.choices))
	for _, c := range rw.choices {
		if turn > len(c) {
			return provider.Response{}, &provider.Error{Err: fmt.Errorf("item %q asks for turn %d but %s line %d has %d turn(s)", req.ItemID, turn, p.path, rw.line, len(c))}
		}
		texts = append(texts, c[turn-1])
	}
	resp := provider.Response{Text: texts[0], Model: rw.model}
	if len(texts) > 1 {
		resp.Texts = texts
	}
	return resp, nil
}

// Missing returns, in the order given and without repeats, every id that Do
// would reject as absent, so a run can report them all before it starts.
func (p *Provider) Missing(ids []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		rw, turn, err := p.resolve(id, nil)
		if err != nil || (rw.turns && turn > len(rw.choices[0])) {
			out = append(out, id)
		}
	}
	return out
}

// IDs lists the file's ids in file order.
func (p *Provider) IDs() []string { return append([]string(nil), p.order...) }

// Probe reports what the file holds.
func (p *Provider) Probe(context.Context) (provider.Capabilities, error) {
	turns := 0
	for _, rw := range p.rows {
		if rw.turns && len(rw.choices[0]) > turns {
			turns = len(rw.choices[0])
		}
	}
	note := fmt.Sprintf("%s: %d outputs", p.path, len(p.rows))
	if turns > 1 {
		note += fmt.Sprintf(", up to %d turns each", turns)
	}
	return provider.Capabilities{Chat: true, Completions: true, Notes: []string{note, "echo logprobs: an outputs file holds no scores"}}, nil
}

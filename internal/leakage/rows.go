package leakage

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// Doc is one row of a data set as the checks see it.
type Doc struct {
	Split string `json:"split,omitempty"` // "train", "test", a benchmark name, …
	Line  int    `json:"line"`            // 1-based line in the file
	ID    string `json:"id"`              // the row's id field, or "line N"
	Text  string `json:"text"`            // the fields that count, joined by newlines
	Raw   []byte `json:"-"`               // the line as read (splitting writes it back unchanged)
	// Parts are the texts of Text one field (or chat message) at a time, so
	// that a test prompt copied into one field of a training row is found
	// although the row holds other fields too. Empty for plain-text rows.
	Parts []Part `json:"-"`
}

// Part is the text of one field of a row.
type Part struct {
	Field  string // "instruction", or "messages:user" for a chat message
	Text   string
	Prompt bool // the field asks rather than answers: instruction, input, question, prompt, user turns, …
}

// PlainField names the whole line of a plain-text row in reports.
const PlainField = "(line)"

// DefaultFields are the text fields read when ReadOptions.Fields is empty,
// in the order their text is joined: every text field of the common shapes
// (plain text, chat messages or ShareGPT conversations, Alpaca, Dolly,
// prompt/completion, question/answer, preference pairs). A row with none of
// them is read through all of its top-level string fields.
var DefaultFields = []string{"system", "instruction", "input", "context", "prompt", "question", "query", "problem",
	"text", "messages", "conversations", "output", "completion", "response", "answer", "solution", "chosen", "rejected"}

// promptFields hold the asking side of an item; the rest of DefaultFields
// hold answers (or, for system, a preamble shared by many rows).
var promptFields = map[string]bool{"instruction": true, "input": true, "context": true, "prompt": true,
	"question": true, "query": true, "problem": true, "text": true}

// promptRoles are the chat roles that ask.
var promptRoles = map[string]bool{"user": true, "human": true}

// FieldRank orders field names as DefaultFields does, others after them by
// name; chat parts ("messages:user") sort under their field.
func FieldRank(a, b string) int {
	ra, rb := fieldRank(a), fieldRank(b)
	if ra != rb {
		return ra - rb
	}
	return strings.Compare(a, b)
}

func fieldRank(f string) int {
	name, _, _ := strings.Cut(f, ":")
	for i, d := range DefaultFields {
		if d == name {
			return i
		}
	}
	return len(DefaultFields)
}

// ReadOptions says how rows become text.
type ReadOptions struct {
	// Format is "auto" (JSON object per line when the first non-blank byte is
	// '{', else plain text), "jsonl" or "text" (one document per line).
	Format string
	// Fields lists the JSON fields whose text counts, in order. A chat field
	// may name its roles after a colon, joined by '+': "messages:user+assistant".
	// Empty means every field of DefaultFields the row has (chat messages in
	// all roles), else every top-level string field in key order.
	Fields []string
	// IDField names the field holding a row id; default "id" when present.
	IDField string
	// KeepRaw keeps each line's bytes in Doc.Raw (splitting needs them).
	KeepRaw bool
}

// ParseFields splits a --fields flag such as "instruction,output" or
// "messages:user+assistant" into ReadOptions.Fields.
func ParseFields(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// fieldSpec is one parsed entry of ReadOptions.Fields.
type fieldSpec struct {
	name  string
	roles map[string]bool // for chat fields; nil = all roles
}

func parseFieldSpecs(fields []string) []fieldSpec {
	var out []fieldSpec
	for _, f := range fields {
		name, roles, ok := strings.Cut(f, ":")
		fs := fieldSpec{name: name}
		if ok {
			fs.roles = map[string]bool{}
			for _, r := range strings.Split(roles, "+") {
				fs.roles[strings.TrimSpace(r)] = true
			}
		}
		out = append(out, fs)
	}
	return out
}

// OpenFile opens path for ReadDocs, decompressing .gz files.
func OpenFile(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(path, ".gz") {
		return f, nil
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{gz, f}, nil
}

// ReadDocs streams the rows of r (named name in errors) to each, one at a
// time, in file order. Blank lines are skipped. Only one line is held.
func ReadDocs(r io.Reader, name string, opt ReadOptions, each func(Doc) error) error {
	specs := parseFieldSpecs(opt.Fields)
	return readLines(r, name, opt.Format, func(line int, b []byte, format string) error {
		d, err := parseDoc(b, line, format, specs, opt)
		if err != nil {
			return fmt.Errorf("%s line %d: %w", name, line, err)
		}
		return each(d)
	})
}

// readLines calls each with every non-blank line (valid until the next
// call), its 1-based number and the resolved format: "auto" becomes jsonl
// when the first non-blank byte of the file is '{', else text.
func readLines(r io.Reader, name, format string, each func(line int, b []byte, format string) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	if format == "" {
		format = "auto"
	}
	switch format {
	case "auto", "text", "jsonl":
	default:
		return fmt.Errorf("%s: unknown format %q (use auto, jsonl or text)", name, format)
	}
	line := 0
	for {
		b, err := readLine(br)
		if len(b) > 0 || err == nil {
			line++
			if tb := bytes.TrimSpace(b); len(tb) > 0 {
				if format == "auto" {
					format = "text"
					if tb[0] == '{' {
						format = "jsonl"
					}
				}
				if cerr := each(line, b, format); cerr != nil {
					return cerr
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s line %d: %w", name, line+1, err)
		}
	}
}

// parseDoc turns one non-blank line into a Doc.
func parseDoc(b []byte, line int, format string, specs []fieldSpec, opt ReadOptions) (Doc, error) {
	tb := bytes.TrimSpace(b)
	d := Doc{Line: line}
	if opt.KeepRaw {
		d.Raw = append([]byte(nil), b...)
	}
	if format == "text" {
		d.Text = string(tb)
		d.ID = "line " + strconv.Itoa(line)
		d.Parts = []Part{{Field: PlainField, Text: d.Text, Prompt: true}}
		return d, nil
	}
	err := parseJSONRow(tb, specs, opt.IDField, &d)
	return d, err
}

// readLine returns the next line without its newline; the slice is valid
// until the next call.
func readLine(br *bufio.Reader) ([]byte, error) {
	b, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		long := append([]byte(nil), b...)
		for err == bufio.ErrBufferFull {
			b, err = br.ReadSlice('\n')
			long = append(long, b...)
		}
		b = long
	}
	b = bytes.TrimSuffix(b, []byte{'\n'})
	b = bytes.TrimSuffix(b, []byte{'\r'})
	return b, err
}

// chatMessage is an OpenAI message, or a ShareGPT one ({from, value}).
type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	From    string          `json:"from"`
	Value   json.RawMessage `json:"value"`
}

func parseJSONRow(b []byte, specs []fieldSpec, idField string, d *Doc) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("not a JSON object: %w (use --format text for plain text)", err)
	}
	if idField == "" {
		idField = "id"
	}
	if raw, ok := obj[idField]; ok {
		d.ID = scalarString(raw)
	}
	if d.ID == "" {
		d.ID = "line " + strconv.Itoa(d.Line)
	}
	if len(specs) == 0 {
		for _, f := range DefaultFields {
			if v, ok := obj[f]; ok && string(v) != "null" {
				specs = append(specs, fieldSpec{name: f})
			}
		}
		if len(specs) == 0 {
			keys := make([]string, 0, len(obj))
			for k, v := range obj {
				if k != idField && len(v) > 0 && v[0] == '"' {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			for _, k := range keys {
				specs = append(specs, fieldSpec{name: k})
			}
			if len(specs) == 0 {
				return fmt.Errorf("no text field: the row has none of %s, nor any other string field (name them with --fields)", strings.Join(DefaultFields, ", "))
			}
		}
	}
	var parts []string
	found := false
	for _, s := range specs {
		raw, ok := obj[s.name]
		if !ok {
			continue
		}
		found = true
		if len(raw) > 0 && raw[0] == '[' {
			var msgs []chatMessage
			if err := json.Unmarshal(raw, &msgs); err != nil {
				return fmt.Errorf("field %q: want a list of {role, content} messages: %w", s.name, err)
			}
			for _, m := range msgs {
				role, content := m.Role, m.Content
				if role == "" && m.From != "" {
					role, content = m.From, m.Value
				}
				if s.roles != nil && !s.roles[role] {
					continue
				}
				if t := contentText(content); t != "" {
					parts = append(parts, t)
					d.Parts = append(d.Parts, Part{Field: s.name + ":" + role, Text: t, Prompt: promptRoles[role]})
				}
			}
			continue
		}
		if t := scalarString(raw); t != "" {
			parts = append(parts, t)
			d.Parts = append(d.Parts, Part{Field: s.name, Text: t, Prompt: promptFields[s.name]})
		}
	}
	if !found {
		names := make([]string, len(specs))
		for i, s := range specs {
			names[i] = s.name
		}
		return fmt.Errorf("none of the fields %s is present (check --fields)", strings.Join(names, ", "))
	}
	d.Text = strings.Join(parts, "\n")
	return nil
}

// contentText reads an OpenAI message content: a string, or a list of parts
// of which the text parts count.
func contentText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	if raw[0] == '"' {
		return scalarString(raw)
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return ""
	}
	var out []string
	for _, p := range parts {
		if p.Text != "" {
			out = append(out, p.Text)
		}
	}
	return strings.Join(out, "\n")
}

func scalarString(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	return string(raw)
}

// Field returns the value of a top-level JSON field of a raw row as a string
// (numbers and booleans in their JSON spelling), and whether it is present.
func Field(raw []byte, name string) (string, bool, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", false, err
	}
	v, ok := obj[name]
	if !ok || string(v) == "null" {
		return "", false, nil
	}
	return scalarString(v), true, nil
}

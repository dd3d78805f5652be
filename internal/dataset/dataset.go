// Package dataset owns tunecheck's eval-set readers: JSONL, JSON arrays,
// CSV/TSV with a header and Parquet, each read into canonical rows with stable
// ids, a detected shape (chat `messages`, Alpaca, plain) and a fingerprint.
//
// The fingerprint is a sha256 over the canonical rows of the whole file —
// sorted-key compact JSON, one row per line — so that it changes when the data
// changes and never when only formatting, key order or the selection
// (limit/sample) does. Runs record it; comparisons across fingerprints are
// refused unless asked. docs/formats.md is the user-facing description.
package dataset

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Format names, as accepted by Options.Format and the plan's dataset.format.
const (
	FormatAuto    = "auto"
	FormatJSONL   = "jsonl"
	FormatJSON    = "json"
	FormatCSV     = "csv"
	FormatTSV     = "tsv"
	FormatParquet = "parquet"
)

// Formats lists the explicit formats in documentation order.
var Formats = []string{FormatJSONL, FormatJSON, FormatCSV, FormatTSV, FormatParquet}

// Shapes a dataset can have.
const (
	ShapeChat   = "chat"   // every row has `messages`: a list of {role, content}
	ShapeAlpaca = "alpaca" // every row has `instruction` and `output` (and optionally `input`)
	ShapePlain  = "plain"  // anything else: templates address fields by name
)

// Options select how a file is read and which rows are kept.
type Options struct {
	// Format is "", "auto" (from the extension) or one of Formats.
	Format string
	// IDField names the column holding row ids. Empty uses the first of
	// DefaultIDFields that every row has, with unique values, and derives ids
	// from content when none does.
	IDField string
	// ContentIDs derives ids from content even when a default id field exists.
	ContentIDs bool
	// Limit keeps the first N rows (0: all).
	Limit int
	// Sample draws N rows without replacement with a PCG seeded by Seed, kept
	// in file order (0: all). With Limit too, the sample is drawn from the
	// first Limit rows.
	Sample int
	Seed   uint64
	// Columns names the columns of a CSV/TSV file that has no header row
	// (MMLU's data files); every line is then a row.
	Columns []string
}

// Dataset is a file read into rows.
type Dataset struct {
	Path   string
	Format string
	Shape  string
	// Rows are the selected rows, in file order.
	Rows []Row
	// Fingerprint is "sha256:" + hex over the canonical rows of the whole file.
	Fingerprint string
	// Total is the number of rows in the file, before limit and sample.
	Total int
	// Selection says which rows were kept: "all", "limit 50", "sample 100 seed 7", ...
	Selection string
	// IDField is the field the ids were read from: Options.IDField, or the
	// default found in every row; "" when ids derive from content.
	IDField string
}

// DefaultIDFields are the fields whose values become row ids when no IDField
// is given, tried in this order; the first that every row has, with unique
// values, is used. Outputs keyed by a dataset's own ids (MT-Bench's
// question_id, HumanEval's task_id) then match its items without id_field.
var DefaultIDFields = []string{"id", "question_id", "task_id"}

// Row is one record.
type Row struct {
	// ID is the IDField value, or the first 12 hex digits of the sha256 of the
	// canonical row (with "-2", "-3"... for repeated identical rows).
	ID string
	// Line is where the row starts: the 1-based line in text formats, the
	// 1-based row number in Parquet.
	Line int
	// Fields hold JSON-like values: nil, bool, int64, float64, json.Number (an
	// integer beyond int64), string, []any, map[string]any. CSV values are strings.
	Fields map[string]any
	// Keys are the field names in file order.
	Keys []string
}

// Load reads path with opts. Every problem is a *Error naming the file, the
// line and the field; no row is silently dropped.
func Load(path string, opts Options) (*Dataset, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			msg = pe.Err.Error() // the path is already in File
		}
		return nil, &Error{File: path, Msg: "cannot read the file: " + msg, Hint: "check the dataset path (relative paths in a plan are resolved against the plan's directory)"}
	}
	return Decode(path, data, opts)
}

// Decode is Load on bytes already read; name is used for the format (by its
// extension) and in errors.
func Decode(name string, data []byte, opts Options) (*Dataset, error) {
	if opts.Limit < 0 {
		return nil, &Error{File: name, Field: "limit", Msg: fmt.Sprintf("limit is %d", opts.Limit), Hint: "use a positive number of rows, or 0 for all"}
	}
	if opts.Sample < 0 {
		return nil, &Error{File: name, Field: "sample", Msg: fmt.Sprintf("sample is %d", opts.Sample), Hint: "use a positive number of rows, or 0 for all"}
	}
	format, gz, err := resolveFormat(name, opts.Format)
	if err != nil {
		return nil, err
	}
	if gz {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, &Error{File: name, Msg: "not a gzip file: " + err.Error(), Hint: "remove the .gz suffix or compress the file with gzip"}
		}
		data, err = io.ReadAll(zr)
		if err != nil {
			return nil, &Error{File: name, Msg: "corrupt gzip data: " + err.Error()}
		}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &Error{File: name, Msg: "the file is empty", Hint: "a dataset needs at least one row"}
	}
	if len(opts.Columns) > 0 && format != FormatCSV && format != FormatTSV {
		return nil, &Error{File: name, Field: "columns", Msg: "columns name the fields of a headerless CSV or TSV file, not of " + format, Hint: "remove columns; JSON and Parquet rows name their own fields"}
	}
	var rows []Row
	switch format {
	case FormatJSONL:
		rows, err = readJSONL(name, data)
	case FormatJSON:
		rows, err = readJSONArray(name, data)
	case FormatCSV:
		rows, err = readCSV(name, data, ',', opts.Columns)
	case FormatTSV:
		rows, err = readCSV(name, data, '\t', opts.Columns)
	case FormatParquet:
		rows, err = readParquet(name, data)
	}
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, &Error{File: name, Msg: "the file has no rows", Hint: "a dataset needs at least one row"}
	}
	d := &Dataset{Path: name, Format: format, Total: len(rows)}
	canon := make([][]byte, len(rows))
	h := sha256.New()
	for i := range rows {
		canon[i] = canonicalRow(rows[i].Fields)
		h.Write(canon[i])
		h.Write([]byte{'\n'})
	}
	d.Fingerprint = "sha256:" + hex.EncodeToString(h.Sum(nil))
	d.IDField = opts.IDField
	if d.IDField == "" && !opts.ContentIDs {
		d.IDField = defaultIDField(rows)
	}
	if err := assignIDs(name, rows, canon, d.IDField); err != nil {
		return nil, err
	}
	if d.Shape, err = detectShape(name, rows); err != nil {
		return nil, err
	}
	d.Rows, d.Selection = selectRows(rows, opts)
	return d, nil
}

// resolveFormat picks the format from opts or the extension; gz reports a
// trailing .gz to decompress first.
func resolveFormat(name, format string) (string, bool, error) {
	base := strings.ToLower(filepath.Base(name))
	gz := strings.HasSuffix(base, ".gz")
	base = strings.TrimSuffix(base, ".gz")
	if format != "" && format != FormatAuto {
		if !slices.Contains(Formats, format) {
			return "", false, &Error{File: name, Field: "format", Msg: fmt.Sprintf("unknown format %q", format), Hint: "use one of auto, " + strings.Join(Formats, ", ")}
		}
		return format, gz, nil
	}
	switch filepath.Ext(base) {
	case ".jsonl", ".ndjson":
		return FormatJSONL, gz, nil
	case ".json":
		return FormatJSON, gz, nil
	case ".csv":
		return FormatCSV, gz, nil
	case ".tsv", ".tab":
		return FormatTSV, gz, nil
	case ".parquet", ".pq":
		return FormatParquet, gz, nil
	}
	return "", false, &Error{File: name, Field: "format", Msg: "cannot tell the format from the file name", Hint: "name the file .jsonl, .json, .csv, .tsv or .parquet (optionally .gz), or set the format explicitly"}
}

// assignIDs fills Row.ID over the whole file, so that an id never depends on
// the selection.
func assignIDs(name string, rows []Row, canon [][]byte, idField string) error {
	if idField == "" {
		seen := make(map[string]int, len(rows))
		for i := range rows {
			sum := sha256.Sum256(canon[i])
			id := hex.EncodeToString(sum[:6])
			seen[id]++
			if n := seen[id]; n > 1 {
				id = fmt.Sprintf("%s-%d", id, n)
			}
			rows[i].ID = id
		}
		return nil
	}
	first := make(map[string]int, len(rows))
	for i := range rows {
		v, ok := rows[i].Fields[idField]
		if !ok {
			return &Error{File: name, Line: rows[i].Line, Field: idField, Msg: "the id field is missing", Hint: fmt.Sprintf("give every row a value for %q, or remove id_field to derive ids from content", idField)}
		}
		id, err := idString(v)
		if err != nil {
			return &Error{File: name, Line: rows[i].Line, Field: idField, Msg: err.Error(), Hint: "ids must be non-empty strings or numbers"}
		}
		if prev, dup := first[id]; dup {
			return &Error{File: name, Line: rows[i].Line, Field: idField, Msg: fmt.Sprintf("duplicate id %q (also on line %d)", id, prev), Hint: "ids must be unique; fix the data or remove id_field to derive ids from content"}
		}
		first[id] = rows[i].Line
		rows[i].ID = id
	}
	return nil
}

// defaultIDField is the first of DefaultIDFields present in every row with
// a unique, valid id, or "" (content-derived ids) when none is.
func defaultIDField(rows []Row) string {
next:
	for _, f := range DefaultIDFields {
		seen := make(map[string]bool, len(rows))
		for i := range rows {
			v, ok := rows[i].Fields[f]
			if !ok {
				continue next
			}
			id, err := idString(v)
			if err != nil || seen[id] {
				continue next
			}
			seen[id] = true
		}
		return f
	}
	return ""
}

// selectRows applies Limit then Sample.
func selectRows(rows []Row, opts Options) ([]Row, string) {
	var parts []string
	if opts.Limit > 0 {
		if opts.Limit < len(rows) {
			rows = rows[:opts.Limit]
		}
		parts = append(parts, fmt.Sprintf("limit %d", opts.Limit))
	}
	if opts.Sample > 0 {
		if opts.Sample < len(rows) {
			// PCG's second word is fixed so that one user-facing seed is the
			// whole state; Perm then sort keeps the drawn rows in file order.
			r := rand.New(rand.NewPCG(opts.Seed, 0x74756e65636b))
			idx := r.Perm(len(rows))[:opts.Sample]
			slices.Sort(idx)
			picked := make([]Row, len(idx))
			for i, j := range idx {
				picked[i] = rows[j]
			}
			rows = picked
		}
		parts = append(parts, fmt.Sprintf("sample %d seed %d", opts.Sample, opts.Seed))
	}
	if len(parts) == 0 {
		return rows, "all"
	}
	return rows, strings.Join(parts, ", ")
}

// idString stringifies an id value: strings as they are, numbers in their
// shortest decimal form.
func idString(v any) (string, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case int64:
		s = strconv.FormatInt(x, 10)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case json.Number:
		s = string(x)
	case nil:
		return "", fmt.Errorf("the id is null")
	default:
		return "", fmt.Errorf("the id is %s", typeName(v))
	}
	if strings.TrimSpace(s) == "" {
		return "", fmt.Errorf("the id is empty")
	}
	return s, nil
}

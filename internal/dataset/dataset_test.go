package dataset

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/tunecheck/tunecheck/internal/shareddata"
)

// TestSharedFingerprints checks fingerprints, row counts and derived ids on
// real files against testdata/fingerprints.json, written by an independent
// Python implementation (testdata/fingerprint_reference.py).
func TestSharedFingerprints(t *testing.T) {
	raw, err := os.ReadFile("testdata/fingerprints.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Files map[string]struct {
			Rows        int      `json:"rows"`
			Fingerprint string   `json:"fingerprint"`
			FirstIDs    []string `json:"first_ids"`
		} `json:"files"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Files) == 0 {
		t.Fatal("no reference files")
	}
	for rel, want := range ref.Files {
		t.Run(rel, func(t *testing.T) {
			// The reference derives ids from content, as tunecheck does for
			// files without an id field; the others' ids come from it.
			d, err := Load(shareddata.Path(t, strings.Split(rel, "/")...), Options{ContentIDs: true})
			if err != nil {
				t.Fatal(err)
			}
			if d.Total != want.Rows || len(d.Rows) != want.Rows {
				t.Errorf("rows: total %d, kept %d; want %d", d.Total, len(d.Rows), want.Rows)
			}
			if d.Fingerprint != want.Fingerprint {
				t.Errorf("fingerprint %s, want %s", d.Fingerprint, want.Fingerprint)
			}
			for i, id := range want.FirstIDs {
				if d.Rows[i].ID != id {
					t.Errorf("row %d id %s, want %s", i, d.Rows[i].ID, id)
				}
			}
		})
	}
}

func TestSharedShapesAndKeys(t *testing.T) {
	tests := []struct {
		path    []string
		opts    Options
		format  string
		shape   string
		keys    []string
		firstID string
		line2   int // line of the second row
	}{
		{[]string{"benchmarks", "gsm8k", "test_first300.jsonl"}, Options{}, FormatJSONL, ShapePlain, []string{"question", "answer"}, "d975fa1ff1b1", 2},
		{[]string{"mtbench", "question.jsonl"}, Options{IDField: "question_id"}, FormatJSONL, ShapePlain, []string{"question_id", "category", "turns"}, "81", 2},
		{[]string{"benchmarks", "humaneval", "HumanEval.jsonl.gz"}, Options{IDField: "task_id"}, FormatJSONL, ShapePlain, []string{"task_id", "prompt", "entry_point", "canonical_solution", "test"}, "HumanEval/0", 2},
		// The BOM must not leak into the first column name.
		{[]string{"benchmarks", "truthfulqa", "v1", "TruthfulQA.csv"}, Options{}, FormatCSV, ShapePlain, []string{"Type", "Category", "Question", "Best Answer", "Correct Answers", "Incorrect Answers", "Source"}, "0ee627681853", 3},
		{[]string{"alpacaeval", "annotations", "gpt-3.5-turbo-1106.json"}, Options{}, FormatJSON, ShapePlain, nil, "", 0},
		{[]string{"mtbench", "judge_prompts.jsonl"}, Options{IDField: "name"}, FormatJSONL, ShapePlain, []string{"name", "type", "system_prompt", "prompt_template", "description", "category", "output_format"}, "pair-v2", 2},
	}
	for _, tt := range tests {
		t.Run(filepath.Join(tt.path...), func(t *testing.T) {
			d, err := Load(shareddata.Path(t, tt.path...), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if d.Format != tt.format || d.Shape != tt.shape {
				t.Errorf("format/shape %s/%s, want %s/%s", d.Format, d.Shape, tt.format, tt.shape)
			}
			if tt.keys != nil && !slices.Equal(d.Rows[0].Keys, tt.keys) {
				t.Errorf("keys %q, want %q", d.Rows[0].Keys, tt.keys)
			}
			if tt.firstID != "" && d.Rows[0].ID != tt.firstID {
				t.Errorf("first id %q, want %q", d.Rows[0].ID, tt.firstID)
			}
			if tt.line2 != 0 && d.Rows[1].Line != tt.line2 {
				t.Errorf("second row on line %d, want %d", d.Rows[1].Line, tt.line2)
			}
		})
	}
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The fingerprint depends on the data only: not on key order, whitespace,
// number spelling, container format or the selection.
func TestFingerprintInvariance(t *testing.T) {
	base := "{\"a\":1,\"b\":\"x<y\",\"c\":[1.5,true,null]}\n{\"a\":2,\"b\":\"é\",\"c\":[]}\n"
	same := map[string]string{
		"keys.jsonl":   "{\"c\":[1.5,true,null],\"b\":\"x<y\",\"a\":1}\n{\"b\":\"\\u00e9\",\"c\":[],\"a\":2}\n",
		"spaces.jsonl": "\n{ \"a\" : 1.0 , \"b\":\"x<y\",\"c\":[ 15e-1, true, null ] }\r\n\n{\"a\":2e0,\"b\":\"é\",\"c\":[]}",
		"array.json":   "[\n  {\"a\": 1, \"b\": \"x<y\", \"c\": [1.5, true, null]},\n  {\"a\": 2, \"b\": \"é\", \"c\": []}\n]\n",
		"bom.jsonl":    "\ufeff" + base,
		"data.ndjson":  base,
	}
	want, err := Decode("base.jsonl", []byte(base), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range same {
		got, err := Decode(name, []byte(content), Options{Limit: 1})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Fingerprint != want.Fingerprint {
			t.Errorf("%s: fingerprint %s, want %s", name, got.Fingerprint, want.Fingerprint)
		}
		if got.Rows[0].ID != want.Rows[0].ID {
			t.Errorf("%s: id %s, want %s", name, got.Rows[0].ID, want.Rows[0].ID)
		}
	}
	changed, err := Decode("c.jsonl", []byte(strings.Replace(base, "x<y", "x<z", 1)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if changed.Fingerprint == want.Fingerprint {
		t.Error("a changed value kept the fingerprint")
	}
	reordered, err := Decode("r.jsonl", []byte("{\"a\":2,\"b\":\"é\",\"c\":[]}\n{\"a\":1,\"b\":\"x<y\",\"c\":[1.5,true,null]}\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if reordered.Fingerprint == want.Fingerprint {
		t.Error("reordered rows kept the fingerprint (row order is part of the data)")
	}
}

func TestCSVAndTSV(t *testing.T) {
	csvData := "\ufeffid,question,answer\n1,\"Hello, world\",\"multi\nline\"\n2,x,\"say \"\"hi\"\"\"\n"
	d, err := Decode("q.csv", []byte(csvData), Options{IDField: "id"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Rows[0].ID != "1" || d.Rows[1].Line != 4 || d.Rows[0].Fields["answer"] != "multi\nline" || d.Rows[1].Fields["answer"] != `say "hi"` {
		t.Errorf("rows %+v", d.Rows)
	}
	if !slices.Equal(d.Rows[0].Keys, []string{"id", "question", "answer"}) {
		t.Errorf("keys %q", d.Rows[0].Keys)
	}
	// CSV values are strings, so the same table as JSONL strings fingerprints alike.
	j, err := Decode("q.jsonl", []byte(`{"id":"1","question":"Hello, world","answer":"multi\nline"}`+"\n"+`{"answer":"say \"hi\"","id":"2","question":"x"}`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if j.Fingerprint != d.Fingerprint {
		t.Errorf("CSV %s and JSONL %s fingerprints differ", d.Fingerprint, j.Fingerprint)
	}
	tsv, err := Decode("q.tsv", []byte("word\tstem\nit's \"quoted\"\tquot\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tsv.Format != FormatTSV || tsv.Rows[0].Fields["word"] != `it's "quoted"` {
		t.Errorf("tsv %+v", tsv.Rows)
	}
}

// MMLU's data files have no header; columns names their fields.
func TestHeaderlessCSV(t *testing.T) {
	cols := []string{"question", "A", "B", "C", "D", "answer"}
	d, err := Load(shareddata.Path(t, "benchmarks", "mmlu", "data", "dev", "abstract_algebra_dev.csv"), Options{Columns: cols})
	if err != nil {
		t.Fatal(err)
	}
	if d.Total != 5 || d.Rows[0].Line != 1 || !slices.Equal(d.Rows[0].Keys, cols) {
		t.Fatalf("dataset: %d rows, first on line %d, keys %q", d.Total, d.Rows[0].Line, d.Rows[0].Keys)
	}
	for _, r := range d.Rows {
		if a := r.Fields["answer"]; a != "A" && a != "B" && a != "C" && a != "D" {
			t.Errorf("line %d: answer %q is not a letter", r.Line, a)
		}
	}
	_, err = Decode("x.jsonl", []byte(`{"a":1}`), Options{Columns: cols})
	if err == nil || !strings.Contains(err.Error(), `field "columns": columns name the fields of a headerless CSV or TSV file, not of jsonl`) {
		t.Errorf("columns on JSONL: %v", err)
	}
	_, err = Decode("x.csv", []byte("1,2,3\n"), Options{Columns: []string{"a", "b"}})
	if err == nil || err.Error() != "x.csv:1: 3 fields, but columns names 2 (quote values that contain the separator, or fix the row so it has one value per column)" {
		t.Errorf("wrong field count: %v", err)
	}
}

func TestShapes(t *testing.T) {
	tests := []struct {
		name, data, shape string
	}{
		{"chat.jsonl", `{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},{"role":"assistant","content":[{"type":"text","text":"Hello"}]}]}`, ShapeChat},
		{"alpaca.jsonl", `{"instruction":"Add","input":"1 1","output":"2"}` + "\n" + `{"instruction":"Greet","output":"Hi"}`, ShapeAlpaca},
		{"plain.jsonl", `{"question":"q","answer":"a"}`, ShapePlain},
		{"toolcall.jsonl", `{"messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"tool_calls":[]}]}`, ShapeChat},
		{"instr-only.jsonl", `{"instruction":"q","answer":"a"}`, ShapePlain},
	}
	for _, tt := range tests {
		d, err := Decode(tt.name, []byte(tt.data), Options{})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if d.Shape != tt.shape {
			t.Errorf("%s: shape %s, want %s", tt.name, d.Shape, tt.shape)
		}
	}
}

func TestIDs(t *testing.T) {
	d, err := Decode("d.jsonl", []byte("{\"q\":\"a\"}\n{\"q\":\"b\"}\n{\"q\":\"a\"}\n{\"q\":\"a\"}\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{d.Rows[0].ID, d.Rows[1].ID, d.Rows[2].ID, d.Rows[3].ID}
	if len(ids[0]) != 12 || ids[2] != ids[0]+"-2" || ids[3] != ids[0]+"-3" || ids[1] == ids[0] {
		t.Errorf("ids %q", ids)
	}
	// Ids are assigned over the whole file: the third row keeps its "-2" id
	// when only it is selected.
	s, err := Decode("d.jsonl", []byte("{\"q\":\"a\"}\n{\"q\":\"b\"}\n{\"q\":\"a\"}\n{\"q\":\"a\"}\n"), Options{Sample: 1, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ids, s.Rows[0].ID) {
		t.Errorf("sampled id %q not among %q", s.Rows[0].ID, ids)
	}
	n, err := Decode("n.jsonl", []byte("{\"id\":7,\"q\":1}\n{\"id\":\"x\",\"q\":2}\n{\"id\":2.5,\"q\":3}\n"), Options{IDField: "id"})
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{n.Rows[0].ID, n.Rows[1].ID, n.Rows[2].ID}; !slices.Equal(got, []string{"7", "x", "2.5"}) {
		t.Errorf("ids %q", got)
	}
}

func TestSelection(t *testing.T) {
	var b strings.Builder
	for i := range 100 {
		b.WriteString(`{"i":` + strconv.Itoa(i) + "}\n")
	}
	data := []byte(b.String())
	all, err := Decode("s.jsonl", data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		opts      Options
		n         int
		selection string
	}{
		{Options{}, 100, "all"},
		{Options{Limit: 10}, 10, "limit 10"},
		{Options{Limit: 1000}, 100, "limit 1000"},
		{Options{Sample: 7, Seed: 7}, 7, "sample 7 seed 7"},
		{Options{Sample: 500, Seed: 7}, 100, "sample 500 seed 7"},
		{Options{Limit: 20, Sample: 5, Seed: 1}, 5, "limit 20, sample 5 seed 1"},
	}
	for _, tt := range tests {
		d, err := Decode("s.jsonl", data, tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Rows) != tt.n || d.Selection != tt.selection || d.Total != 100 || d.Fingerprint != all.Fingerprint {
			t.Errorf("%+v: %d rows, %q, total %d", tt.opts, len(d.Rows), d.Selection, d.Total)
		}
		for i := 1; i < len(d.Rows); i++ {
			if d.Rows[i].Line <= d.Rows[i-1].Line {
				t.Errorf("%+v: rows out of file order", tt.opts)
			}
		}
		if tt.opts.Limit > 0 && tt.opts.Limit <= 100 && d.Rows[len(d.Rows)-1].Line > tt.opts.Limit {
			t.Errorf("%+v: row from line %d beyond the limit", tt.opts, d.Rows[len(d.Rows)-1].Line)
		}
	}
	// Same seed, same sample; another seed, another sample.
	a, _ := Decode("s.jsonl", data, Options{Sample: 10, Seed: 42})
	a2, _ := Decode("s.jsonl", data, Options{Sample: 10, Seed: 42})
	c, _ := Decode("s.jsonl", data, Options{Sample: 10, Seed: 43})
	if !slices.Equal(lines(a), lines(a2)) || slices.Equal(lines(a), lines(c)) {
		t.Errorf("seed 42: %v and %v, seed 43: %v", lines(a), lines(a2), lines(c))
	}
}

func lines(d *Dataset) []int {
	var out []int
	for _, r := range d.Rows {
		out = append(out, r.Line)
	}
	return out
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, data string
		opts       Options
		want       string
	}{
		{"empty.jsonl", "\n  \n", Options{}, "empty.jsonl: the file is empty (a dataset needs at least one row)"},
		{"bad.jsonl", "{\"a\":1}\n{\"a\":2,}\n", Options{}, "bad.jsonl:2:8: malformed JSON: invalid character '}' looking for beginning of object key string (fix the JSON syntax at this column)"},
		{"cut.jsonl", "{\"a\":1}\n{\"a\":\"xy\n", Options{}, "cut.jsonl:2:9: malformed JSON: the value ends early (close every string, object and array on the same line)"},
		{"two.jsonl", "{\"a\":1} {\"a\":2}\n", Options{}, "two.jsonl:1:9: more than one JSON value on the line (JSONL holds exactly one object per line)"},
		{"list.jsonl", "{\"a\":1}\n[1,2]\n", Options{}, "list.jsonl:2:1: the row is an array, not an object (each row must be a JSON object of field names to values)"},
		{"str.jsonl", "\"text\"\n", Options{}, "str.jsonl:1:1: the row is a string, not an object (each row must be a JSON object of field names to values)"},
		{"utf8.jsonl", "{\"a\":1}\n{\"a\":\"h\xffi\"}\n", Options{}, "utf8.jsonl:2:8: invalid UTF-8 (re-encode the file as UTF-8)"},
		{"dupkey.jsonl", "{\"a\":1,\"a\":2}\n", Options{}, "dupkey.jsonl:1:8: field \"a\": duplicate key in the same row (keep one value per key)"},
		{"noid.jsonl", "{\"id\":1}\n{\"q\":2}\n", Options{IDField: "id"}, "noid.jsonl:2: field \"id\": the id field is missing (give every row a value for \"id\", or remove id_field to derive ids from content)"},
		{"dupid.jsonl", "{\"id\":1}\n\n{\"id\":1}\n", Options{IDField: "id"}, "dupid.jsonl:3: field \"id\": duplicate id \"1\" (also on line 1) (ids must be unique; fix the data or remove id_field to derive ids from content)"},
		{"nullid.jsonl", "{\"id\":null}\n", Options{IDField: "id"}, "nullid.jsonl:1: field \"id\": the id is null (ids must be non-empty strings or numbers)"},
		{"obj.json", "{\"a\":1}", Options{}, "obj.json:1:1: the file is an object, not an array of rows (a .json dataset is one array of objects; for one object per line name the file .jsonl)"},
		{"arr.json", "[\n {\"a\":1},\n 3\n]", Options{}, "arr.json:3:2: the row is a number, not an object (each row must be a JSON object of field names to values)"},
		{"arrsyntax.json", "[\n {\"a\":1},\n {\"a\" 2}\n]", Options{}, "arrsyntax.json:3:7: malformed JSON: invalid character '2' after object key (fix the JSON syntax at this column)"},
		{"trail.json", "[{\"a\":1}]\n[]", Options{}, "trail.json:2:1: data after the closing ] (a .json dataset is exactly one array)"},
		{"emptyarr.json", "[]", Options{}, "emptyarr.json: the file has no rows (a dataset needs at least one row)"},
		{"fields.csv", "a,b\n1,2\n3\n", Options{}, "fields.csv:3: 1 fields, but the header has 2 (quote values that contain the separator, or fix the row so it has one value per column)"},
		{"quote.csv", "a,b\n1,\"2\n", Options{}, "quote.csv:2:6: malformed CSV: extraneous or missing \" in quoted-field (a quoted field must end with a quote; double quotes inside quoted fields)"},
		{"utf8.csv", "a,b\n1,\xfe\n", Options{}, "utf8.csv:2: field \"b\": invalid UTF-8 (re-encode the file as UTF-8)"},
		{"dupcol.csv", "a,b,a\n1,2,3\n", Options{}, "dupcol.csv:1: field \"a\": column name repeated (columns 1 and 3) (give every column a distinct name)"},
		{"header.csv", "a,b\n", Options{}, "header.csv: the file has no rows (a dataset needs at least one row)"},
		{"data.txt", "x", Options{}, "data.txt: field \"format\": cannot tell the format from the file name (name the file .jsonl, .json, .csv, .tsv or .parquet (optionally .gz), or set the format explicitly)"},
		{"d.jsonl", "{}", Options{Format: "xml"}, "d.jsonl: field \"format\": unknown format \"xml\" (use one of auto, jsonl, json, csv, tsv, parquet)"},
		{"d.jsonl", "{}", Options{Limit: -1}, "d.jsonl: field \"limit\": limit is -1 (use a positive number of rows, or 0 for all)"},
		{"chat.jsonl", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}\n{\"messages\":[{\"content\":\"hi\"}]}\n", Options{}, "chat.jsonl:2: field \"messages[0].role\": missing (a chat row has \"messages\": [{\"role\": \"user\", \"content\": \"...\"}, ...])"},
		{"chat2.jsonl", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}\n{\"prompt\":\"x\"}\n", Options{}, "chat2.jsonl:2: field \"messages\": missing, though the first row has it (a chat row has \"messages\": [{\"role\": \"user\", \"content\": \"...\"}, ...])"},
		{"chat3.jsonl", "{\"messages\":\"hi\"}\n", Options{}, "chat3.jsonl:1: field \"messages\": is a string, not a list (a chat row has \"messages\": [{\"role\": \"user\", \"content\": \"...\"}, ...])"},
		{"chat4.jsonl", "{\"messages\":[]}\n", Options{}, "chat4.jsonl:1: field \"messages\": the list is empty (a chat row has \"messages\": [{\"role\": \"user\", \"content\": \"...\"}, ...])"},
		{"chat5.jsonl", "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},3]}\n", Options{}, "chat5.jsonl:1: field \"messages[1]\": is a number, not an object (a chat row has \"messages\": [{\"role\": \"user\", \"content\": \"...\"}, ...])"},
		{"chat6.jsonl", "{\"messages\":[{\"role\":1,\"content\":\"a\"}]}\n", Options{}, "chat6.jsonl:1: field \"messages[0].role\": is a number, not a string (a chat row has \"messages\": [{\"role\": \"user\", \"content\": \"...\"}, ...])"},
		{"chat7.jsonl", "{\"messages\":[{\"role\":\"user\",\"content\":{}}]}\n", Options{}, "chat7.jsonl:1: field \"messages[0].content\": is an object, not a string or a list of parts (a chat row has \"messages\": [{\"role\": \"user\", \"content\": \"...\"}, ...])"},
		{"chat8.jsonl", "{\"messages\":[{\"role\":\"user\"}]}\n", Options{}, "chat8.jsonl:1: field \"messages[0].content\": missing (a chat row has \"messages\": [{\"role\": \"user\", \"content\": \"...\"}, ...])"},
		{"alpaca2.jsonl", "{\"instruction\":\"a\",\"input\":[1],\"output\":\"b\"}\n", Options{}, "alpaca2.jsonl:1: field \"input\": is a list, not a string (an Alpaca input is a string (empty when there is none))"},
		{"alpaca3.jsonl", "{\"instruction\":\"a\",\"output\":\"b\"}\n{\"instruction\":true,\"output\":\"b\"}\n", Options{}, "alpaca3.jsonl:2: field \"instruction\": is a boolean, not a string (an Alpaca row has string instruction and output fields (input is optional))"},
		{"objid.jsonl", "{\"id\":{\"a\":1}}\n", Options{IDField: "id"}, "objid.jsonl:1: field \"id\": the id is an object (ids must be non-empty strings or numbers)"},
		{"emptyid.jsonl", "{\"id\":\" \"}\n", Options{IDField: "id"}, "emptyid.jsonl:1: field \"id\": the id is empty (ids must be non-empty strings or numbers)"},
		{"null.jsonl", "null\n", Options{}, "null.jsonl:1:1: the row is null, not an object (each row must be a JSON object of field names to values)"},
		{"alpaca.jsonl", "{\"instruction\":\"a\",\"output\":\"b\"}\n{\"instruction\":\"a\",\"output\":3}\n", Options{}, "alpaca.jsonl:2: field \"output\": is a number, not a string (an Alpaca row has string instruction and output fields (input is optional))"},
		{"x.parquet", "not parquet", Options{}, "x.parquet: not a readable Parquet file"},
		{"x.jsonl.gz", "not gzip", Options{}, "x.jsonl.gz: not a gzip file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.name, []byte(tt.data), tt.opts)
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T), want a *dataset.Error", err, err)
			}
			if got := err.Error(); got != tt.want && !(strings.HasSuffix(tt.name, "parquet") || strings.HasSuffix(tt.name, ".gz")) {
				t.Errorf("error\n got %s\nwant %s", got, tt.want)
			} else if !strings.HasPrefix(got, tt.want) {
				t.Errorf("error\n got %s\nwant prefix %s", got, tt.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.jsonl"), Options{})
	var de *Error
	if !errors.As(err, &de) || !strings.HasSuffix(err.Error(), "nope.jsonl: cannot read the file: no such file or directory (check the dataset path (relative paths in a plan are resolved against the plan's directory))") {
		t.Fatalf("error %v", err)
	}
}

type pqRow struct {
	ID    string   `parquet:"id"`
	Score float64  `parquet:"score"`
	N     int32    `parquet:"n"`
	Tags  []string `parquet:"tags,list"`
	Ok    bool     `parquet:"ok"`
}

// Parquet rows read as the same canonical data as the equivalent JSONL.
func TestParquet(t *testing.T) {
	rows := []pqRow{
		{ID: "a", Score: 0.25, N: 3, Tags: []string{"x", "y"}, Ok: true},
		{ID: "b", Score: 2, N: -1, Tags: []string{}, Ok: false},
	}
	p := filepath.Join(t.TempDir(), "rows.parquet")
	if err := parquet.WriteFile(p, rows); err != nil {
		t.Fatal(err)
	}
	d, err := Load(p, Options{IDField: "id"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Format != FormatParquet || d.Total != 2 || d.Rows[1].ID != "b" || d.Rows[1].Line != 2 {
		t.Fatalf("dataset %+v", d)
	}
	if !slices.Equal(d.Rows[0].Keys, []string{"id", "score", "n", "tags", "ok"}) {
		t.Errorf("keys %q", d.Rows[0].Keys)
	}
	j, err := Decode("rows.jsonl", []byte(`{"id":"a","score":0.25,"n":3,"tags":["x","y"],"ok":true}`+"\n"+`{"id":"b","score":2.0,"n":-1,"tags":[],"ok":false}`), Options{IDField: "id"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Fingerprint != j.Fingerprint {
		t.Errorf("parquet rows %s\n  vs jsonl %s", CanonicalJSON(d.Rows[1].Fields), CanonicalJSON(j.Rows[1].Fields))
	}
}

func TestKeyOrder(t *testing.T) {
	src := `{"z":{"k":"}"},"a\"q":["]",{"y":1}], "m" : -1.5e3 ,"\u00e9":null}` + "\n"
	for _, name := range []string{"k.jsonl", "k.json"} {
		data := src
		if name == "k.json" {
			data = "[\n" + src + ",\n" + src + "]"
		}
		d, err := Decode(name, []byte(data), Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range d.Rows {
			if want := []string{"z", `a"q`, "m", "é"}; !slices.Equal(r.Keys, want) {
				t.Errorf("%s line %d: keys %q, want %q", name, r.Line, r.Keys, want)
			}
		}
	}
}

package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/invopop/jsonschema"
	validator "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/tunecheck/tunecheck/internal/gate"
)

// schemaPath is the published JSON Schema of results.json.
var schemaPath = filepath.Join("..", "..", "docs", "results.schema.json")

// schemaID is the schema's $id: where it is published.
const schemaID = "https://github.com/tunecheck/tunecheck/docs/results.schema.json"

// resultsSchema generates the JSON Schema of a results.json document
// (tunecheck.results/v2) from the Go types, with their doc comments as
// descriptions. Every field without omitempty is required, and no other
// keys are allowed: the schema describes exactly what this tunecheck
// writes. What the types cannot say is added here: the schema's name, and
// the values of the string enumerations.
func resultsSchema() ([]byte, error) {
	r := &jsonschema.Reflector{RequiredFromJSONSchemaTags: false}
	// AddGoComments names a directory's package by joining the base and the
	// directory: internal/report and ../stats give internal/stats.
	for _, dir := range []string{".", "../stats", "../gate"} {
		if err := r.AddGoComments("github.com/tunecheck/tunecheck/internal/report", dir, jsonschema.WithFullComment()); err != nil {
			return nil, err
		}
	}
	s := r.Reflect(&Report{})
	s.ID = schemaID
	s.Title = "tunecheck results"
	s.Description = "results.json as tunecheck run, report, compare and show write it (schema " + Schema + "). Reference: docs/results.md."
	def := func(name string) *jsonschema.Schema {
		d, ok := s.Definitions[name]
		if !ok {
			panic("results schema: no definition " + name)
		}
		return d
	}
	prop := func(def *jsonschema.Schema, name string) *jsonschema.Schema {
		p, ok := def.Properties.Get(name)
		if !ok {
			panic("results schema: no property " + name)
		}
		return p
	}
	prop(def("Report"), "schema").Const = Schema
	prop(def("Metric"), "direction").Enum = []any{"higher", "lower", "neutral"}
	prop(def("Outcome"), "status").Enum = []any{StatusOK, StatusFailed, StatusEmpty, StatusNoReference}
	prop(def("Example"), "kind").Enum = []any{"worst", "regressed", "fixed"}
	statuses := []any{string(gate.Pass), string(gate.Fail), string(gate.Inconclusive), string(gate.Error)}
	prop(def("Result"), "status").Enum = statuses
	prop(def("Report"), "verdict").Enum = statuses
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// docs/results.schema.json is generated from the types; go test -update
// rewrites it, and the test fails while it is stale.
func TestResultsSchemaUpToDate(t *testing.T) {
	got, err := resultsSchema()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(schemaPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: the report types changed; run go test ./internal/report -update and review the diff", schemaPath)
	}
}

func compileSchema(t *testing.T) *validator.Schema {
	t.Helper()
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := validator.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := validator.NewCompiler()
	if err := c.AddResource(schemaID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(schemaID)
	if err != nil {
		t.Fatalf("docs/results.schema.json does not compile: %v", err)
	}
	return s
}

func validate(t *testing.T, s *validator.Schema, data []byte) error {
	t.Helper()
	v, err := validator.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(v)
}

// The golden results.json, and documents with every kind of record and
// with hostile text, are valid by the published schema.
func TestResultsValidateAgainstSchema(t *testing.T) {
	s := compileSchema(t)
	golden, err := os.ReadFile(filepath.Join("testdata", "report.json.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(t, s, golden); err != nil {
		t.Errorf("report.json.golden: %v", err)
	}

	r := fixture()
	r.Groups = []Task{{Name: "all", Type: "group", Tasks: []string{"qa"}, Items: 30, Metrics: r.Tasks[0].Metrics, PerModel: r.Tasks[0].PerModel, Comparison: r.Tasks[0].Comparison}}
	r.Tasks[0].MetricInfo = map[string]Metric{"token_f1": {Direction: "higher", Test: "wilcoxon-exact"}, "bleu": {Direction: "higher", Corpus: true, Test: "bootstrap"}}
	r.Tasks[0].Records = append(r.Tasks[0].Records,
		Record{ID: "30", Outcomes: map[string]Outcome{"base": {Status: StatusNoReference, Scores: map[string]float64{"length": 12}},
			"tuned": {Status: StatusOK, Scores: map[string]float64{"bleu": 17.1}, Stats: map[string][]float64{"bleu": {12, 20, 7, 3}}}}})
	cost := 0.25
	r.Models[1].Cost = &cost
	r.Sections[0].Data = json.RawMessage(`{"healthy": true, "steps": [1, 2]}`)
	r.Extra = json.RawMessage(`{"ci": "github"}`)
	for name, rep := range map[string]*Report{"records": r, "hostile": hostileExtras()} {
		var b bytes.Buffer
		if err := JSON(&b, rep); err != nil {
			t.Fatal(err)
		}
		if err := validate(t, s, b.Bytes()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The schema can fail: it requires the schema name and the tool version,
// knows the schema's value, and refuses unknown keys and wrong types.
func TestResultsSchemaRejects(t *testing.T) {
	s := compileSchema(t)
	var b bytes.Buffer
	if err := JSON(&b, fixture()); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(map[string]any){
		"no schema":       func(d map[string]any) { delete(d, "schema") },
		"no tool_version": func(d map[string]any) { delete(d, "tool_version") },
		"schema v1":       func(d map[string]any) { d["schema"] = SchemaV1 },
		"unknown key":     func(d map[string]any) { d["surprise"] = 1 },
		"verdict":         func(d map[string]any) { d["verdict"] = "maybe" },
		"seed type":       func(d map[string]any) { d["seed"] = "1234" },
		"record status": func(d map[string]any) {
			task := d["tasks"].([]any)[0].(map[string]any)
			rec := task["records"].([]any)[0].(map[string]any)
			rec["outcomes"].(map[string]any)["base"].(map[string]any)["status"] = "meh"
		},
		"no item id": func(d map[string]any) {
			task := d["tasks"].([]any)[0].(map[string]any)
			delete(task["flipped"].([]any)[0].(map[string]any), "id")
		},
	} {
		c := deepCopy(t, doc)
		edit(c)
		data, _ := json.Marshal(c)
		if err := validate(t, s, data); err == nil {
			t.Errorf("%s: a document the schema should refuse validates", name)
		}
	}
	// The required list names both, as the documentation says.
	schema, _ := os.ReadFile(schemaPath)
	var top struct {
		Defs map[string]struct {
			Required []string `json:"required"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(schema, &top); err != nil {
		t.Fatal(err)
	}
	req := strings.Join(top.Defs["Report"].Required, " ")
	for _, want := range []string{"schema", "tool_version"} {
		if !strings.Contains(" "+req+" ", " "+want+" ") {
			t.Errorf("Report requires %q, not %s", req, want)
		}
	}
}

func deepCopy(t *testing.T, d map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

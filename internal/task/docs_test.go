package task

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tunecheck/tunecheck/internal/plan"
)

var update = flag.Bool("update", false, "rewrite the task-type parts of docs/plan.md and docs/tunecheck.schema.json")

// writeOrFail rewrites path with want under -update, else fails the test.
func writeOrFail(t *testing.T, path string, want []byte, what string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s: %s differs from the task-type registry; run go test ./internal/task -update", path, what)
}

// The task-type reference in docs/plan.md is generated from Types(); this
// test fails when they differ, and -update rewrites the text between the
// markers (and nothing else in the file).
func TestPlanDocsMatchTypes(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "plan.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	begin, end := "<!-- tasktypes:begin -->\n", "<!-- tasktypes:end -->"
	i, j := bytes.Index(data, []byte(begin)), bytes.Index(data, []byte(end))
	if i < 0 || j < i {
		t.Fatalf("%s: no %q … %q section to hold the generated task-type reference", path, strings.TrimSpace(begin), end)
	}
	i += len(begin)
	gen := TypesMarkdown()
	if string(data[i:j]) == gen {
		return
	}
	out := append(append(append([]byte{}, data[:i]...), gen...), data[j:]...)
	writeOrFail(t, path, out, "the task-type reference")
}

// docs/tunecheck.schema.json's task-type parts (the `type` enum, the types'
// keys, the per-type conditions) are generated from Types(); the rest of
// the schema is written by hand and checked against the decoder by
// internal/plan's TestSchemaCoversPlan.
func TestSchemaMatchesTypes(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "tunecheck.schema.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := SchemaWithTypes(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, gen) {
		writeOrFail(t, path, gen, "the task-type part of the schema")
	}
	// Regenerating is idempotent, and a schema's other parts survive byte for byte.
	again, err := SchemaWithTypes(gen)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, gen) {
		t.Error("SchemaWithTypes is not idempotent")
	}
}

func TestSchemaWithTypesKeepsTheRest(t *testing.T) {
	in := []byte(`{
  "z": "first <kept> & unescaped",
  "$defs": {
    "task": {
      "properties": {
        "name": {
          "type": "string"
        },
        "choices": {
          "type": "string",
          "description": "old"
        }
      },
      "b": [
        1.50,
        true,
        null,
        {}
      ]
    }
  },
  "a": "last"
}
`)
	out, err := SchemaWithTypes(in)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{
		"{\n  \"z\": \"first <kept> & unescaped\",\n  \"$defs\": {\n    \"task\": {\n      \"properties\": {\n        \"name\": {\n          \"type\": \"string\"\n        },\n        \"choices\": {\n          \"type\": \"string\",\n          \"description\": \"multiple_choice: ",
		"\"b\": [\n        1.50,\n        true,\n        null,\n        {}\n      ],\n      \"allOf\": [",
		"\"turns\": {\n          \"type\": \"string\",\n          \"description\": \"generate: ",
		"\"enum\": [\n            \"" + strings.Join(TypeNames(), "\",\n            \"") + "\"\n          ]",
		"\n  \"a\": \"last\"\n}\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

// recorder is a plan.Reporter that keeps the problems reported.
type recorder []string

func (r *recorder) Errorf(path, fix, format string, args ...any) {
	*r = append(*r, path+": "+fmt.Sprintf(format, args...))
}

func (r *recorder) Missing(parent, key, fix string) {
	*r = append(*r, parent+"."+key+": missing")
}

// setKey sets the string task field whose yaml name is key.
func setKey(t *testing.T, task *plan.Task, key, value string) {
	t.Helper()
	v := reflect.ValueOf(task).Elem()
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
		if name == key {
			if v.Field(i).Kind() != reflect.String {
				t.Fatalf("task key %q is not a string field; the schema generator describes type keys as strings", key)
			}
			v.Field(i).SetString(value)
			return
		}
	}
	t.Fatalf("task key %q is not a plan.Task key", key)
}

// The schema says what the types' Check methods say: a task with its type's
// keys passes, one without a required key fails, and one with another
// type's key fails. Otherwise editors would flag plans the loader accepts,
// or accept plans it refuses.
func TestSchemaConditionsAgreeWithCheck(t *testing.T) {
	types := sortedTypes()
	for _, typ := range types {
		base := func() *plan.Task {
			task := &plan.Task{Name: "t", Type: typ.Name(), Prompt: plan.Prompt{Template: "{{ q }}"}}
			for _, k := range typ.Keys() {
				setKey(t, task, k.Name, "f")
			}
			return task
		}
		var r recorder
		typ.Check(base(), "tasks[0]", &r)
		if len(r) > 0 {
			t.Errorf("%s with all its keys set: Check reports %v", typ.Name(), r)
		}
		for _, k := range typ.Keys() {
			if !k.Required {
				continue
			}
			task := base()
			setKey(t, task, k.Name, "")
			var r recorder
			typ.Check(task, "tasks[0]", &r)
			if len(r) == 0 {
				t.Errorf("%s without required key %s: Check reports nothing, but the schema requires it", typ.Name(), k.Name)
			}
		}
		for _, other := range types {
			if other.Name() == typ.Name() {
				continue
			}
			for _, k := range other.Keys() {
				task := base()
				setKey(t, task, k.Name, "f")
				var r recorder
				typ.Check(task, "tasks[0]", &r)
				if len(r) == 0 {
					t.Errorf("%s with %s's key %s: Check reports nothing, but the schema refuses it", typ.Name(), other.Name(), k.Name)
				}
			}
		}
	}
}

func TestTypesMarkdownNamesEveryType(t *testing.T) {
	md := TypesMarkdown()
	for name, typ := range Types() {
		if typ.Name() != name {
			t.Errorf("type registered as %q calls itself %q", name, typ.Name())
		}
		if !strings.Contains(md, "| `"+name+"` |") || !strings.Contains(md, typ.Doc()) {
			t.Errorf("the reference lacks type %s or its doc", name)
		}
		for _, k := range typ.Keys() {
			if !strings.Contains(md, "| `"+k.Name+"` |") {
				t.Errorf("the reference lacks %s's key %s", name, k.Name)
			}
		}
	}
	c := StarterComment("  ")
	for name, typ := range Types() {
		if !strings.Contains(c, name) || !strings.Contains(c, typ.Doc()) {
			t.Errorf("the starter comment lacks %s", name)
		}
	}
	for _, line := range strings.SplitAfter(strings.TrimSuffix(c, "\n"), "\n") {
		if !strings.HasPrefix(line, "  # ") {
			t.Errorf("starter comment line %q is not an indented comment", line)
		}
	}
}

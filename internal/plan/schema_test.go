package plan

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestSchemaCoversPlan: docs/tunecheck.schema.json names every key the
// decoder accepts and no other, and every object in it is closed
// (additionalProperties: false) so editors flag typos as the loader does.
// testdata/schema_check.py validates the example plans against the schema
// with Python's jsonschema.
func TestSchemaCoversPlan(t *testing.T) {
	raw, err := os.ReadFile("../../docs/tunecheck.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if schema["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v, want draft 2020-12", schema["$schema"])
	}
	defs, _ := schema["$defs"].(map[string]any)
	var walk func(path string, typ reflect.Type, node map[string]any)
	walk = func(path string, typ reflect.Type, node map[string]any) {
		// Follow $ref into $defs.
		if ref, ok := node["$ref"].(string); ok {
			def, found := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
			if !found {
				t.Errorf("%s: $ref %s not in $defs", path, ref)
				return
			}
			node = def
		}
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		switch typ.Kind() {
		case reflect.Slice:
			items, ok := node["items"].(map[string]any)
			if !ok {
				t.Errorf("%s: schema has no items for a list", path)
				return
			}
			walk(path+"[]", typ.Elem(), items)
		case reflect.Struct:
			props, _ := node["properties"].(map[string]any)
			if node["additionalProperties"] != false {
				t.Errorf("%s: object is not closed (additionalProperties: false)", path)
			}
			_, names := yamlFields(typ)
			for _, name := range names {
				sub, ok := props[name].(map[string]any)
				if !ok {
					t.Errorf("%s: key %q missing from the schema", path, name)
					continue
				}
				if sub["description"] == nil && sub["$ref"] == nil {
					t.Errorf("%s.%s: no description", path, name)
				}
				f, _ := typ.FieldByNameFunc(func(n string) bool {
					sf, _ := typ.FieldByName(n)
					tag, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
					return tag == name
				})
				walk(join(path, name), f.Type, sub)
			}
			for name := range props {
				if !slices.Contains(names, name) {
					t.Errorf("%s: schema key %q is not a plan key", path, name)
				}
			}
		}
	}
	walk("", reflect.TypeFor[Plan](), schema)
}

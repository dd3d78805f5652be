package task

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tunecheck/tunecheck/internal/plan"
)

// The task-type reference is generated from Types(), so that docs/plan.md,
// docs/tunecheck.schema.json and `tunecheck init` say what the registry
// says (docs_test.go holds the files to it). Adding a type touches its own
// file, its test and the regenerated docs.

// sortedTypes returns the registered types by name.
func sortedTypes() []Type {
	types := Types()
	out := make([]Type, 0, len(types))
	for _, n := range TypeNames() {
		out = append(out, types[n])
	}
	return out
}

// scoredBy says what scores a type's tasks: its own scorers' metrics, or
// the plan's scorers.
func scoredBy(t Type) string {
	own := t.Scorers(Spec{})
	if own == nil {
		return "the task's `scorers`"
	}
	var names []string
	for _, s := range own {
		for _, m := range s.Metrics() {
			names = append(names, "`"+m.Name+"`")
		}
	}
	return strings.Join(names, ", ")
}

func code(list []string) string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = "`" + s + "`"
	}
	return strings.Join(out, ", ")
}

// TypesMarkdown is the task-type reference of docs/plan.md: each type with
// its description, its stages and what scores it, then every key a type
// reads beyond the common task keys.
func TypesMarkdown() string {
	var b strings.Builder
	b.WriteString("<!-- generated from internal/task's registry by `go test ./internal/task -update`; edit the types, not this text -->\n\n")
	b.WriteString("A task's `type` says how its items are asked and scored. Every type reads the common task keys above; " +
		"the keys below belong to one type each, and setting one on a task of another type is an error.\n\n")
	b.WriteString("| type | stages | scored by | what |\n|---|---|---|---|\n")
	types := sortedTypes()
	for _, t := range types {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", t.Name(), code(t.Stages(Spec{}, nil)), scoredBy(t), t.Doc())
	}
	b.WriteString("\nEvery item goes through its task's stages in order, and each stage's requests may use the model's answers " +
		"to the stages before it. The stages listed are those of a task that sets none of its type's optional keys; " +
		"a key's description says when it adds stages. Results are stored per stage, so a run stopped in any stage resumes there.\n\n")
	b.WriteString("| type | key | required | meaning |\n|---|---|---|---|\n")
	var none []string
	for _, t := range types {
		keys := t.Keys()
		if len(keys) == 0 {
			none = append(none, t.Name())
		}
		for _, k := range keys {
			req := "no"
			if k.Required {
				req = "yes"
			}
			fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", t.Name(), k.Name, req, k.Doc)
		}
	}
	if len(none) > 0 {
		verb := "reads no keys of its own"
		if len(none) > 1 {
			verb = "read no keys of their own"
		}
		fmt.Fprintf(&b, "\n%s %s.\n", code(none), verb)
	}
	return b.String()
}

// StarterComment is the comment `tunecheck init` writes above the starter
// plan's tasks: the registered types, one line each, prefixed by indent.
func StarterComment(indent string) string {
	types := sortedTypes()
	width := 0
	for _, t := range types {
		width = max(width, len(t.Name()))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s# A task's type (default %s) says how it is asked and scored:\n", indent, plan.DefaultTaskType)
	for _, t := range types {
		fmt.Fprintf(&b, "%s#   %-*s  %s\n", indent, width, t.Name(), t.Doc())
	}
	fmt.Fprintf(&b, "%s# docs/plan.md lists each type's keys (\"Task types\").\n", indent)
	return b.String()
}

// SchemaWithTypes returns the plan JSON Schema (docs/tunecheck.schema.json)
// with its task-type parts made from the registry: the enum and description
// of a task's `type`, the description of each type's keys (a key missing
// from the schema is added as a string), and the `allOf` conditions that
// require a type's required keys and refuse the keys of other types. The
// rest of the schema — every other key, its order and its prose — is kept
// as written; internal/plan's TestSchemaCoversPlan holds it to the decoder.
func SchemaWithTypes(schema []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(schema))
	dec.UseNumber()
	root, err := decodeOrdered(dec)
	if err != nil {
		return nil, fmt.Errorf("reading the schema: %w", err)
	}
	taskDef, _ := lookup(root, "$defs", "task").(*jsonObject)
	props, _ := lookup(taskDef, "properties").(*jsonObject)
	if props == nil {
		return nil, fmt.Errorf("the schema has no $defs.task.properties")
	}
	types := sortedTypes()

	typeProp, _ := props.get("type").(*jsonObject)
	if typeProp == nil {
		typeProp = &jsonObject{}
		props.set("type", typeProp)
	}
	var docs []string
	names := make([]any, len(types))
	for i, t := range types {
		names[i] = t.Name()
		docs = append(docs, t.Name()+": "+sentence(t.Doc()))
	}
	typeProp.set("type", "string")
	typeProp.set("enum", names)
	typeProp.set("default", plan.DefaultTaskType)
	typeProp.set("description", "Task type (docs/plan.md, Task types). "+strings.Join(docs, " "))

	owner := map[string]string{} // key → the type reading it
	for _, t := range types {
		for _, k := range t.Keys() {
			if prev, ok := owner[k.Name]; ok {
				return nil, fmt.Errorf("task key %q belongs to types %s and %s; a key belongs to one type", k.Name, prev, t.Name())
			}
			owner[k.Name] = t.Name()
			p, _ := props.get(k.Name).(*jsonObject)
			if p == nil {
				p = &jsonObject{}
				p.set("type", "string")
				props.set(k.Name, p)
			}
			p.set("description", t.Name()+": "+sentence(k.Doc))
		}
	}

	var allOf []any
	for _, t := range types {
		var required []any
		own := map[string]bool{}
		for _, k := range t.Keys() {
			own[k.Name] = true
			if k.Required {
				required = append(required, k.Name)
			}
		}
		refused := &jsonObject{}
		for _, k := range slices.Sorted(maps.Keys(owner)) {
			if !own[k] {
				refused.set(k, false)
			}
		}
		if len(required) == 0 && len(refused.keys) == 0 {
			continue
		}
		cond := &jsonObject{}
		cond.set("properties", obj("type", obj("const", t.Name())))
		if t.Name() != plan.DefaultTaskType {
			// A task without `type` is of the default type.
			cond.set("required", []any{"type"})
		}
		then := &jsonObject{}
		if len(required) > 0 {
			then.set("required", required)
		}
		if len(refused.keys) > 0 {
			then.set("properties", refused)
		}
		allOf = append(allOf, obj("if", cond, "then", then))
	}
	if len(allOf) > 0 {
		taskDef.set("allOf", allOf)
	} else {
		taskDef.del("allOf")
	}

	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// sentence ends s with a full stop unless it ends with one already.
func sentence(s string) string {
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, "…") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

// jsonObject is a JSON object that keeps its keys in the order written, so
// that regenerating part of a hand-written schema leaves the rest as it was.
// Values are *jsonObject, []any, json.Number, string, bool or nil.
type jsonObject struct {
	keys []string
	vals map[string]any
}

func obj(kv ...any) *jsonObject {
	o := &jsonObject{}
	for i := 0; i+1 < len(kv); i += 2 {
		o.set(kv[i].(string), kv[i+1])
	}
	return o
}

func (o *jsonObject) get(k string) any {
	if o == nil {
		return nil
	}
	return o.vals[k]
}

// set replaces k's value in place, or appends k.
func (o *jsonObject) set(k string, v any) {
	if o.vals == nil {
		o.vals = map[string]any{}
	}
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *jsonObject) del(k string) {
	if _, ok := o.vals[k]; !ok {
		return
	}
	delete(o.vals, k)
	o.keys = slices.DeleteFunc(o.keys, func(s string) bool { return s == k })
}

func lookup(v any, path ...string) any {
	for _, k := range path {
		o, _ := v.(*jsonObject)
		v = o.get(k)
	}
	return v
}

func (o *jsonObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		key, err := marshalRaw(k)
		if err != nil {
			return nil, err
		}
		val, err := marshalRaw(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(key)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshalRaw encodes v without escaping <, > and & (the schema's prose has ">=").
func marshalRaw(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// decodeOrdered reads one JSON value, objects as *jsonObject.
func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		o := &jsonObject{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, _ := kt.(string)
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			o.set(k, v)
		}
		_, err := dec.Token() // '}'
		return o, err
	case json.Delim('['):
		list := []any{}
		for dec.More() {
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err := dec.Token() // ']'
		return list, err
	}
	return tok, nil
}

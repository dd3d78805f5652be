package plan

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// pos is a 1-based line and column in the plan file.
type pos struct{ Line, Col int }

// decoder turns the YAML syntax tree into a Plan by reflection over the yaml
// tags, collecting every problem instead of stopping at the first, and
// recording where each key path sits so that later checks can point at it.
// go-yaml's own strict decoder stops at the first error, which would make
// users fix a plan one line per run.
type decoder struct {
	file string
	errs Errors
	pos  map[string]pos
	bad  map[string]bool // paths whose value failed to decode
	// suggested holds the paths an unknown key was probably meant to be,
	// so that "missing dataset" does not repeat "datset: did you mean dataset?".
	suggested map[string]bool
	anchors   map[string]ast.Node
	// strs records where string values start, so that template errors can
	// point inside the template.
	strs map[string]strInfo
}

// strInfo is where a string value's text starts in the file.
type strInfo struct {
	at      pos  // the value token (the `|` or `>` indicator for block scalars)
	block   bool // a literal or folded block: the text starts on the next line
	quoted  bool // the text starts one column after at
	escaped bool // escapes in a quoted string: columns do not map 1:1
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, pos: map[string]pos{}, bad: map[string]bool{}, suggested: map[string]bool{}, anchors: map[string]ast.Node{}, strs: map[string]strInfo{}}
}

func (d *decoder) add(p pos, path, msg, fix string) {
	d.errs = append(d.errs, &Error{File: d.file, Line: p.Line, Col: p.Col, Path: path, Msg: msg, Fix: fix})
}

// fail records an error about the value at path and marks it, so that
// validation does not pile a "missing" error on top of a "wrong type" one.
func (d *decoder) fail(node ast.Node, path, msg, fix string) {
	d.bad[path] = true
	d.add(nodePos(node), path, msg, fix)
}

// parseYAML parses data into the root node; a syntax error becomes an Errors.
func parseYAML(file string, data []byte) (ast.Node, error) {
	// Duplicate keys are reported by the decoder, together with everything else.
	f, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		e := &Error{File: file, Msg: "YAML syntax: " + err.Error(), Fix: "fix the YAML at this position (indent with spaces, close brackets and quotes)"}
		if ye, ok := err.(interface {
			GetToken() *token.Token
			GetMessage() string
		}); ok && ye.GetToken() != nil {
			e.Line, e.Col = ye.GetToken().Position.Line, ye.GetToken().Position.Column
			e.Msg = "YAML syntax: " + ye.GetMessage()
		}
		return nil, Errors{e}
	}
	var docs []*ast.DocumentNode
	for _, doc := range f.Docs {
		if doc.Body != nil {
			docs = append(docs, doc)
		}
	}
	switch len(docs) {
	case 0:
		return nil, Errors{{File: file, Msg: "the plan is empty", Fix: "run `tunecheck init` for a starter plan"}}
	case 1:
		return docs[0].Body, nil
	}
	p := nodePos(docs[1].Body)
	return nil, Errors{{File: file, Line: p.Line, Col: p.Col, Msg: "the file holds more than one YAML document", Fix: "keep one plan per file (remove the `---` separator)"}}
}

// nodePos is where a node starts, as a user would point at it.
func nodePos(n ast.Node) pos {
	switch x := n.(type) {
	case nil:
		return pos{}
	case *ast.MappingNode:
		if len(x.Values) > 0 {
			return nodePos(x.Values[0])
		}
	case *ast.MappingValueNode:
		return nodePos(x.Key)
	case *ast.SequenceNode:
		if x.Start != nil {
			return pos{x.Start.Position.Line, x.Start.Position.Column}
		}
	case *ast.AnchorNode:
		if x.Start != nil {
			return pos{x.Start.Position.Line, x.Start.Position.Column}
		}
	case *ast.TagNode:
		if x.Start != nil {
			return pos{x.Start.Position.Line, x.Start.Position.Column}
		}
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return pos{tk.Position.Line, tk.Position.Column}
	}
	return pos{}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// resolve looks through anchors, aliases and tags to the node holding the value.
func (d *decoder) resolve(n ast.Node, path string) (ast.Node, bool) {
	for range 64 { // bounded: an alias cannot legally refer to itself
		switch x := n.(type) {
		case *ast.AnchorNode:
			d.anchors[x.Name.String()] = x.Value
			n = x.Value
		case *ast.AliasNode:
			name := x.Value.String()
			target, ok := d.anchors[name]
			if !ok {
				d.fail(n, path, fmt.Sprintf("alias *%s refers to no anchor defined above it", name), "define `&"+name+"` before using `*"+name+"`")
				return nil, false
			}
			n = target
		case *ast.TagNode:
			n = x.Value
		default:
			return n, true
		}
	}
	d.fail(n, path, "aliases nest too deeply", "simplify the anchors")
	return nil, false
}

type entry struct {
	key   string
	kpos  pos
	value ast.Node
}

// entries lists a mapping's keys in order, with `<<: *anchor` merges expanded
// (explicit keys win over merged ones, as YAML 1.1 merge keys specify).
func (d *decoder) entries(m *ast.MappingNode, path string) []entry {
	var explicit, merged []entry
	seen := map[string]pos{}
	for _, mv := range m.Values {
		if _, isMerge := mv.Key.(*ast.MergeKeyNode); isMerge {
			src, ok := d.resolve(mv.Value, path)
			if !ok {
				continue
			}
			var maps []ast.Node
			if seq, isSeq := src.(*ast.SequenceNode); isSeq {
				maps = seq.Values
			} else {
				maps = []ast.Node{src}
			}
			for _, mn := range maps {
				mn, ok := d.resolve(mn, path)
				if !ok {
					continue
				}
				mm, isMap := mn.(*ast.MappingNode)
				if !isMap {
					d.fail(mv.Value, path, "`<<` merges a mapping, not "+kindOf(mn), "point `<<` at an anchored mapping, e.g. `<<: *defaults`")
					continue
				}
				merged = append(merged, d.entries(mm, path)...)
			}
			continue
		}
		key := mv.Key.String()
		if k, ok := mv.Key.(*ast.StringNode); ok {
			key = k.Value
		}
		kp := nodePos(mv.Key)
		if first, dup := seen[key]; dup {
			d.add(kp, join(path, key), fmt.Sprintf("duplicate key (first at line %d)", first.Line), "keep one `"+key+"`")
			continue
		}
		seen[key] = kp
		explicit = append(explicit, entry{key, kp, mv.Value})
	}
	for _, e := range merged {
		if _, ok := seen[e.key]; !ok {
			seen[e.key] = e.kpos
			explicit = append(explicit, e)
		}
	}
	return explicit
}

// decode stores node into v, which is addressable.
func (d *decoder) decode(node ast.Node, v reflect.Value, path string) {
	node, ok := d.resolve(node, path)
	if !ok {
		return
	}
	if _, isNull := node.(*ast.NullNode); isNull {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		nv := reflect.New(v.Type().Elem())
		d.decode(node, nv.Elem(), path)
		v.Set(nv)
	case reflect.Struct:
		d.decodeStruct(node, v, path)
	case reflect.Slice:
		seq, isSeq := node.(*ast.SequenceNode)
		if !isSeq {
			d.typeError(node, path, "a list")
			return
		}
		s := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
		for i, item := range seq.Values {
			ip := fmt.Sprintf("%s[%d]", path, i)
			d.pos[ip] = nodePos(item)
			d.decode(item, s.Index(i), ip)
		}
		v.Set(s)
	case reflect.Map, reflect.Interface:
		if v.Kind() == reflect.Map {
			if _, isMap := node.(*ast.MappingNode); !isMap {
				d.typeError(node, path, "a mapping")
				return
			}
		}
		if val, ok := d.toAny(node, path); ok && val != nil {
			v.Set(reflect.ValueOf(val))
		}
	case reflect.String:
		s, ok := scalarText(node)
		if !ok {
			d.typeError(node, path, "a string")
			return
		}
		v.SetString(s)
		info := strInfo{at: nodePos(node)}
		switch x := node.(type) {
		case *ast.LiteralNode:
			info.block = true
		case *ast.StringNode:
			switch x.Token.Type {
			case token.DoubleQuoteType:
				info.quoted = true
				info.escaped = strings.Contains(x.Token.Origin, `\`)
			case token.SingleQuoteType:
				info.quoted = true
				info.escaped = strings.Contains(x.Token.Origin, "''")
			}
		}
		d.strs[path] = info
	case reflect.Bool:
		b, isBool := node.(*ast.BoolNode)
		if !isBool {
			d.typeError(node, path, "true or false")
			return
		}
		v.SetBool(b.Value)
	case reflect.Int, reflect.Int64:
		i, isInt := node.(*ast.IntegerNode)
		if !isInt {
			d.typeError(node, path, "a whole number")
			return
		}
		n, ok := intValue(i.Value)
		if !ok || v.OverflowInt(n) {
			d.fail(node, path, "the number is too large", "use a smaller number")
			return
		}
		v.SetInt(n)
	case reflect.Uint64:
		i, isInt := node.(*ast.IntegerNode)
		if !isInt {
			d.typeError(node, path, "a whole number")
			return
		}
		switch n := i.Value.(type) {
		case uint64:
			v.SetUint(n)
		case int64:
			if n < 0 {
				d.fail(node, path, fmt.Sprintf("must not be negative, got %d", n), "use a number from 0 to 18446744073709551615")
				return
			}
			v.SetUint(uint64(n))
		}
	case reflect.Float64:
		var f float64
		switch x := node.(type) {
		case *ast.IntegerNode:
			n, _ := intValue(x.Value)
			f = float64(n)
		case *ast.FloatNode:
			f = x.Value
		default:
			d.typeError(node, path, "a number")
			return
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail(node, path, "must be a finite number", "write a number such as 0.5")
			return
		}
		v.SetFloat(f)
	default:
		panic(fmt.Sprintf("plan: no decoder for %s at %s", v.Type(), path))
	}
}

func (d *decoder) decodeStruct(node ast.Node, v reflect.Value, path string) {
	m, isMap := node.(*ast.MappingNode)
	if !isMap {
		d.typeError(node, path, "a mapping of keys")
		return
	}
	fields, names := yamlFields(v.Type())
	for _, e := range d.entries(m, path) {
		kp := join(path, e.key)
		d.pos[kp] = e.kpos
		i, known := fields[e.key]
		if !known {
			d.bad[kp] = true
			d.unknownKey(e, kp, names)
			continue
		}
		d.decode(e.value, v.Field(i), kp)
	}
}

func (d *decoder) unknownKey(e entry, kp string, names []string) {
	if isAPIKey(e.key) {
		d.add(e.kpos, kp, "API keys must not be written in the plan (plans are committed and hashed into every run)", "put the key in an environment variable and name it with api_key_env, e.g. `api_key_env: OPENAI_API_KEY`")
		return
	}
	if s := suggest(e.key, names); s != "" {
		d.suggested[join(parentPath(kp), s)] = true
	}
	if len(names) > 0 && suggest(e.key, names) == "" {
		// A real key in the wrong place (`temperature` beside `model`
		// instead of under `params`) is a more common slip than a typo.
		if homes := keyHomes()[e.key]; len(homes) > 0 {
			d.add(e.kpos, kp, "unknown key here", fmt.Sprintf("`%s` belongs under %s", e.key, strings.Join(homes, " or ")))
			return
		}
	}
	d.add(e.kpos, kp, "unknown key", didYouMean(e.key, names))
}

// keyHomes maps every plan key to the sections it is valid in, written as
// generic paths ("models[].params", "" for the top level shown as "the top level").
func keyHomes() map[string][]string {
	homes := map[string][]string{}
	var walk func(t reflect.Type, at string, depth int)
	walk = func(t reflect.Type, at string, depth int) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			if t.Kind() == reflect.Slice {
				at += "[]"
			}
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || depth > 5 {
			return
		}
		fields, names := yamlFields(t)
		where := "`" + at + "`"
		if at == "" {
			where = "the top level"
		}
		for _, n := range names {
			if !slices.Contains(homes[n], where) {
				homes[n] = append(homes[n], where)
			}
			walk(t.Field(fields[n]).Type, join(at, n), depth+1)
		}
	}
	walk(reflect.TypeFor[Plan](), "", 0)
	return homes
}

func isAPIKey(k string) bool {
	k = strings.ToLower(strings.NewReplacer("-", "_", " ", "_").Replace(k))
	return k == "api_key" || k == "apikey" || k == "api_token" || k == "secret_key"
}

// yamlFields maps yaml tag names to field indexes, and lists the names in order.
func yamlFields(t reflect.Type) (map[string]int, []string) {
	m := map[string]int{}
	var names []string
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		m[tag] = i
		names = append(names, tag)
	}
	return m, names
}

func (d *decoder) typeError(node ast.Node, path, want string) {
	key := path
	if i := strings.LastIndexAny(path, ".]"); i >= 0 && path[i] == '.' {
		key = path[i+1:]
	}
	examples := map[string]string{
		"a list":            key + ": [a, b]",
		"a mapping":         key + ": followed by indented `name: value` lines",
		"a mapping of keys": key + ": followed by indented `name: value` lines",
		"a string":          key + `: "text"`,
		"true or false":     key + ": true",
		"a whole number":    key + ": 8",
		"a number":          key + ": 0.5",
	}
	if path == "" {
		d.fail(node, path, fmt.Sprintf("a plan is a mapping of keys, got %s", kindOf(node)), "start from `tunecheck init`: top-level keys are version, name, models, tasks, compare, gates, ...")
		return
	}
	if s, isStr := node.(*ast.StringNode); isStr && (want == "a whole number" || want == "a number") && digitsRE.MatchString(s.Value) {
		d.fail(node, path, "the number is out of range", "use a smaller number")
		return
	}
	fix := "write it as " + examples[want]
	if strings.HasSuffix(path, "]") && (want == "a mapping of keys" || want == "a mapping") {
		fix = "write the list item as indented `key: value` lines after its `-`, e.g. `- name: base`"
	}
	if want == "true or false" {
		if s, ok := scalarText(node); ok && (strings.EqualFold(s, "yes") || strings.EqualFold(s, "no") || strings.EqualFold(s, "on") || strings.EqualFold(s, "off")) {
			fix = "YAML 1.2 reads " + s + " as a string; write true or false"
		}
	}
	d.fail(node, path, fmt.Sprintf("expected %s, got %s", want, kindOf(node)), fix)
}

var digitsRE = regexp.MustCompile(`^[-+]?[0-9]+$`)

func kindOf(n ast.Node) string {
	switch x := n.(type) {
	case *ast.MappingNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		s, _ := scalarText(x)
		if len(s) > 40 {
			s = s[:37] + "..."
		}
		return fmt.Sprintf("the string %q", s)
	case *ast.IntegerNode:
		return "the number " + x.String()
	case *ast.FloatNode:
		return "the number " + x.String()
	case *ast.BoolNode:
		return "the boolean " + x.String()
	case *ast.NullNode:
		return "null"
	}
	return n.Type().String()
}

// scalarText is a scalar's value as text; YAML users expect `name: 7b` or
// `model: 3` to be strings when a string is wanted.
func scalarText(n ast.Node) (string, bool) {
	switch x := n.(type) {
	case *ast.StringNode:
		return x.Value, true
	case *ast.LiteralNode:
		return x.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return x.GetToken().Value, true
	}
	return "", false
}

func intValue(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case uint64:
		if n > math.MaxInt64 {
			return 0, false
		}
		return int64(n), true
	case int:
		return int64(n), true
	}
	return 0, false
}

// toAny decodes free-form values (scorer options) into JSON-like Go values.
func (d *decoder) toAny(node ast.Node, path string) (any, bool) {
	node, ok := d.resolve(node, path)
	if !ok {
		return nil, false
	}
	switch x := node.(type) {
	case *ast.NullNode:
		return nil, true
	case *ast.BoolNode:
		return x.Value, true
	case *ast.IntegerNode:
		if n, ok := intValue(x.Value); ok {
			return n, true
		}
		f, _ := strconv.ParseFloat(x.GetToken().Value, 64)
		return f, true
	case *ast.FloatNode:
		return x.Value, true
	case *ast.StringNode, *ast.LiteralNode:
		s, _ := scalarText(x)
		return s, true
	case *ast.SequenceNode:
		out := make([]any, len(x.Values))
		for i, item := range x.Values {
			ip := fmt.Sprintf("%s[%d]", path, i)
			d.pos[ip] = nodePos(item)
			v, ok := d.toAny(item, ip)
			if !ok {
				return nil, false
			}
			out[i] = v
		}
		return out, true
	case *ast.MappingNode:
		out := map[string]any{}
		for _, e := range d.entries(x, path) {
			kp := join(path, e.key)
			d.pos[kp] = e.kpos
			if isAPIKey(e.key) {
				d.unknownKey(e, kp, nil)
				continue
			}
			v, ok := d.toAny(e.value, kp)
			if !ok {
				return nil, false
			}
			out[e.key] = v
		}
		return out, true
	}
	d.fail(node, path, "unsupported YAML value "+node.Type().String(), "use scalars, lists and mappings")
	return nil, false
}

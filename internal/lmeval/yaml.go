package lmeval

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// FuncRef is a `!function module.name` value: a Python hook in the task's
// folder, which tunecheck resolves to a Go implementation by name.
type FuncRef struct {
	Name string // as written: "utils.process_docs"
	File string
	Line int
	// Key is the registry key: the folder holding the file, a slash, Name.
	Key string
}

func (f FuncRef) String() string { return "!function " + f.Name }

// rawConfig is one YAML file's mapping after `include` is merged, with
// where each key was last set (for errors).
type rawConfig struct {
	File   string
	Values map[string]any
	Lines  map[string]string // key → "file:line"
}

func (c *rawConfig) at(key string) string {
	if l, ok := c.Lines[key]; ok {
		return l
	}
	return c.File
}

// loadYAML reads path the way lm_eval/tasks/_yaml_loader.py does: `include`
// (a path or a list of paths, relative to the including file) is loaded
// first, recursively, later includes overriding earlier ones and the
// including file's own keys overriding all; task_list is not inherited; a
// file included twice on one chain is a cycle.
func loadYAML(path string, chain []string) (*rawConfig, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	for _, seen := range chain {
		if seen == abs {
			return nil, fmt.Errorf("%s: include cycle: %s → %s", path, strings.Join(chain, " → "), abs)
		}
	}
	chain = append(chain, abs)
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading task file: %w", err)
	}
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: not valid YAML: %w", path, err)
	}
	if len(f.Docs) != 1 || f.Docs[0].Body == nil {
		return nil, fmt.Errorf("%s: expected one YAML document holding a mapping", path)
	}
	body := f.Docs[0].Body
	m, ok := unwrap(body).(*ast.MappingNode)
	if !ok {
		return nil, fmt.Errorf("%s:%d: expected a mapping of lm-eval task keys at the top, got %s", path, line(body), body.Type())
	}
	dir := filepath.Base(filepath.Dir(abs))
	own := &rawConfig{File: path, Values: map[string]any{}, Lines: map[string]string{}}
	for _, kv := range m.Values {
		key := keyName(kv.Key)
		v, err := convert(kv.Value, path, dir)
		if err != nil {
			return nil, err
		}
		own.Values[key] = v
		own.Lines[key] = fmt.Sprintf("%s:%d", path, line(kv.Key))
	}
	inc, ok := own.Values["include"]
	if !ok {
		return own, nil
	}
	delete(own.Values, "include")
	var incs []string
	switch x := inc.(type) {
	case string:
		incs = []string{x}
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%s: include: each entry must be a file path, got %v", own.at("include"), e)
			}
			incs = append(incs, s)
		}
	default:
		return nil, fmt.Errorf("%s: include: must be a file path or a list of paths", own.at("include"))
	}
	merged := &rawConfig{File: path, Values: map[string]any{}, Lines: map[string]string{}}
	for _, name := range incs {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(path), name)
		}
		sub, err := loadYAML(p, chain)
		if err != nil {
			if os.IsNotExist(err) || strings.Contains(err.Error(), "no such file") {
				return nil, fmt.Errorf("%s: include %q: %w (paths are relative to the including file)", own.at("include"), name, err)
			}
			return nil, err
		}
		delete(sub.Values, "task_list")
		for k, v := range sub.Values {
			merged.Values[k] = v
			merged.Lines[k] = sub.at(k)
		}
	}
	for k, v := range own.Values {
		merged.Values[k] = v
		merged.Lines[k] = own.Lines[k]
	}
	return merged, nil
}

func unwrap(n ast.Node) ast.Node {
	for {
		switch x := n.(type) {
		case *ast.AnchorNode:
			n = x.Value
		case *ast.CommentGroupNode:
			return n
		default:
			return n
		}
	}
}

func line(n ast.Node) int {
	if n == nil || n.GetToken() == nil {
		return 0
	}
	return n.GetToken().Position.Line
}

// convert turns a YAML node into plain values, keeping !function tags as
// FuncRef. Mapping key order is not kept: nothing in a task file's maps is
// rendered in order.
func convert(n ast.Node, file, dir string) (any, error) {
	n = unwrap(n)
	switch x := n.(type) {
	case *ast.TagNode:
		tag := x.Start.Value
		if tag != "!function" {
			return nil, fmt.Errorf("%s:%d: unknown YAML tag %s: lm-eval task files use only !function", file, line(x), tag)
		}
		name, ok := x.Value.GetToken(), true
		if x.Value == nil || name == nil || !ok {
			return nil, fmt.Errorf("%s:%d: !function needs a module.function name", file, line(x))
		}
		s := strings.TrimSpace(x.Value.GetToken().Value)
		return FuncRef{Name: s, File: file, Line: line(x), Key: dir + "/" + s}, nil
	case *ast.MappingNode:
		out := map[string]any{}
		for _, kv := range x.Values {
			v, err := convert(kv.Value, file, dir)
			if err != nil {
				return nil, err
			}
			out[keyName(kv.Key)] = v
		}
		return out, nil
	case *ast.MappingValueNode:
		v, err := convert(x.Value, file, dir)
		if err != nil {
			return nil, err
		}
		return map[string]any{keyName(x.Key): v}, nil
	case *ast.SequenceNode:
		out := []any{}
		for _, e := range x.Values {
			v, err := convert(e, file, dir)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case *ast.AliasNode:
		return nil, fmt.Errorf("%s:%d: YAML aliases are not supported in task files; repeat the value", file, line(x))
	case *ast.IntegerNode:
		switch v := x.Value.(type) {
		case int64:
			return v, nil
		case uint64:
			return int64(v), nil
		}
		return x.GetValue(), nil
	case nil:
		return nil, nil
	}
	if s, ok := n.(ast.ScalarNode); ok {
		return s.GetValue(), nil
	}
	return nil, fmt.Errorf("%s:%d: unsupported YAML node %s", file, line(n), n.Type())
}

// keyName is a mapping key as text, quotes removed.
func keyName(k ast.MapKeyNode) string {
	if s, ok := k.(ast.ScalarNode); ok {
		if v, ok := s.GetValue().(string); ok {
			return v
		}
	}
	return strings.Trim(k.String(), `"'`)
}

package lmeval

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Field is a doc_to_text, doc_to_target or doc_to_choice value: a column
// name, a Jinja template, a literal list, an index, or a hook.
type Field struct {
	Key  string // "doc_to_text", "fewshot_config.doc_to_target", …
	At   string // file:line
	Text string // the string as written (a column name or a template)
	tmpl *Template
	List []any
	Int  *int64
	Hook *Hook
	Ref  *FuncRef
}

func (l *Loader) field(rc *rawConfig, key string, v any) (*Field, error) {
	top := key
	if i := strings.IndexByte(key, '.'); i >= 0 {
		top = key[:i]
	}
	f := &Field{Key: key, At: rc.at(top)}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		f.Text = x
		t, err := l.j.compile(x)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", f.At, key, err)
		}
		f.tmpl = t
	case int64:
		f.Int = &x
	case []any:
		f.List = x
	case map[string]any:
		return nil, fmt.Errorf("%s: %s: a mapping of choices is not supported (Python keeps its key order, decoded YAML does not); write a list", f.At, key)
	case FuncRef:
		h, err := l.Hooks.resolve(x, key)
		if err != nil {
			return nil, err
		}
		if h.Field == nil {
			return nil, fmt.Errorf("%s:%d: %s: hook %s processes docs; it does not compute a field", x.File, x.Line, key, x.Key)
		}
		f.Hook, f.Ref = &h, &x
	default:
		return nil, fmt.Errorf("%s: %s: expected a field name, a template, a list or !function, got %v", f.At, key, v)
	}
	return f, nil
}

// raw evaluates the field for doc: a column's value when Text names a
// column of the evaluation docs (features), else the rendered template.
func (f *Field) raw(doc Doc, features map[string]bool) (v any, rendered bool, err error) {
	switch {
	case f.Int != nil:
		return *f.Int, false, nil
	case f.List != nil:
		return f.List, false, nil
	case f.Hook != nil:
		v, err := f.Hook.Field(doc)
		return v, false, err
	}
	if features[f.Text] {
		return doc[f.Text], false, nil
	}
	s, err := f.tmpl.Render(doc)
	return s, true, err
}

// text is lm-eval's doc_to_text: a template rendering only digits becomes
// an index when the task has choices.
func (f *Field) text(doc Doc, features map[string]bool, hasChoices bool) (any, error) {
	v, rendered, err := f.raw(doc, features)
	if err != nil || !rendered {
		return v, err
	}
	s := v.(string)
	if hasChoices && isDigits(s) {
		return strconv.ParseInt(s, 10, 64)
	}
	return s, nil
}

// target is lm-eval's doc_to_target: digits become an index when the task
// has choices, and "[…]" is tried as a Python list.
func (f *Field) target(doc Doc, features map[string]bool, hasChoices bool) (any, error) {
	v, rendered, err := f.raw(doc, features)
	if err != nil || !rendered {
		return v, err
	}
	s := v.(string)
	if hasChoices && isDigits(s) {
		return strconv.ParseInt(s, 10, 64)
	}
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if l, err := parsePyLiteral(s); err == nil {
			return l, nil
		}
	}
	return s, nil
}

// choices is lm-eval's doc_to_choice, as text.
func (f *Field) choices(doc Doc, features map[string]bool) ([]string, error) {
	v, rendered, err := f.raw(doc, features)
	if err != nil {
		return nil, err
	}
	if rendered {
		if v, err = parsePyLiteral(v.(string)); err != nil {
			return nil, fmt.Errorf("rendered %q, which is not a Python list: %w", v, err)
		}
	}
	var list []any
	switch x := v.(type) {
	case []any:
		list = x
	case []string:
		for _, s := range x {
			list = append(list, s)
		}
	default:
		return nil, fmt.Errorf("expected a list of choices, got %T", v)
	}
	out := make([]string, len(list))
	for i, e := range list {
		if out[i], err = pyStr(e); err != nil {
			return nil, fmt.Errorf("choice %d: %w", i, err)
		}
	}
	return out, nil
}

// isDigits is Python's str.isdigit for what a template renders.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

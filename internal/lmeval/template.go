package lmeval

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
)

// jinja is the template environment lm-evaluation-harness renders with
// (lm_eval/utils.py): StrictUndefined, keep_trailing_newline, and the
// regex_replace filter. Gonja lacks Python's list.index, which task files
// call (ARC's doc_to_target), so the environment adds it. It is built per
// loader, never registered into gonja's package-level sets.
type jinja struct {
	cfg *config.Config
	env *exec.Environment
}

func newJinja() *jinja {
	cfg := config.New()
	cfg.StrictUndefined = true
	cfg.KeepTrailingNewline = true
	filters := exec.NewFilterSet(map[string]exec.FilterFunction{}).Update(builtins.Filters)
	// Register only fails for a name already present; regex_replace is not a gonja builtin.
	_ = filters.Register("regex_replace", regexReplaceFilter)
	_ = filters.Register("__pystr", pyStrFilter)
	methods := builtins.Methods
	list := map[string]exec.Method[[]any]{"index": listIndex}
	for _, name := range []string{"append", "reverse", "copy"} {
		if m, ok := builtins.Methods.List.Get(name); ok {
			list[name] = m
		}
	}
	methods.List = exec.NewMethodSet(list)
	return &jinja{cfg: cfg, env: &exec.Environment{
		Context:           exec.EmptyContext().Update(builtins.GlobalFunctions).Update(builtins.GlobalVariables),
		Filters:           filters,
		Tests:             builtins.Tests,
		ControlStructures: builtins.ControlStructures,
		Methods:           methods,
	}}
}

// regexReplaceFilter is re.sub(pattern, repl, s, count). Patterns are Go RE2:
// lm-eval task files use the common subset.
func regexReplaceFilter(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if len(params.Args) < 2 {
		return exec.AsValue(exec.ErrInvalidCall(fmt.Errorf("regex_replace needs a pattern and a replacement")))
	}
	re, err := regexp.Compile(params.Args[0].String())
	if err != nil {
		return exec.AsValue(exec.ErrInvalidCall(fmt.Errorf("regex_replace: %w", err)))
	}
	count := -1
	if len(params.Args) > 2 && params.Args[2].Integer() > 0 {
		count = params.Args[2].Integer()
	}
	repl := pyReplacement(params.Args[1].String())
	s := in.String()
	n := 0
	return exec.AsValue(re.ReplaceAllStringFunc(s, func(m string) string {
		if count >= 0 && n >= count {
			return m
		}
		n++
		return re.ReplaceAllString(m, repl)
	}))
}

// pyReplacement turns Python's \1 group references into Go's ${1}.
func pyReplacement(r string) string {
	return regexp.MustCompile(`\\(\d+)`).ReplaceAllString(strings.ReplaceAll(r, "$", "$$"), "$${$1}")
}

// pyStrFilter is Python's str(): strings as they are, lists as their repr.
// lm-eval renders list-valued templates ("{{choices.text}}") with str() and
// parses them back with ast.literal_eval, so the repr must be Python's.
func pyStrFilter(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	s, err := pyStr(plainValue(in))
	if err != nil {
		return exec.AsValue(err)
	}
	return exec.AsValue(s)
}

// plainValue unwraps a gonja value into Go values pyStr knows: a list
// literal ("{{[sol1, sol2]}}", PIQA) evaluates to a list of *exec.Value,
// whose own printing does not follow Python's repr quoting.
func plainValue(v *exec.Value) any {
	if v.IsList() {
		out := make([]any, v.Len())
		for i := range out {
			out[i] = plainValue(v.Index(i))
		}
		return out
	}
	return v.Interface()
}

func listIndex(self []any, _ *exec.Value, args *exec.VarArgs) (any, error) {
	var x any
	if err := args.Take(exec.PositionalArgument("x", nil, exec.AnyArgument(&x))); err != nil {
		return nil, exec.ErrInvalidCall(err)
	}
	want := exec.ToValue(x).Interface()
	for i, v := range self {
		if exec.ToValue(v).Interface() == want {
			return i, nil
		}
	}
	r, _ := pyRepr(want)
	return nil, fmt.Errorf("ValueError: %s is not in list", r)
}

// Template is one compiled doc_to_text/doc_to_target/doc_to_choice/description.
type Template struct {
	Src string
	t   *exec.Template
}

// singleExpr matches a template that is one {{ expression }} and nothing else.
var singleExpr = regexp.MustCompile(`^\{\{(-?)(.*)(-?)\}\}$`)

func (j *jinja) compile(src string) (*Template, error) {
	body := src
	// A template that is one expression renders its value with Python's str(),
	// as jinja2 does: gonja would print a list in its own notation.
	if m := singleExpr.FindStringSubmatch(src); m != nil && !strings.Contains(m[2], "{{") && !strings.Contains(m[2], "}}") && !strings.Contains(m[2], "{%") {
		expr := strings.TrimSuffix(m[2], "-")
		body = "{%" + m[1] + " set __tc_value = " + expr + " %}{{ __tc_value | __pystr " + m[3] + "}}"
	}
	body = escapeUnknownEscapes(body)
	sum := sha256.Sum256([]byte(body))
	id := "lmeval-" + hex.EncodeToString(sum[:8])
	base, err := loaders.NewFileSystemLoader("")
	if err != nil {
		return nil, err
	}
	l, err := loaders.NewShiftedLoader(id, bytes.NewReader([]byte(body)), base)
	if err != nil {
		return nil, err
	}
	t, err := exec.NewTemplate(id, j.cfg, l, j.env)
	if err != nil {
		return nil, fmt.Errorf("template does not parse: %w", err)
	}
	return &Template{Src: src, t: t}, nil
}

// Render executes the template with a document's fields as its variables.
func (t *Template) Render(doc map[string]any) (string, error) {
	return t.t.ExecuteToString(exec.NewContext(doc))
}

// escapeUnknownEscapes doubles the backslash of an escape gonja's lexer
// rejects inside a string literal in a tag ('\[' in a regex_replace pattern):
// Python keeps such a backslash as it is, so the meaning is unchanged.
func escapeUnknownEscapes(src string) string {
	var b strings.Builder
	code, quote := false, byte(0)
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case !code:
			if c == '{' && i+1 < len(src) && (src[i+1] == '{' || src[i+1] == '%') {
				code = true
				b.WriteByte(c)
				i++
				c = src[i]
			}
		case quote != 0:
			if c == '\\' && i+1 < len(src) {
				if strings.IndexByte("\\'\"nrt", src[i+1]) < 0 {
					b.WriteString(`\\`)
					continue
				}
				b.WriteByte(c)
				i++
				c = src[i]
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case (c == '}' || c == '%') && i+1 < len(src) && src[i+1] == '}':
			code = false
			b.WriteByte(c)
			i++
			c = src[i]
		}
		b.WriteByte(c)
	}
	return b.String()
}

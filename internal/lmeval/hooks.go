package lmeval

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tunecheck/tunecheck/metrics/text"
)

// Doc is one dataset row as lm-eval's Jinja templates see it.
type Doc = map[string]any

// Hook is the Go implementation of one `!function` a task file names. One of
// its fields is set, by what the key it is used under needs.
type Hook struct {
	Doc string
	// ProcessDocs replaces a split's docs (process_docs).
	ProcessDocs func([]Doc) ([]Doc, error)
	// Field computes doc_to_text, doc_to_target or doc_to_choice for a doc.
	Field func(Doc) (any, error)
}

// Hooks maps "<folder>/<module>.<function>" — the folder holding the YAML
// that writes the tag, as lm-eval imports <module>.py from there — to its
// Go implementation.
type Hooks map[string]Hook

// DefaultHooks are the hooks the bundled task families need.
func DefaultHooks() Hooks {
	return Hooks{
		"hellaswag/utils.process_docs": {
			Doc:         "HellaSwag: query = preprocess(activity_label + \": \" + ctx_a + \" \" + ctx_b.capitalize()), choices = preprocessed endings, gold = int(label); other fields kept (datasets.map)",
			ProcessDocs: hellaswagProcessDocs,
		},
	}
}

func (h Hooks) names() string {
	k := slices.Sorted(maps.Keys(h))
	if len(k) == 0 {
		return "none"
	}
	return strings.Join(k, ", ")
}

func (h Hooks) resolve(ref FuncRef, key string) (Hook, error) {
	hook, ok := h[ref.Key]
	if !ok {
		return Hook{}, fmt.Errorf("%s:%d: %s: %s is a Python hook tunecheck has no Go implementation of (looked up as %q; tunecheck has: %s); "+
			"rewrite the key as a Jinja template, or add the hook to internal/lmeval/hooks.go", ref.File, ref.Line, key, ref, ref.Key, h.names())
	}
	return hook, nil
}

var hellaswagBrackets = regexp.MustCompile(`\[.*?\]`)

// hellaswagPreprocess is hellaswag/utils.py's preprocess: strip, turn the
// WikiHow " [title]" marker into ". ", drop other [bracketed] markers,
// collapse double spaces once.
func hellaswagPreprocess(s string) string {
	s = pyStrip(s)
	s = strings.ReplaceAll(s, " [title]", ". ")
	s = hellaswagBrackets.ReplaceAllString(s, "")
	return strings.ReplaceAll(s, "  ", " ")
}

func hellaswagProcessDocs(docs []Doc) ([]Doc, error) {
	out := make([]Doc, len(docs))
	for i, d := range docs {
		get := func(k string) (string, error) {
			v, ok := d[k].(string)
			if !ok {
				return "", fmt.Errorf("hellaswag process_docs: doc %d: field %q must be a string, got %T", i, k, d[k])
			}
			return v, nil
		}
		label, err := get("activity_label")
		if err != nil {
			return nil, err
		}
		a, err := get("ctx_a")
		if err != nil {
			return nil, err
		}
		b, err := get("ctx_b")
		if err != nil {
			return nil, err
		}
		endings, ok := d["endings"].([]any)
		if !ok {
			return nil, fmt.Errorf("hellaswag process_docs: doc %d: field \"endings\" must be a list, got %T", i, d["endings"])
		}
		choices := make([]any, len(endings))
		for j, e := range endings {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("hellaswag process_docs: doc %d: endings[%d] must be a string", i, j)
			}
			choices[j] = hellaswagPreprocess(s)
		}
		gold, err := pyInt(d["label"])
		if err != nil {
			return nil, fmt.Errorf("hellaswag process_docs: doc %d: label: %w", i, err)
		}
		nd := maps.Clone(d)
		nd["query"] = hellaswagPreprocess(label + ": " + a + " " + pyCapitalize(b))
		nd["choices"] = choices
		nd["gold"] = gold
		out[i] = nd
	}
	return out, nil
}

// pyStrip is str.strip(): Python's whitespace on both ends.
func pyStrip(s string) string { return strings.TrimFunc(s, text.IsPySpace) }

// pyCapitalize is str.capitalize(): first character upper-cased (title case
// for digraphs is ignored), the rest lower-cased.
func pyCapitalize(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + strings.ToLower(s[n:])
}

// pyInt is int(v) for an int or a decimal string.
func pyInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case float64:
		if x == float64(int64(x)) {
			return int64(x), nil
		}
	case string:
		var n int64
		if _, err := fmt.Sscanf(strings.TrimSpace(x), "%d", &n); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%v is not an integer", v)
}

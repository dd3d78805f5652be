package lmeval

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/tunecheck/tunecheck/metrics/text"
)

// FilterPipeline is one filter_list entry: named steps applied in order to
// a doc's responses (one per repeat). lm-eval reports each metric once per
// pipeline, as "<metric>,<name>".
type FilterPipeline struct {
	Name  string
	Steps []FilterStep
}

// FilterStep is one step of a pipeline.
type FilterStep struct {
	Function    string // regex, take_first, lowercase, uppercase, remove_whitespace
	Pattern     *regexp.Regexp
	GroupSelect int
	Fallback    string
}

var filterFunctions = []string{"lowercase", "regex", "remove_whitespace", "take_first", "uppercase"}

func filterList(rc *rawConfig, raw any) ([]FilterPipeline, error) {
	at := rc.at("filter_list")
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: filter_list: expected a list of {name, filter}", at)
	}
	var out []FilterPipeline
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: filter_list[%d]: expected a mapping with name and filter", at, i)
		}
		p := FilterPipeline{}
		p.Name, _ = m["name"].(string)
		if p.Name == "" {
			return nil, fmt.Errorf("%s: filter_list[%d].name: missing", at, i)
		}
		steps, ok := m["filter"].([]any)
		if !ok {
			return nil, fmt.Errorf("%s: filter_list[%d] (%s).filter: expected a list of {function: …}", at, i, p.Name)
		}
		for j, s := range steps {
			sm, ok := s.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: filter_list[%d].filter[%d]: expected a mapping with function", at, i, j)
			}
			st, err := filterStep(sm)
			if err != nil {
				return nil, fmt.Errorf("%s: filter_list[%d] (%s).filter[%d]: %w", at, i, p.Name, j, err)
			}
			p.Steps = append(p.Steps, st)
		}
		out = append(out, p)
	}
	return out, nil
}

func filterStep(m map[string]any) (FilterStep, error) {
	st := FilterStep{Fallback: "[invalid]"}
	st.Function, _ = m["function"].(string)
	if !slices.Contains(filterFunctions, st.Function) {
		return st, fmt.Errorf("function %v is not supported (tunecheck has: %s)", m["function"], strings.Join(filterFunctions, ", "))
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		switch v := m[k]; k {
		case "function":
		case "regex_pattern":
			s, ok := v.(string)
			if !ok || st.Function != "regex" {
				return st, fmt.Errorf("regex_pattern applies to function regex, as text")
			}
			re, err := regexp.Compile(s)
			if err != nil {
				return st, fmt.Errorf("regex_pattern %q is not an RE2 expression (Go's regexp lacks look-arounds and back-references): %w", s, err)
			}
			st.Pattern = re
		case "group_select":
			n, ok := v.(int64)
			if !ok {
				return st, fmt.Errorf("group_select: expected a whole number")
			}
			st.GroupSelect = int(n)
		case "fallback":
			s, ok := v.(string)
			if !ok {
				return st, fmt.Errorf("fallback: expected text")
			}
			st.Fallback = s
		default:
			return st, fmt.Errorf("option %s is not supported for %s", k, st.Function)
		}
	}
	if st.Function == "regex" && st.Pattern == nil {
		// lm-eval's RegexFilter default pattern.
		st.Pattern = regexp.MustCompile(`#### (\-?[0-9\.\,]+)`)
	}
	return st, nil
}

// Apply runs the pipeline over one doc's responses (one per repeat) and
// returns what is scored: after take_first, one string.
func (p FilterPipeline) Apply(resps []string) []string {
	out := slices.Clone(resps)
	for _, st := range p.Steps {
		switch st.Function {
		case "take_first":
			if len(out) > 1 {
				out = out[:1]
			}
		case "regex":
			for i, r := range out {
				out[i] = st.regex(r)
			}
		case "lowercase":
			for i := range out {
				out[i] = text.PyLower(out[i])
			}
		case "uppercase":
			for i := range out {
				out[i] = strings.ToUpper(out[i])
			}
		case "remove_whitespace":
			for i := range out {
				out[i] = strings.TrimLeftFunc(out[i], text.IsPySpace)
			}
		}
	}
	return out
}

// regex is lm-eval's RegexFilter on one response: re.findall, pick
// group_select (negative counts from the end); with several groups take the
// first non-empty one; strip; the fallback when nothing matched.
func (st FilterStep) regex(s string) string {
	all := st.Pattern.FindAllStringSubmatch(s, -1)
	if len(all) == 0 {
		return st.Fallback
	}
	i := st.GroupSelect
	if i < 0 {
		i += len(all)
	}
	if i < 0 || i >= len(all) {
		// Python raises IndexError here; lm-eval lets it propagate. We answer
		// with the fallback and say so in the docs rather than crash a run.
		return st.Fallback
	}
	m := all[i]
	var pick string
	switch len(m) {
	case 1:
		pick = m[0]
	case 2:
		pick = m[1]
	default:
		found := false
		for _, g := range m[1:] {
			if g != "" {
				pick, found = g, true
				break
			}
		}
		if !found {
			return st.Fallback
		}
	}
	return pyStrip(pick)
}

// pyPunctuation is Python's string.punctuation.
const pyPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// ExactMatch is lm-eval's exact_match (HF evaluate's): each regex in
// regexes_to_ignore removed from both sides, then optional lower-casing,
// removal of string.punctuation and of digits, then equality.
func (m MetricSpec) ExactMatch(prediction, reference string) (float64, error) {
	norm := func(s string) (string, error) {
		for _, r := range m.RegexesToIgnore {
			re, err := regexp.Compile(r)
			if err != nil {
				return "", fmt.Errorf("regexes_to_ignore %q: %w", r, err)
			}
			s = re.ReplaceAllLiteralString(s, "")
		}
		if m.IgnoreCase {
			s = text.PyLower(s)
		}
		if m.IgnorePunct {
			s = strings.Map(func(r rune) rune {
				if strings.ContainsRune(pyPunctuation, r) {
					return -1
				}
				return r
			}, s)
		}
		if m.IgnoreNumbers {
			s = strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return -1
				}
				return r
			}, s)
		}
		return s, nil
	}
	p, err := norm(prediction)
	if err != nil {
		return 0, err
	}
	r, err := norm(reference)
	if err != nil {
		return 0, err
	}
	if p == r {
		return 1, nil
	}
	return 0, nil
}

package gate

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ExprError is a problem in one gate expression, found by Parse or Validate,
// with the position of the character at fault. Error renders it as the
// expression with a caret under that character:
//
//	gates[0]: t.tokenf1.delta >= 0
//	            ^ unknown metric "tokenf1" in task t; known: token_f1, bleu (did you mean token_f1?)
type ExprError struct {
	// Label is printed before the expression, e.g. "gates[0]" or a plan
	// position "tunecheck.yaml:40:5: gates[0]"; the caret is indented past it.
	Label string
	// Expr is the expression with surrounding space trimmed.
	Expr string
	// Offset is the 0-based byte offset in Expr of the character at fault;
	// len(Expr) when something is missing at the end.
	Offset int
	Msg    string // what is wrong
	Fix    string // what to write instead; may be empty
}

func (e *ExprError) Error() string {
	var b strings.Builder
	prefix := 0
	if e.Label != "" {
		b.WriteString(e.Label)
		b.WriteString(": ")
		prefix = utf8.RuneCountInString(e.Label) + 2
	}
	b.WriteString(e.Expr)
	b.WriteByte('\n')
	off := min(max(e.Offset, 0), len(e.Expr))
	b.WriteString(strings.Repeat(" ", prefix+utf8.RuneCountInString(e.Expr[:off])))
	b.WriteString("^ ")
	b.WriteString(e.Message())
	return b.String()
}

// Message is the problem and its fix on one line, without the expression.
func (e *ExprError) Message() string {
	if e.Fix == "" {
		return e.Msg
	}
	return e.Msg + "; " + e.Fix
}

// Field lists. The order is the order the docs and error messages list them.
var (
	// estimates carry an interval and have .ci_low / .ci_high ends.
	estimates = []string{"value", "candidate", "baseline", "delta"}
	// scoreFields follow TASK.METRIC.
	scoreFields = []string{
		"value", "value.ci_low", "value.ci_high",
		"candidate", "candidate.ci_low", "candidate.ci_high",
		"baseline", "baseline.ci_low", "baseline.ci_high",
		"delta", "delta.ci_low", "delta.ci_high",
		"p_value", "p_adjusted",
	}
	// sliceFields follow TASK.METRIC.slice(NAME): the disparity across the
	// slice's groups.
	sliceFields = []string{
		"min_value", "min_value.ci_low", "min_value.ci_high",
		"min_delta", "min_delta.ci_low", "min_delta.ci_high",
		"gap", "ratio", "delta_gap",
	}
	// countFields follow TASK directly.
	countFields = []string{"failed", "failed_rate", "empty", "empty_rate", "no_reference", "judge_failed", "judge_failed_rate"}
	allFields   = append(append([]string{}, scoreFields...), countFields...)
)

// IsCountField reports whether field is a count field (TASK.FIELD, no metric).
func IsCountField(field string) bool { return contains(countFields, field) }

// NeedsComparison reports whether field exists only when a baseline and a
// candidate are compared.
func NeedsComparison(field string) bool {
	return strings.HasPrefix(field, "baseline") || strings.HasPrefix(field, "delta") ||
		strings.HasPrefix(field, "min_delta") || field == "p_value" || field == "p_adjusted"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

const (
	shape      = "write TASK.METRIC.FIELD OP NUMBER, e.g. qa.token_f1.delta.ci_low >= 0, or TASK.FIELD OP NUMBER for counts, e.g. qa.failed_rate <= 0.01"
	sliceList  = "slice fields: min_value, min_delta (each also with .ci_low and .ci_high), gap, ratio, delta_gap; or slice(NAME=GROUP) followed by a score field"
	fieldsList = "score fields: value, candidate, baseline, delta (each also with .ci_low and .ci_high), p_value, p_adjusted; count fields (no metric): failed, failed_rate, empty, empty_rate, no_reference, judge_failed, judge_failed_rate"
)

// parsed is a gate with the byte offsets of its parts, for Validate's carets.
type parsed struct {
	g                                           Gate
	taskOff, metricOff, sliceOff, fieldOff, num int
}

// Parse reads one gate expression. Its error is an *ExprError.
func Parse(expr string) (Gate, error) {
	p, err := parse(expr)
	if err != nil {
		return p.g, err
	}
	return p.g, nil
}

func parse(raw string) (parsed, *ExprError) {
	expr := strings.TrimSpace(raw)
	p := parsed{g: Gate{Expr: expr}}
	fail := func(off int, msg, fix string) (parsed, *ExprError) {
		return p, &ExprError{Expr: expr, Offset: off, Msg: msg, Fix: fix}
	}
	if expr == "" {
		return fail(0, "empty gate", shape)
	}

	// The operator is the first run of comparison characters outside the
	// parentheses of a slice (slice(lang=de) holds an = of its own).
	i := opIndex(expr)
	if i < 0 {
		off := len(expr)
		if j := strings.IndexFunc(expr, unicode.IsSpace); j >= 0 {
			off = j
		}
		return fail(off, "missing operator", "one of >= > <= < == != goes here; "+shape)
	}
	two := expr[i:min(i+2, len(expr))]
	switch {
	case two == ">=" || two == "<=" || two == "==" || two == "!=":
		p.g.Op = two
	case expr[i] == '<' || expr[i] == '>':
		p.g.Op = expr[i : i+1]
	case two == "=>":
		return fail(i, `"=>" is not an operator`, "did you mean >=?")
	case two == "=<":
		return fail(i, `"=<" is not an operator`, "did you mean <=?")
	case expr[i] == '=':
		return fail(i, `"=" is not an operator`, "write == to test equality, or >= / <=")
	default:
		return fail(i, `"!" is not an operator`, "write != to test inequality")
	}

	lhs := strings.TrimRightFunc(expr[:i], unicode.IsSpace)
	if lhs == "" {
		return fail(0, "missing TASK.METRIC.FIELD before the operator", shape)
	}
	if j := strings.IndexFunc(lhs, unicode.IsSpace); j >= 0 {
		return fail(j, "unexpected space", "task, metric and field are joined by dots without spaces, e.g. qa.token_f1.delta")
	}
	if err := p.parseLHS(lhs); err != nil {
		err.Expr = expr
		return p, err
	}

	after := i + len(p.g.Op)
	p.num = after + (len(expr[after:]) - len(strings.TrimLeftFunc(expr[after:], unicode.IsSpace)))
	rhs := expr[p.num:]
	if rhs == "" {
		return fail(len(expr), "missing threshold after "+p.g.Op, "write a number, e.g. 0 or -0.02")
	}
	v, err := strconv.ParseFloat(rhs, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		fix := "the threshold must be a finite number, e.g. 0 or -0.02"
		if n, perr := strconv.ParseFloat(strings.TrimSuffix(rhs, "%"), 64); perr == nil && strings.HasSuffix(rhs, "%") {
			fix = fmt.Sprintf("write fractions, not percentages: %s is %g", rhs, n/100)
		}
		return fail(p.num, fmt.Sprintf("threshold %q is not a number", rhs), fix)
	}
	p.g.Threshold = v
	return p, nil
}

// opIndex is the byte offset of the first of <>=! outside parentheses, or -1.
func opIndex(expr string) int {
	depth := 0
	for i := 0; i < len(expr); i++ {
		switch c := expr[i]; {
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth == 0 && strings.IndexByte("<>=!", c) >= 0:
			return i
		}
	}
	if depth > 0 {
		// An unclosed parenthesis: the operator may be inside it.
		return strings.IndexAny(expr, "<>=!")
	}
	return -1
}

// parseLHS splits TASK.METRIC.FIELD or TASK.FIELD. Offsets are into lhs,
// which starts where the expression does.
func (p *parsed) parseLHS(lhs string) *ExprError {
	fail := func(off int, msg, fix string) *ExprError {
		return &ExprError{Offset: off, Msg: msg, Fix: fix}
	}
	dot := strings.IndexByte(lhs, '.')
	switch {
	case dot < 0:
		return fail(len(lhs), fmt.Sprintf("missing field after %q", lhs), shape)
	case dot == 0:
		return fail(0, "empty task name", shape)
	}
	task, rest, restOff := lhs[:dot], lhs[dot+1:], dot+1
	p.g.Task, p.taskOff = task, 0
	if rest == "" {
		return fail(restOff, "missing field after task "+task, fieldsList)
	}
	if IsCountField(rest) {
		p.g.Field, p.metricOff, p.fieldOff = rest, restOff, restOff
		return nil
	}
	if k := strings.Index(rest, ".slice("); k >= 0 {
		return p.parseSlice(task, rest, restOff, k)
	}

	field := ""
	for _, f := range scoreFields {
		// The longest match wins: delta.ci_low over a metric named "….delta".
		if (rest == f || strings.HasSuffix(rest, "."+f)) && len(f) > len(field) {
			field = f
		}
	}
	if field == "" {
		return unknownField(task, rest, restOff)
	}
	if rest == field {
		return fail(restOff, fmt.Sprintf("%s needs a metric", field), fmt.Sprintf("write %s.METRIC.%s, e.g. %s.token_f1.%s", task, field, task, field))
	}
	metric := rest[:len(rest)-len(field)-1]
	if metric == "" {
		return fail(restOff, "empty metric name", fmt.Sprintf("write %s.METRIC.%s, e.g. %s.token_f1.%s", task, field, task, field))
	}
	p.g.Metric, p.g.Field = metric, field
	p.metricOff, p.fieldOff = restOff, restOff+len(metric)+1
	return nil
}

// parseSlice reads METRIC.slice(NAME).FIELD or METRIC.slice(NAME=GROUP).FIELD
// in rest, where the slice starts at byte k.
func (p *parsed) parseSlice(task, rest string, restOff, k int) *ExprError {
	fail := func(off int, msg, fix string) *ExprError {
		return &ExprError{Offset: off, Msg: msg, Fix: fix}
	}
	metric := rest[:k]
	if metric == "" {
		return fail(restOff, "empty metric name", fmt.Sprintf("write %s.METRIC.slice(NAME).min_delta, e.g. %s.token_f1.slice(category).min_delta", task, task))
	}
	open := k + len(".slice(")
	end := strings.IndexByte(rest[open:], ')')
	if end < 0 {
		return fail(restOff+len(rest), "missing ) after the slice name", "write slice(NAME) or slice(NAME=GROUP)")
	}
	inner := rest[open : open+end]
	name, group, hasGroup := strings.Cut(inner, "=")
	if name == "" {
		return fail(restOff+open, "empty slice name", "name one of the task's slices, e.g. slice(category)")
	}
	if hasGroup && group == "" {
		return fail(restOff+open+len(name)+1, "empty slice group after =", "write slice(NAME=GROUP), e.g. slice(category=coding), or slice(NAME) for the disparity across groups")
	}
	p.g.Metric, p.g.Slice, p.g.Group = metric, name, group
	p.metricOff, p.sliceOff = restOff, restOff+k+1
	after := open + end + 1
	if after >= len(rest) || rest[after] != '.' {
		return fail(restOff+after, "missing field after the slice", sliceList)
	}
	field, fieldOff := rest[after+1:], restOff+after+1
	known := sliceFields
	if hasGroup {
		known = scoreFields
	}
	if !contains(known, field) {
		fix := sliceList
		if hasGroup {
			fix = "a group takes the score fields: value, candidate, baseline, delta (each also with .ci_low and .ci_high), p_value, p_adjusted"
		}
		return fail(fieldOff, fmt.Sprintf("unknown field %q after slice(%s)", field, inner), fix+didYouMean(suggest(field, known)))
	}
	p.g.Field, p.fieldOff = field, fieldOff
	return nil
}

// unknownField explains a left-hand side whose end is no known field.
func unknownField(task, rest string, restOff int) *ExprError {
	last := strings.LastIndexByte(rest, '.')
	if last < 0 {
		// One word after the task: a misspelt count field, or a metric
		// without its field.
		if s := suggest(rest, countFields); s != "" {
			return &ExprError{Offset: restOff, Msg: fmt.Sprintf("unknown field %q", rest), Fix: fieldsList + didYouMean(s)}
		}
		return &ExprError{Offset: restOff + len(rest), Msg: fmt.Sprintf("missing field after metric %q", rest),
			Fix: fmt.Sprintf("e.g. %s.%s.value; %s", task, rest, fieldsList)}
	}
	seg, segOff := rest[last+1:], restOff+last+1
	if seg == "" {
		return &ExprError{Offset: segOff, Msg: "missing field after the last dot", Fix: fieldsList}
	}
	if IsCountField(seg) {
		return &ExprError{Offset: restOff, Msg: fmt.Sprintf("%s is counted per task and takes no metric", seg),
			Fix: fmt.Sprintf("write %s.%s", task, seg)}
	}
	if seg == "ci_low" || seg == "ci_high" {
		prev := rest[:last]
		prevOff := restOff
		if k := strings.LastIndexByte(prev, '.'); k >= 0 {
			prev, prevOff = prev[k+1:], restOff+k+1
		}
		if s := suggest(prev, estimates); s != "" && prev != rest[:last] {
			return &ExprError{Offset: prevOff, Msg: fmt.Sprintf("unknown field %q", prev+"."+seg), Fix: fieldsList + didYouMean(s+"."+seg)}
		}
		return &ExprError{Offset: segOff, Msg: fmt.Sprintf("%s must follow the estimate it bounds", seg),
			Fix: fmt.Sprintf("write value.%s, candidate.%s, baseline.%s or delta.%s", seg, seg, seg, seg)}
	}
	return &ExprError{Offset: segOff, Msg: fmt.Sprintf("unknown field %q", seg), Fix: fieldsList + didYouMean(suggest(seg, allFields))}
}

func didYouMean(s string) string {
	if s == "" {
		return ""
	}
	return " (did you mean " + s + "?)"
}

// suggest returns the entry of known closest to s by edit distance, or ""
// when none is close enough to be a likely typo. Ties go to the earlier entry.
func suggest(s string, known []string) string {
	best, bestD := "", 1+utf8.RuneCountInString(s)/4
	for _, k := range known {
		if strings.EqualFold(k, s) && k != s {
			return k
		}
		if d := distance(s, k); d <= bestD && (best == "" || d < distance(s, best)) && d < utf8.RuneCountInString(k) {
			best = k
		}
	}
	return best
}

// distance is the optimal string alignment distance: insertions, deletions,
// substitutions and transpositions of adjacent runes each cost one.
func distance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

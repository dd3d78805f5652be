package gate

import (
	"errors"
	"math"
	"os"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want Gate
	}{
		{"tickets.token_f1.delta >= 0", Gate{Task: "tickets", Metric: "token_f1", Field: "delta", Op: ">=", Threshold: 0}},
		{"tickets.token_f1.delta.ci_low>=-0.02", Gate{Task: "tickets", Metric: "token_f1", Field: "delta.ci_low", Op: ">=", Threshold: -0.02}},
		{"mmlu.acc.candidate > 0.6", Gate{Task: "mmlu", Metric: "acc", Field: "candidate", Op: ">", Threshold: 0.6}},
		{"code.pass@1.p_adjusted <= 0.05", Gate{Task: "code", Metric: "pass@1", Field: "p_adjusted", Op: "<=", Threshold: 0.05}},
		{"  qa.exact_match.value   <  1  ", Gate{Task: "qa", Metric: "exact_match", Field: "value", Op: "<", Threshold: 1}},
		{"qa.exact_match.value.ci_high == 1", Gate{Task: "qa", Metric: "exact_match", Field: "value.ci_high", Op: "==", Threshold: 1}},
		{"qa.bleu.baseline.ci_low != 0", Gate{Task: "qa", Metric: "bleu", Field: "baseline.ci_low", Op: "!=", Threshold: 0}},
		{"qa.bleu.p_value < 1e-3", Gate{Task: "qa", Metric: "bleu", Field: "p_value", Op: "<", Threshold: 0.001}},
		// A metric may contain dots; the field is the longest known ending.
		{"qa.rouge.L.delta.ci_high <= 0.1", Gate{Task: "qa", Metric: "rouge.L", Field: "delta.ci_high", Op: "<=", Threshold: 0.1}},
		{"qa.delta.delta >= 0", Gate{Task: "qa", Metric: "delta", Field: "delta", Op: ">=", Threshold: 0}},
		// Count fields take no metric.
		{"qa.failed == 0", Gate{Task: "qa", Field: "failed", Op: "==", Threshold: 0}},
		{"qa.failed_rate <= 0.01", Gate{Task: "qa", Field: "failed_rate", Op: "<=", Threshold: 0.01}},
		{"qa.empty < 3", Gate{Task: "qa", Field: "empty", Op: "<", Threshold: 3}},
		{"qa.empty_rate<0.5", Gate{Task: "qa", Field: "empty_rate", Op: "<", Threshold: 0.5}},
		{"qa.no_reference == 0", Gate{Task: "qa", Field: "no_reference", Op: "==", Threshold: 0}},
		{"qa.judge_failed_rate <= 0.02", Gate{Task: "qa", Field: "judge_failed_rate", Op: "<=", Threshold: 0.02}},
		// Slices: the disparity across groups, or one group's score fields.
		{"support.token_f1.slice(language).min_delta.ci_low > -0.05", Gate{Task: "support", Metric: "token_f1", Slice: "language", Field: "min_delta.ci_low", Op: ">", Threshold: -0.05}},
		{"qa.acc.slice(category).ratio >= 0.8", Gate{Task: "qa", Metric: "acc", Slice: "category", Field: "ratio", Op: ">=", Threshold: 0.8}},
		{"qa.acc.slice(category).gap <= 0.1", Gate{Task: "qa", Metric: "acc", Slice: "category", Field: "gap", Op: "<=", Threshold: 0.1}},
		{"qa.rouge.L.slice(q_length=≥1000).delta >= 0", Gate{Task: "qa", Metric: "rouge.L", Slice: "q_length", Group: "≥1000", Field: "delta", Op: ">=", Threshold: 0}},
		{"qa.acc.slice(lang=de).value.ci_low >= 0.5", Gate{Task: "qa", Metric: "acc", Slice: "lang", Group: "de", Field: "value.ci_low", Op: ">=", Threshold: 0.5}},
	}
	for _, c := range cases {
		g, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		c.want.Expr = strings.TrimSpace(c.in)
		if g != c.want {
			t.Errorf("Parse(%q) = %+v want %+v", c.in, g, c.want)
		}
		// The canonical form reads back as the same gate.
		again, err := Parse(g.String())
		again.Expr = g.Expr
		if err != nil || again != g {
			t.Errorf("Parse(%q.String() = %q) = %+v, %v", c.in, g.String(), again, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		in     string
		offset int
		msg    string // the whole Message(): problem; fix
	}{
		{"qa.acc.slice(lang.gap > 0", 21, "missing ) after the slice name; write slice(NAME) or slice(NAME=GROUP)"},
		{"qa.acc.slice().gap > 0", 13, "empty slice name; name one of the task's slices, e.g. slice(category)"},
		{"qa.acc.slice(lang=).gap > 0", 18, "empty slice group after =; write slice(NAME=GROUP), e.g. slice(category=coding), or slice(NAME) for the disparity across groups"},
		{"qa.acc.slice(lang) > 0", 18, "missing field after the slice; " + sliceList},
		{"qa.acc.slice(lang).gapp > 0", 19, `unknown field "gapp" after slice(lang); ` + sliceList + " (did you mean gap?)"},
		{"qa.acc.slice(lang=de).gap > 0", 22, `unknown field "gap" after slice(lang=de); a group takes the score fields: value, candidate, baseline, delta (each also with .ci_low and .ci_high), p_value, p_adjusted`},
		{"qa..slice(lang).gap > 0", 3, "empty metric name; write qa.METRIC.slice(NAME).min_delta, e.g. qa.token_f1.slice(category).min_delta"},
		{"", 0, "empty gate; " + shape},
		{"qa.exact_match.delta", 20, "missing operator; one of >= > <= < == != goes here; " + shape},
		{"qa.exact_match.delta 0", 20, "missing operator; one of >= > <= < == != goes here; " + shape},
		{"qa.exact_match.delta => 0", 21, `"=>" is not an operator; did you mean >=?`},
		{"qa.exact_match.delta =< 0", 21, `"=<" is not an operator; did you mean <=?`},
		{"qa.exact_match.delta = 0", 21, `"=" is not an operator; write == to test equality, or >= / <=`},
		{"qa.exact_match.delta ! 0", 21, `"!" is not an operator; write != to test inequality`},
		{"qa.exact_match.delta >= x", 24, `threshold "x" is not a number; the threshold must be a finite number, e.g. 0 or -0.02`},
		{"qa.exact_match.delta >=   NaN", 26, `threshold "NaN" is not a number; the threshold must be a finite number, e.g. 0 or -0.02`},
		{"qa.exact_match.delta >= inf", 24, `threshold "inf" is not a number; the threshold must be a finite number, e.g. 0 or -0.02`},
		{"qa.failed_rate <= 5%", 18, `threshold "5%" is not a number; write fractions, not percentages: 5% is 0.05`},
		{"qa.exact_match.delta >=", 23, "missing threshold after >=; write a number, e.g. 0 or -0.02"},
		{">= 0", 0, "missing TASK.METRIC.FIELD before the operator; " + shape},
		{"qa. exact_match.delta >= 0", 3, "unexpected space; task, metric and field are joined by dots without spaces, e.g. qa.token_f1.delta"},
		{"qa >= 0", 2, `missing field after "qa"; ` + shape},
		{".token_f1.delta >= 0", 0, "empty task name; " + shape},
		{"qa. >= 0", 3, "missing field after task qa; " + fieldsList},
		{"qa.delta >= 0", 3, "delta needs a metric; write qa.METRIC.delta, e.g. qa.token_f1.delta"},
		{"qa..delta >= 0", 3, "empty metric name; write qa.METRIC.delta, e.g. qa.token_f1.delta"},
		{"qa.exact_match.mean >= 0", 15, `unknown field "mean"; ` + fieldsList},
		{"qa.exact_match.delat >= 0", 15, `unknown field "delat"; ` + fieldsList + " (did you mean delta?)"},
		{"qa.exact_match.Value >= 0", 15, `unknown field "Value"; ` + fieldsList + " (did you mean value?)"},
		{"qa.exact_match.delat.ci_low >= 0", 15, `unknown field "delat.ci_low"; ` + fieldsList + " (did you mean delta.ci_low?)"},
		{"qa.exact_match.ci_low >= 0", 15, "ci_low must follow the estimate it bounds; write value.ci_low, candidate.ci_low, baseline.ci_low or delta.ci_low"},
		{"qa.exact_match. >= 0", 15, "missing field after the last dot; " + fieldsList},
		{"qa.exact_match >= 0", 14, `missing field after metric "exact_match"; e.g. qa.exact_match.value; ` + fieldsList},
		{"qa.faild <= 2", 3, `unknown field "faild"; ` + fieldsList + " (did you mean failed?)"},
		{"qa.token_f1.failed <= 2", 3, "failed is counted per task and takes no metric; write qa.failed"},
	}
	for _, c := range cases {
		_, err := Parse(c.in)
		var e *ExprError
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) = %v, want an *ExprError", c.in, err)
			continue
		}
		if e.Offset != c.offset || e.Message() != c.msg || e.Expr != strings.TrimSpace(c.in) {
			t.Errorf("Parse(%q):\n got offset %d %q\nwant offset %d %q", c.in, e.Offset, e.Message(), c.offset, c.msg)
		}
		if e.Offset < 0 || e.Offset > len(e.Expr) {
			t.Errorf("Parse(%q): offset %d outside the expression", c.in, e.Offset)
		}
	}
}

func TestExprErrorCaret(t *testing.T) {
	_, err := Parse("t.token_f1.delat >= 0")
	want := "t.token_f1.delat >= 0\n" +
		"           ^ unknown field \"delat\"; " + fieldsList + " (did you mean delta?)"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	e := &ExprError{Label: "gates[3]", Expr: "qa.bleu.delta >= ½", Offset: 17, Msg: "m", Fix: "f"}
	if got := e.Error(); got != "gates[3]: qa.bleu.delta >= ½\n"+strings.Repeat(" ", 27)+"^ m; f" {
		t.Errorf("label and caret: %q", got)
	}
}

var known = Known{Tasks: map[string][]string{
	"t":       {"token_f1", "bleu", "rougeL"},
	"tickets": {"token_f1"},
	"open":    nil, // metrics known only after the run
}, Slices: map[string][]string{"t": {"language", "length"}}}

func TestValidate(t *testing.T) {
	compared := known
	compared.Compared = true
	cases := []struct {
		in    string
		known Known
		want  string // the whole error text, "" for none
	}{
		{"t.token_f1.delta >= 0", compared, ""},
		{"t.rougeL.value.ci_low > 0.2", known, ""},
		{"t.bleu.candidate > 0.2", known, ""},
		{"t.failed_rate <= 0.01", known, ""},
		{"open.anything.value > 0", known, ""},
		{"t.tokenf1.delta >= 0", compared,
			"t.tokenf1.delta >= 0\n" +
				`  ^ unknown metric "tokenf1" in task t; known: token_f1, bleu, rougeL (did you mean token_f1?)`},
		{"tikets.token_f1.value >= 0", known,
			"tikets.token_f1.value >= 0\n" +
				`^ unknown task "tikets"; known: open, t, tickets (did you mean tickets?)`},
		{"qa.failed == 0", known,
			"qa.failed == 0\n" +
				`^ unknown task "qa"; known: open, t, tickets`},
		{"t.token_f1.delta.ci_low >= 0", known,
			"t.token_f1.delta.ci_low >= 0\n" +
				"           ^ delta.ci_low needs a comparison, and this plan compares no models; set compare.baseline and compare.candidate, or gate on value or candidate (the only model's score)"},
		// Every problem in one gate.
		{"t.blue.p_value < 0.05", known,
			"t.blue.p_value < 0.05\n" +
				`  ^ unknown metric "blue" in task t; known: token_f1, bleu, rougeL (did you mean bleu?)` + "\n" +
				"t.blue.p_value < 0.05\n" +
				"       ^ p_value needs a comparison, and this plan compares no models; set compare.baseline and compare.candidate, or gate on value or candidate (the only model's score)"},
		{"x.m.value > 0", Known{}, "x.m.value > 0\n" + `^ unknown task "x"; the plan has no tasks`},
		{"t.m.value > 0", Known{Tasks: map[string][]string{"t": {}}}, "t.m.value > 0\n" + `  ^ unknown metric "m" in task t; task t has no metrics`},
		{"t.bleu.slice(language).gap <= 0.1", known, ""},
		{"t.bleu.slice(langauge).gap <= 0.1", known,
			"t.bleu.slice(langauge).gap <= 0.1\n" +
				`       ^ unknown slice "langauge" in task t; known: language, length (did you mean language?)`},
		{"tickets.token_f1.slice(language).gap <= 0.1", known,
			"tickets.token_f1.slice(language).gap <= 0.1\n" +
				"                 ^ unknown slice \"language\" in task tickets; task tickets has no slices: add `slices: [{field: FIELD}]` to it in the plan"},
		{"t.bleu.slice(language).min_delta >= 0", known,
			"t.bleu.slice(language).min_delta >= 0\n" +
				"                       ^ min_delta needs a comparison, and this plan compares no models; set compare.baseline and compare.candidate, or gate on value or candidate (the only model's score)"},
	}
	for _, c := range cases {
		g, err := Parse(c.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.in, err)
		}
		err = Validate(g, c.known)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("Validate(%q):\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

// A gate built by hand has no positions of its own; Validate finds them in
// the canonical form.
func TestValidateHandBuilt(t *testing.T) {
	err := Validate(Gate{Task: "t", Metric: "blu", Field: "value", Op: ">", Threshold: 0.5}, known)
	want := "t.blu.value > 0.5\n" + `  ^ unknown metric "blu" in task t; known: token_f1, bleu, rougeL (did you mean bleu?)`
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

func TestValidateAll(t *testing.T) {
	gs, err := ValidateAll([]string{
		"t.token_f1.value >= 0.3",
		"t.tokenf1.delta >= 0",
		"t.failed_rate <= 5%",
		"tickets.failed == 0",
	}, known)
	if len(gs) != 2 || gs[0].Metric != "token_f1" || gs[1].Field != "failed" {
		t.Errorf("valid gates: %+v", gs)
	}
	want := "gates[1]: t.tokenf1.delta >= 0\n" +
		`            ^ unknown metric "tokenf1" in task t; known: token_f1, bleu, rougeL (did you mean token_f1?)` + "\n" +
		"gates[1]: t.tokenf1.delta >= 0\n" +
		"                    ^ delta needs a comparison, and this plan compares no models; set compare.baseline and compare.candidate, or gate on value or candidate (the only model's score)\n" +
		"gates[2]: t.failed_rate <= 5%\n" +
		`                           ^ threshold "5%" is not a number; write fractions, not percentages: 5% is 0.05`
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
	var e *ExprError
	if !errors.As(err, &e) || e.Label != "gates[1]" || e.Offset != 2 {
		t.Errorf("errors.As: %+v", e)
	}
	if gs, err := ValidateAll(nil, known); gs != nil || err != nil {
		t.Errorf("no gates: %v %v", gs, err)
	}
}

func TestCheckUsesInterval(t *testing.T) {
	look := func(v Value) Lookup { return func(Gate) Value { return v } }
	g, _ := Parse("t.m.delta >= 0")
	cases := []struct {
		v      Value
		want   Status
		reason string
	}{
		{Value{X: 0.05, Low: 0.01, High: 0.09, HasCI: true, Exists: true}, Pass, "0.05, interval [0.01, 0.09] is entirely >= 0"},
		{Value{X: 0.02, Low: -0.01, High: 0.05, HasCI: true, Exists: true}, Inconclusive, "0.02, interval [-0.01, 0.05] straddles 0: more items are needed to decide"},
		{Value{X: -0.05, Low: -0.09, High: -0.01, HasCI: true, Exists: true}, Fail, "-0.05, interval [-0.09, -0.01] is entirely outside >= 0"},
		{Value{X: math.NaN(), Exists: true}, Fail, "the value is undefined (no scored items)"},
		{Value{}, Fail, "no value for t.m.delta in this run"},
		{Value{Why: `no metric "m" in task t; known: a`}, Fail, `no metric "m" in task t; known: a`},
		{Value{Why: "no scored items: 5 of 5 failed", Failed: true}, Error, "no scored items: 5 of 5 failed"},
		{Value{Failed: true}, Error, "no scored items: every item failed"},
	}
	for _, c := range cases {
		if r := Check(g, look(c.v)); r.Status != c.want || r.Reason != c.reason {
			t.Errorf("%+v: %s (%s), want %s (%s)", c.v, r.Status, r.Reason, c.want, c.reason)
		}
	}
	gl, _ := Parse("t.m.delta.ci_low >= 0")
	if r := Check(gl, look(Value{X: -0.01, Exists: true})); r.Status != Fail || r.Reason != "-0.01 is not >= 0" {
		t.Errorf("ci_low gate: %s (%s)", r.Status, r.Reason)
	}
	// A count gate looks up its task and field with no metric.
	gc, _ := Parse("qa.failed <= 2")
	r := Check(gc, func(g Gate) Value {
		if g.Task != "qa" || g.Metric != "" || g.Field != "failed" {
			t.Errorf("lookup(%+v)", g)
		}
		return Value{X: 3, Exists: true}
	})
	if r.Status != Fail || r.Reason != "3 is not <= 2" {
		t.Errorf("count gate: %s (%s)", r.Status, r.Reason)
	}
}

func TestVerdict(t *testing.T) {
	cases := []struct {
		in   []Status
		want Status
	}{
		{nil, Pass},
		{[]Status{Pass, Pass}, Pass},
		{[]Status{Pass, Inconclusive}, Inconclusive},
		{[]Status{Inconclusive, Fail, Pass}, Fail},
		{[]Status{Fail, Error, Inconclusive}, Error},
		{[]Status{Error, Fail}, Error},
		{[]Status{Pass, Error}, Error},
	}
	for _, c := range cases {
		var rs []Result
		for _, s := range c.in {
			rs = append(rs, Result{Status: s})
		}
		if got := Verdict(rs); got != c.want {
			t.Errorf("Verdict(%v) = %s, want %s", c.in, got, c.want)
		}
	}
}

// Every field is documented in the package doc and in the gates section of
// docs/plan.md.
func TestFieldsDocumented(t *testing.T) {
	for _, file := range []string{"gate.go", "../../docs/plan.md"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		doc := string(data)
		if file == "gate.go" {
			doc, _, _ = strings.Cut(doc, "package gate")
		} else {
			_, doc, _ = strings.Cut(doc, "## `gates`")
			doc, _, _ = strings.Cut(doc, "\n## ")
		}
		for _, f := range append(append([]string{}, allFields...), sliceFields...) {
			if !strings.Contains(doc, f) {
				t.Errorf("%s does not document the field %s", file, f)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"qa.token_f1.delta.ci_low >= -0.02", "qa.failed_rate <= 5%", "t.m.value", "=>", "a.b.c != 1e9", ". . .", "qa.é.value > ½"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := Parse(s)
		if err != nil {
			var e *ExprError
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error %T", s, err)
			}
			if e.Offset < 0 || e.Offset > len(e.Expr) {
				t.Fatalf("Parse(%q) offset %d outside %q", s, e.Offset, e.Expr)
			}
			_ = e.Error()
			return
		}
		again, err := Parse(g.String())
		again.Expr = g.Expr
		if err != nil || again != g {
			t.Fatalf("Parse(%q) = %+v; its canonical form %q reads as %+v, %v", s, g, g.String(), again, err)
		}
		if err := Validate(g, Known{Tasks: map[string][]string{g.Task: {g.Metric}}, Compared: true}); err != nil {
			t.Fatalf("Validate(%q) against its own names: %v", s, err)
		}
	})
}

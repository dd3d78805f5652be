package gate

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want Gate
		err  string
	}{
		{in: "tickets.token_f1.delta >= 0", want: Gate{Task: "tickets", Metric: "token_f1", Field: "delta", Op: ">=", Threshold: 0}},
		{in: "tickets.token_f1.delta.ci_low>=-0.02", want: Gate{Task: "tickets", Metric: "token_f1", Field: "delta.ci_low", Op: ">=", Threshold: -0.02}},
		{in: "mmlu.acc.candidate > 0.6", want: Gate{Task: "mmlu", Metric: "acc", Field: "candidate", Op: ">", Threshold: 0.6}},
		{in: "code.pass@1.p_adjusted <= 0.05", want: Gate{Task: "code", Metric: "pass@1", Field: "p_adjusted", Op: "<=", Threshold: 0.05}},
		{in: "qa.exact_match.delta", err: "has no comparison"},
		{in: "qa.exact_match.delta >= x", err: "is not a number"},
		{in: "qa.exact_match.mean >= 0", err: "does not end in a known field"},
		{in: "qa.delta >= 0", err: "expected TASK.METRIC.delta"},
	}
	for _, c := range cases {
		g, err := Parse(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Parse(%q) err = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		c.want.Expr = strings.TrimSpace(c.in)
		if g != c.want {
			t.Errorf("Parse(%q) = %+v want %+v", c.in, g, c.want)
		}
	}
}

func TestCheckUsesInterval(t *testing.T) {
	look := func(v Value) Lookup { return func(string, string, string) Value { return v } }
	g, _ := Parse("t.m.delta >= 0")
	cases := []struct {
		v    Value
		want Status
	}{
		{Value{X: 0.05, Low: 0.01, High: 0.09, HasCI: true, Exists: true}, Pass},
		{Value{X: 0.02, Low: -0.01, High: 0.05, HasCI: true, Exists: true}, Inconclusive},
		{Value{X: -0.05, Low: -0.09, High: -0.01, HasCI: true, Exists: true}, Fail},
		{Value{Exists: false}, Fail},
	}
	for _, c := range cases {
		if r := Check(g, look(c.v)); r.Status != c.want {
			t.Errorf("%+v: %s (%s), want %s", c.v, r.Status, r.Reason, c.want)
		}
	}
	gl, _ := Parse("t.m.delta.ci_low >= 0")
	if r := Check(gl, look(Value{X: -0.01, Exists: true})); r.Status != Fail {
		t.Errorf("ci_low gate: %s", r.Status)
	}
}

func TestVerdict(t *testing.T) {
	if Verdict(nil) != Pass {
		t.Fatal("no gates should pass")
	}
	if Verdict([]Result{{Status: Pass}, {Status: Inconclusive}}) != Inconclusive {
		t.Fatal("want inconclusive")
	}
	if Verdict([]Result{{Status: Inconclusive}, {Status: Fail}}) != Fail {
		t.Fatal("want fail")
	}
}
